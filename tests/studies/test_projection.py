"""The device-hours a preset prints before it starts: trials counted once, graph-passes in BBBP epochs."""

import pytest

from gtransfer.studies.projection import BBBP_TRAIN_GRAPHS, project_finetuning, projection_lines, target_graphs
from gtransfer.studies.spec import parse_spec


def _spec(name: str, stages: list[dict]) -> dict:
    return {"name": name, "encoders": ["random:gin:seed=0", "random:gcn:seed=0"], "stages": stages}


def test_projection_counts_each_trial_once_and_its_graph_passes():
    finetune = {"kind": "graph_finetune", "seeds": [0, 1], "targets": ["ogbg-molbbbp", "ENZYMES:k=3,ratio=2,max=50"],
                "params": {"epochs": 10}}
    probe = {"kind": "graph_probe", "seeds": [0], "targets": ["ogbg-molbbbp"]}
    a = parse_spec(_spec("a", [finetune, probe]))
    b = parse_spec(_spec("b", [{**finetune, "targets": ["ogbg-molbbbp"]}]))  # the same trials again: counted once
    projection = project_finetuning([a, b])
    assert projection.trials == {"graph_finetune": 8, "graph_probe": 2}
    # per encoder and seed: 10 epochs x 0.8 x (2039 BBBP graphs + 150 = 3 classes x 50 ENZYMES graphs)
    expected = 2 * 2 * 10 * 0.8 * (2039 + 150) / BBBP_TRAIN_GRAPHS
    assert projection.bbbp_epochs == pytest.approx(expected)
    assert projection.hours(2.0) == pytest.approx(expected / 2.0 / 3600)
    lines = projection_lines(projection, measured_rate=2.0)
    assert lines[0] == "trials: 8 graph_finetune, 2 graph_probe"
    assert f"{expected / 2.0 / 3600:,.1f} device-hours at 2 BBBP epochs/s (measured here" in lines[2]


def test_target_graphs_caps_and_refuses_unknown_datasets():
    assert target_graphs("ogbg-molhiv") == 41127
    assert target_graphs("ogbg-molhiv", max_samples=4000) == 4000
    assert target_graphs("ogbg-moltox21:3") == 7831
    assert target_graphs("PROTEINS:k=2,ratio=4,max=100") == 200
    with pytest.raises(ValueError, match="no graph count for dataset 'Foo'.*known: the molecule datasets and COLLAB"):
        target_graphs("Foo")
    with pytest.raises(ValueError, match="must be positive"):
        project_finetuning([]).hours(0)


def test_a_full_preset_prints_its_projection_before_preparing_anything(tmp_path, capsys):
    import argparse

    from gtransfer.studies.experiment import run_experiment

    spec = _spec(
        "tiny-full", [{"kind": "graph_finetune", "seeds": [0], "targets": ["ogbg-molbace"], "params": {"epochs": 100}}]
    )
    args = argparse.Namespace(
        preset="full", project_only=True, device_rate=None, out=str(tmp_path), workers=1, engine="local"
    )

    def prepare() -> None:
        raise AssertionError("--project-only must stop before the zoo is built")

    assert run_experiment([spec], args, str(tmp_path), prepare=prepare) == []
    printed = capsys.readouterr().out
    hours = 2 * 100 * 0.8 * 1513 / BBBP_TRAIN_GRAPHS / 0.74 / 3600
    assert "full preset, before it starts:\ntrials: 2 graph_finetune" in printed
    assert f"{hours:,.1f} device-hours at 0.74 BBBP epochs/s" in printed
