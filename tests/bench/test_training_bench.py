"""The training benchmark runs end to end on a small slice and prints the line the issue asks for."""

import re

import pytest

from gtransfer.bench.training import full_preset_graph_epochs, print_training_report, run_training_benchmark


def test_full_preset_projection_counts_every_trial_and_graph():
    # 6,300 trials over 177,180 graphs of which 80% train, 100 epochs, in BBBP training epochs (1,631 graphs)
    assert full_preset_graph_epochs(100) == pytest.approx(150 * 100 * 177_180 * 0.8 / 1631)
    assert full_preset_graph_epochs(50) == pytest.approx(full_preset_graph_epochs(100) / 2)


def test_training_benchmark_prints_both_engines_and_the_ratio(shared_data, capsys):
    result = run_training_benchmark(packs=(1, 2), epochs=1, device="cpu", max_graphs=30, root=str(shared_data), progress=False)
    engines = [(row["engine"], row["K"]) for row in result["rows"]]
    assert engines == [("sequential", 1), ("packed", 1), ("packed", 2)]
    for row in result["rows"]:
        assert row["seconds"] > 0 and row["epochs_per_s"] == pytest.approx(row["K"] / row["seconds"])
        assert row["full_preset_h"] == pytest.approx(full_preset_graph_epochs(100) / (row["epochs_per_s"] * result["train_graphs"] / 1631) / 3600)
    print_training_report(result)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"packed/sequential epochs per second at K=2: \d+\.\d\d", last)


def test_training_benchmark_takes_another_architecture_and_refuses_seeded_strings(shared_data):
    result = run_training_benchmark(packs=(2,), epochs=1, device="cpu", max_graphs=30, root=str(shared_data), progress=False,
                                    encoder="random:gcn:layers=2,dim=16")
    assert result["encoder"] == "random:gcn:layers=2,dim=16" and [r["K"] for r in result["rows"]] == [1, 2]
    with pytest.raises(ValueError, match="without seed="):
        run_training_benchmark(packs=(2,), epochs=1, device="cpu", max_graphs=30, root=str(shared_data), encoder="random:gin:seed=3")
