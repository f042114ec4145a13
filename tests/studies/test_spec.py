import pytest

from gtransfer.studies.keys import trial_key
from gtransfer.studies.spec import expand_trials, load_spec, parse_spec


def test_grid_expansion_counts_params_and_keys(tmp_path):
    raw = {
        "name": "s",
        "kind": "probe",
        "encoders": ["a", "b"],
        "targets": ["t1", "t2", "t3"],
        "seeds": [0, 1],
        "grid": {"lr": [0.1, 0.01], "mode": ["full", "linear"]},
        "params": {"epochs": 5},
    }
    trials = expand_trials(parse_spec(raw))
    assert len(trials) == 2 * 3 * 2 * 2 * 2
    assert len({t.key for t in trials}) == len(trials)
    first = trials[0]
    assert first.params == {"epochs": 5, "encoder": "a", "target": "t1", "seed": 0, "lr": 0.1, "mode": "full"}
    assert first.key == trial_key("probe", first.params)
    assert trials[-1].params == {"epochs": 5, "encoder": "b", "target": "t3", "seed": 1, "lr": 0.01, "mode": "linear"}


def test_yaml_file_gives_the_same_trials_and_base_dir(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("name: s\nkind: probe\nencoders: [a, b]\nseeds: [3]\ngrid: {lr: [0.1]}\n")
    spec = load_spec(path)
    assert spec.base_dir == tmp_path.resolve()
    same = parse_spec({"name": "s", "kind": "probe", "encoders": ["a", "b"], "seeds": [3], "grid": {"lr": [0.1]}})
    assert [t.key for t in expand_trials(spec)] == [t.key for t in expand_trials(same)]
    assert [t.params for t in expand_trials(spec)] == [
        {"encoder": "a", "seed": 3, "lr": 0.1},
        {"encoder": "b", "seed": 3, "lr": 0.1},
    ]


def test_stages_inherit_and_override_defaults():
    raw = {
        "name": "s",
        "encoders": ["a", "b"],
        "targets": ["t"],
        "seeds": [0, 1, 2],
        "params": {"features": "f", "labels": "y"},
        "stages": [{"kind": "score", "seeds": [0]}, {"kind": "probe", "params": {"l2": 1.0}}],
    }
    trials = expand_trials(parse_spec(raw))
    scores = [t for t in trials if t.kind == "score"]
    probes = [t for t in trials if t.kind == "probe"]
    assert len(scores) == 2 and len(probes) == 6
    assert probes[0].params == {"features": "f", "labels": "y", "l2": 1.0, "encoder": "a", "target": "t", "seed": 0}


def test_duplicate_trials_are_kept_once_with_a_count():
    raw = {"name": "s", "seeds": [0], "stages": [{"kind": "probe"}, {"kind": "probe"}, {"kind": "probe"}]}
    with pytest.warns(UserWarning, match="2 duplicate trial"):
        trials = expand_trials(parse_spec(raw))
    assert len(trials) == 1


@pytest.mark.parametrize(
    "raw, message",
    [
        ([1, 2], "must be a mapping"),
        ({"kind": "probe"}, "'name' is required"),
        ({"name": "s"}, "'kind'"),
        ({"name": "s", "kind": "probe", "seeds": ["a"]}, "list of integers"),
        ({"name": "s", "kind": "probe", "encoders": []}, "'encoders' must be a non-empty list"),
        ({"name": "s", "kind": "probe", "grid": {"lr": 0.1}}, "grid entry 'lr'"),
        ({"name": "s", "kind": "probe", "params": {"seed": 1}}, "'seed' is set by"),
        ({"name": "s", "kind": "probe", "workers": 3}, r"unknown field\(s\) \['workers'\]"),
        ({"name": "s", "kind": "probe", "params": {"lr": float("nan")}}, "finite"),
        ({"name": "s", "kind": "probe", "params": {"lr": 1}, "grid": {"lr": [1]}}, "both fixed params and grid"),
    ],
)
def test_invalid_specs_name_the_field(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_spec(raw)


def test_missing_and_invalid_yaml_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_spec(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_spec(bad)


# -- bounds checked before anything is expanded (docs/security.md) ------------------------------------
def _laughs(levels: int) -> str:
    lines = [
        "name: laughs", "kind: score", "params:",
        '  a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ]
    for i in range(1, levels):
        lines.append(f"  a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def _one_line_error(tmp_path, text: str, pattern: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=pattern) as error:
        load_spec(path)
    assert "\n" not in str(error.value) and str(path) in str(error.value)


def test_billion_laughs_spec_is_refused_before_expanding(tmp_path):
    text = _laughs(9)
    assert len(text) < 800  # the 700-byte file of the report, 10^9 values once expanded
    _one_line_error(tmp_path, text, r"expands to more than 1,000,000 values once its YAML aliases are expanded")
    assert load_spec(_write(tmp_path / "ok", _laughs(3))).stages[0]["params"]["a2"][0][0] == ["lol"] * 10


def _write(folder, text):
    folder.mkdir()
    (folder / "spec.yaml").write_text(text)
    return folder / "spec.yaml"


def test_many_aliases_deep_nesting_and_huge_files_are_refused(tmp_path):
    many = "name: n\nkind: score\nv: &v 1\nparams: {x: [" + ",".join(["*v"] * 1001) + "]}\n"
    _one_line_error(tmp_path, many, r"uses more than 1,000 YAML aliases")
    deep = "name: d\nkind: score\nparams: {x: " + "[" * 5000 + "]" * 5000 + "}\n"
    _one_line_error(tmp_path, deep, r"nests lists and mappings more than 64 levels deep \(line 3\)")
    huge = "name: h\nkind: score\nparams: {x: '" + "a" * (1 << 20) + "'}\n"
    _one_line_error(tmp_path, huge, r"is 1,048,6\d\d bytes, more than the 1,048,576 a spec may have")
    nested = "name: d\nkind: score\nparams: {x: " + "[" * 60 + "]" * 60 + "}\n"  # within the bound
    assert load_spec(_write(tmp_path / "ok", nested)).stages[0]["kind"] == "score"


def test_trial_count_is_bounded_before_expanding(tmp_path):
    seeds = list(range(10_000))
    grid = {f"g{i}": list(range(10)) for i in range(6)}  # 10^4 seeds x 10^6 grid points = 10^10 trials
    text = "name: big\nkind: score\nseeds: " + str(seeds) + "\ngrid: " + str(grid) + "\n"
    assert len(text) < 60_000
    _one_line_error(tmp_path, text, r"expands to 10,000,000,000 trials .* more than the 1,000,000 a study may hold")
    with pytest.raises(ValueError, match=r"2,000,000 trials"):
        parse_spec({"name": "two", "stages": [{"kind": "a", "seeds": list(range(1_000_000))},
                                              {"kind": "b", "seeds": list(range(1_000_000))}]})
