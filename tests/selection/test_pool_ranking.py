"""``gtransfer rank`` with the pool-relative metrics (NCTI, ETran): computed from each encoder's embeddings,
combined over the encoders ranked."""

import numpy as np
import pytest

from gtransfer.cli import main
from gtransfer.embeddings.targets import target_embeddings
from gtransfer.metrics import POOL_METRIC_SPECS, etran, ncti
from gtransfer.selection.ranking import rank_encoders

TINY = ["random:gin:layers=1,dim=8,seed=0", "random:gin:layers=1,dim=8,seed=1", "random:gcn:layers=1,dim=8,seed=0"]


def test_rank_computes_pool_metrics_over_the_encoders_ranked():
    frame = rank_encoders("MUTAG", TINY, metrics=["etran", "ncti", "logme"], progress=False)
    assert list(frame["etran"]) == sorted(frame["etran"], reverse=True)  # ranked by the first metric
    pool = {encoder: target_embeddings(encoder, "MUTAG").part("train")[0].astype(np.float64) for encoder in TINY}
    labels = target_embeddings(TINY[0], "MUTAG").part("train")[1]
    for name, function in (("ncti", ncti), ("etran", etran)):
        expected = function(pool, labels)
        for encoder, value in zip(frame["encoder"], frame[name]):
            assert value == pytest.approx(expected[encoder], abs=1e-9), (name, encoder)
    smaller = rank_encoders("MUTAG", TINY[:2], metrics=["ncti"], progress=False).set_index("encoder")["ncti"]
    assert set(smaller.round(12)) <= {-1.0, 0.0, 1.0, 2.0}  # two models: each component normalises to 0 or 1


def test_rank_pool_metrics_on_a_multi_task_target_are_the_mean_over_tasks():
    frame = rank_encoders("ogbg-molclintox", TINY[:2], metrics=["etran"], max_samples=300, progress=False)
    pool, labels = {}, None
    for encoder in TINY[:2]:
        x, labels = target_embeddings(encoder, "ogbg-molclintox", max_samples=300).part("train")
        pool[encoder] = x.astype(np.float64)
    per_task = []
    for column in range(labels.shape[1]):
        rows = ~np.isnan(labels[:, column])
        y = labels[rows, column].astype(np.int64)
        if y.min() != y.max():
            per_task.append(etran({k: x[rows] for k, x in pool.items()}, y))
    assert len(per_task) == 2
    for encoder, value in zip(frame["encoder"], frame["etran"]):
        assert value == pytest.approx(np.mean([scores[encoder] for scores in per_task]), abs=1e-9)


def test_rank_refuses_a_pool_of_one_and_the_cli_says_the_values_are_relative(capsys):
    with pytest.raises(ValueError, match="pool-relative metrics \\(ncti: .*at least two encoders"):
        rank_encoders("MUTAG", TINY[:1], metrics=["ncti"], progress=False)
    assert main(["rank", "--target", "MUTAG", "--encoders", *TINY, "--metrics", "ncti,logme", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["rank", "encoder", "ncti", "logme", "n", "d"]
    assert "ncti: pool-relative, min-max over these 3 encoders" in out
    assert set(POOL_METRIC_SPECS) == {"ncti", "etran"}
