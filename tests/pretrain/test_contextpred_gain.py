"""The shipped context-prediction encoder (GIN 3 x 128, pretrained on all 1,584,663 MOSES training molecules
for 4 epochs; datasets/checkpoints/gtransfer/PROVENANCE.md) fine-tunes above random initialisations of the
same architecture on BBBP and Tox21, by the margins stated here (docs/results.md has the runs behind them).

Both go through ``experiments/finetune_against_random.py``: seed s is one pack of the checkpoint and
``random:gin:layers=3,dim=128,seed=s``, with the same head seed and data order, so each seed is a paired
difference of scaffold-test ROC-AUC.

* BBBP, the full protocol (seeds 0-9, at most 50 epochs, patience 10, 2 threads, about 6 minutes): the mean
  paired gain is at least 0.01 and more than two standard errors (the criterion declared before the run;
  measured +0.018 +- 0.006, 9 of 10 seeds). On Tox21 the same protocol ends level (-0.003 +- 0.003), so it
  is not asserted there.
* Tox21, a 5-epoch budget (seeds 0-2, 1 thread): the mean paired gain is at least 0.035 (measured 0.048).
  Random-weight stand-ins for the checkpoint gain 0.009-0.024 over the same random twins under this
  protocol (four initialisations), so 0.035 is a margin over what random weights reach by luck.
"""

from __future__ import annotations

import argparse

import pytest
import torch

from gtransfer.data.roots import EMBEDDED_DIR
from tests.study_helpers import load_experiment_script

pytestmark = [pytest.mark.slow, pytest.mark.experiment]

CHECKPOINT = EMBEDDED_DIR / "checkpoints" / "gtransfer" / "gin3x128_contextpred_moses.pt"


@pytest.fixture
def threads():
    """Set torch's thread count for one test (the runs behind the margins used these counts)."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


def _gain(dataset: str, data_root, seeds, epochs: int, patience: int, margin: float) -> dict:
    script = load_experiment_script("finetune_against_random")
    settings = argparse.Namespace(
        epochs=epochs, patience=patience, batch_size=32, lr=1e-3, data_root=data_root, device="cpu"
    )
    rows = [script.run_seed(str(CHECKPOINT), dataset, seed, settings) for seed in seeds]
    assert not [r["error"] for r in rows if "error" in r]
    return script.paired_gain([r["pretrained"] for r in rows], [r["random"] for r in rows], margin=margin)


def test_contextpred_fine_tunes_above_random_weights_on_bbbp(threads):
    threads(2)
    gain = _gain("ogbg-molbbbp", None, range(10), epochs=50, patience=10, margin=0.01)  # the embedded BBBP suffices
    assert gain["met"], gain  # >= 0.01 and > 2 standard errors
    assert gain["seeds_won"] >= 7, gain


@pytest.mark.shared_data
def test_contextpred_fine_tunes_above_random_weights_on_tox21_in_five_epochs(shared_data, threads):
    threads(1)
    gain = _gain("ogbg-moltox21", shared_data, range(3), epochs=5, patience=5, margin=0.035)
    assert gain["gain_mean"] >= 0.035, gain
