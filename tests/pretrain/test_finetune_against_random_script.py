"""The design behind experiments/finetune_against_random.py (gtransfer/studies/designs/finetune_against_random.py):
the paired gain and its criterion, and a run that pairs each seed's checkpoint trial with the random twin of the
same architecture, resumes (also from a torn last line), and summarises."""

from __future__ import annotations

import json
import math

import pytest

from gtransfer.io.jsonlines import TornLineWarning
from gtransfer.studies.designs import finetune_against_random as design
from tests.pretrain.helpers import pretrain_tiny


@pytest.fixture(scope="module")
def script():
    return design


def test_paired_gain_is_the_mean_paired_difference_and_its_standard_error(script):
    gain = script.paired_gain([0.70, 0.72, 0.74], [0.68, 0.70, 0.71], margin=0.01)
    assert gain["gain_mean"] == pytest.approx(0.07 / 3, abs=1e-12)
    # differences 0.02, 0.02, 0.03: sample sd 0.005774, / sqrt(3)
    assert gain["gain_se"] == pytest.approx(
        math.sqrt(((0.02 - 0.07 / 3) ** 2 * 2 + (0.03 - 0.07 / 3) ** 2) / 2) / math.sqrt(3), abs=1e-12
    )
    assert gain["seeds_won"] == 3 and gain["n"] == 3 and gain["met"] is True
    assert gain["pretrained_mean"] == pytest.approx(0.72) and gain["random_mean"] == pytest.approx(0.69666666, abs=1e-6)


def test_paired_gain_is_not_met_below_the_margin_against_the_order_or_inside_the_noise(script):
    assert script.paired_gain([0.70, 0.72, 0.74], [0.68, 0.70, 0.71], margin=0.03)["met"] is False  # below the margin
    swapped = script.paired_gain([0.68, 0.70, 0.71], [0.70, 0.72, 0.74], margin=0.01)
    assert swapped["gain_mean"] < 0 and swapped["seeds_won"] == 0 and swapped["met"] is False
    noisy = script.paired_gain([0.75, 0.67], [0.70, 0.70], margin=0.01)  # mean 0.01, standard error 0.04
    assert noisy["gain_mean"] == pytest.approx(0.01) and noisy["met"] is False
    with pytest.raises(ValueError, match="equal-length"):
        script.paired_gain([0.7, 0.7], [0.7], margin=0.01)


def test_a_run_pairs_each_seed_with_the_random_twin_and_resumes(script, shared_data, tmp_path, capsys):
    checkpoint = tmp_path / "cp.pt"
    pretrain_tiny(checkpoint, shared_data, epochs=1)
    assert script.random_twin(checkpoint, 3) == "random:gin:layers=2,dim=16,seed=3"
    out = tmp_path / "ft.jsonl"
    settings = {"checkpoint": str(checkpoint), "epochs": 2}

    def run():
        return script.finetune_against_random(str(checkpoint), datasets=["ogbg-molbbbp"], seeds=[0, 1], out=out,
                                              margin=0.01, settings=settings, epochs=2, patience=2,
                                              data_root=str(shared_data), device="cpu")

    run()
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["dataset"], r["seed"], r["random_spec"]) for r in rows] == [
        ("ogbg-molbbbp", 0, "random:gin:layers=2,dim=16,seed=0"),
        ("ogbg-molbbbp", 1, "random:gin:layers=2,dim=16,seed=1"),
    ]
    for r in rows:
        assert 0 < r["pretrained"] < 1 and 0 < r["random"] < 1 and r["pretrained"] != r["random"]
        assert 1 <= r["pretrained_best_epoch"] <= 2 and 1 <= r["random_best_epoch"] <= 2
    written = json.loads((tmp_path / "ft_summary.json").read_text())
    assert written["settings"] == settings
    summary = written["summary"]["ogbg-molbbbp"]
    assert summary == script.paired_gain([r["pretrained"] for r in rows], [r["random"] for r in rows], margin=0.01)

    capsys.readouterr()
    run()  # everything is done: nothing trains again, the file keeps its two rows
    assert out.read_text().count("\n") == 2
    assert '"random_spec"' not in capsys.readouterr().out  # no trial row printed: none ran

    # killed while appending seed 1: its line is torn; the rerun keeps seed 0 and runs seed 1 once more
    first, second = out.read_text().splitlines(keepends=True)
    out.write_text(first + second[: len(second) // 2])
    with pytest.warns(TornLineWarning, match=r"1 torn final line"):
        run()
    again = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["seed"] for r in again] == [0, 1] and again[0] == rows[0]
    assert {k: v for k, v in again[1].items() if k != "seconds"} == {k: v for k, v in rows[1].items() if k != "seconds"}
