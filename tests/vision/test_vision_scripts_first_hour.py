"""The vision scripts in a newcomer's first hour: a partial zoo is one list up front, the --help states the real
default data root, and missing data is one message, not a traceback."""

from __future__ import annotations

import pytest

from gtransfer.cli.common import DATA_ROOT_HELP
from gtransfer.studies.designs.vision import STUDIES
from gtransfer.studies.spec import parse_spec
from gtransfer.studies.validate import check_spec
from gtransfer.vision.zoo import PRESETS
from tests.study_helpers import load_experiment_script


def test_a_partial_zoo_is_one_list_of_the_missing_encoders_before_any_trial(tmp_path):
    """72 of 79 trials failed one by one ("encoder ... not found in zoo"); the spec check now lists each missing
    encoder once, before the first trial."""
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    names = [spec.name for spec in PRESETS["small"]]
    for name in names[:2]:
        (zoo / f"{name}.pt").write_bytes(b"")  # present: the check reads no weights
    spec = parse_spec(STUDIES["source-selection"]("small", zoo="zoo", cache="cache"), base_dir=tmp_path)
    with pytest.raises(ValueError) as caught:
        check_spec(spec)
    lines = str(caught.value).splitlines()
    assert lines[0].endswith("; no trial was run:")
    for name in names[2:]:
        assert sum(f"encoder {name!r} not found in zoo zoo" in line for line in lines) == 1, name
    assert not any(f"encoder {name!r}" in line for line in lines for name in names[:2])


def test_build_vision_zoo_help_states_the_real_default_data_root(capsys):
    script = load_experiment_script("build_vision_zoo")
    with pytest.raises(SystemExit):
        script.main(["--help"])
    assert " ".join(capsys.readouterr().out.split()).count(" ".join(DATA_ROOT_HELP.split())) == 1


def test_the_vision_scripts_without_data_end_in_one_message(tmp_path, monkeypatch, capsys):
    from gtransfer.cli.experiments import run_script

    script = load_experiment_script("build_vision_zoo")
    monkeypatch.setenv("GTRANSFER_CACHE", str(tmp_path / "cache"))
    argv = ["--data-root", str(tmp_path), "--out", str(tmp_path / "zoo"), "--only", PRESETS["small"][0].name]
    assert run_script(script.main, "build_vision_zoo.py", argv) == 2
    text = capsys.readouterr().err
    err = [line for line in text.splitlines() if "error:" in line or line.startswith("hint: ")]  # not the progress bar
    assert err[0].endswith("python experiments/build_vision_zoo.py: error: no image data found: looked for mnist/ or "
                           f"cifar10_jpeg/ in {tmp_path / 'vision'}, {tmp_path}; pass root= (the data root) or set "
                           "GTRANSFER_DATA to the folder that holds vision/")
    assert err[-1].startswith("hint: ") and len(err) == 2 and "Traceback" not in text
    assert run_script(script.main, "build_vision_zoo.py", ["--data-root", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err.startswith(
        f"python experiments/build_vision_zoo.py: error: --data-root {tmp_path / 'nope'} is not a folder (it does "
        "not exist)"
    )
