"""Held-out check: gtransfer's weighted Kendall tau reproduces a published meta-evaluation from its public table
(tests/evaluation/data/PROVENANCE.md): ETran's CIFAR-100 score of the 11 SFDA models, printed as 0.900."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gtransfer.evaluation import weighted_kendall

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def cifar100():
    return pd.read_csv(DATA / "etran_cifar100.csv").set_index("model")


def _min_max(values: pd.Series) -> pd.Series:
    return (values - values.min()) / (values.max() - values.min())


def test_the_truth_is_sfdas_table(cifar100):
    table = pd.read_csv(DATA / "sfda_finetune_accuracy.csv").set_index("dataset")
    assert table.shape == (11, 11)
    assert table.loc["cifar100"].to_dict() == cifar100["finetune_accuracy"].to_dict()


def test_weighted_tau_of_etran_on_cifar100_is_the_printed_0_900(cifar100):
    etran = 0.15 * _min_max(cifar100["energy"]) + 0.85 * _min_max(cifar100["lda"])
    value = weighted_kendall(etran.to_numpy(), cifar100["finetune_accuracy"].to_numpy())
    assert f"{value:.3f}" == "0.900"
    # the rule is sensitive: the LDA column alone, or ETran against a shuffled truth, prints something else
    assert f"{weighted_kendall(cifar100['lda'].to_numpy(), cifar100['finetune_accuracy'].to_numpy()):.3f}" != "0.900"
    shuffled = np.random.default_rng(0).permutation(cifar100["finetune_accuracy"].to_numpy())
    assert f"{weighted_kendall(etran.to_numpy(), shuffled):.3f}" != "0.900"
