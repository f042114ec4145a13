"""The training benchmark runs end to end on a small slice and prints the line the issue asks for."""

import re

import pytest

from gtransfer.bench.training import print_training_report, run_training_benchmark


def test_training_benchmark_prints_both_engines_and_the_ratio(shared_data, capsys):
    result = run_training_benchmark(
        packs=(1, 2), epochs=1, device="cpu", max_graphs=30, root=str(shared_data), progress=False
    )
    engines = [(row["engine"], row["K"]) for row in result["rows"]]
    assert engines == [("sequential", 1), ("packed", 1), ("packed", 2)]
    for row in result["rows"]:
        assert row["seconds"] > 0 and row["epochs_per_s"] == pytest.approx(row["K"] / row["seconds"])
        # 30 graphs cut to a scaffold training split: a BBBP epoch (1,631 graphs) is 1631 / train_graphs of them
        assert row["bbbp_epochs_per_s"] == pytest.approx(row["epochs_per_s"] * result["train_graphs"] / 1631)
        assert row["trials_per_h"] == pytest.approx(row["bbbp_epochs_per_s"] * 3600 / 100)
    profiled = result["rows"][-1]  # the largest K's row carries the profiled epoch (CPU)
    assert 0 < profiled["gemm_s"] <= profiled["ops_s"] and 0 < profiled["gemm_share"] <= 1
    assert profiled["gemm_share"] == pytest.approx(profiled["gemm_s"] / profiled["wall_s"])
    assert profiled["other_ops"] and not {name for name, _ in profiled["other_ops"]} & {
        "aten::mm",
        "aten::addmm",
        "aten::bmm",
    }
    print_training_report(result)
    *_, gemms, _, projection, last = capsys.readouterr().out.strip().splitlines()
    assert re.match(r"packed CPU step at K=2 \(one profiled epoch\): \d+% of \d+\.\d\d s in GEMMs", gemms)
    assert re.fullmatch(r"packed/sequential epochs per second at K=2: \d+\.\d\d", last)
    # the rate the report hands to a preset's projection is the fastest row's, in BBBP epochs
    fastest = max(row["bbbp_epochs_per_s"] for row in result["rows"])
    rate = float(projection.rsplit("--device-rate ", 1)[1])
    assert projection.startswith(
        "project a preset at the fastest rate: python experiments/source_selection.py --preset full"
    )
    assert rate == pytest.approx(fastest, rel=5e-3)


def test_training_benchmark_takes_another_architecture_and_refuses_seeded_strings(shared_data):
    result = run_training_benchmark(
        packs=(2,),
        epochs=1,
        device="cpu",
        max_graphs=30,
        root=str(shared_data),
        progress=False,
        encoder="random:gcn:layers=2,dim=16",
    )
    assert result["encoder"] == "random:gcn:layers=2,dim=16" and [r["K"] for r in result["rows"]] == [1, 2]
    with pytest.raises(ValueError, match="without seed="):
        run_training_benchmark(
            packs=(2,), epochs=1, device="cpu", max_graphs=30, root=str(shared_data), encoder="random:gin:seed=3"
        )
