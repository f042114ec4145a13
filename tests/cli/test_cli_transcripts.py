"""What a user reads from each subcommand: whole errors, one vocabulary, embed -> score, spec checks, --version.

Each test runs the command as a user types it (``main([...])``) and checks the printed text or the
files it writes against the library's own values.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gtransfer.cli import main
from gtransfer.embeddings.targets import target_embeddings
from tests.cli.helpers import error_lines, score_files
from tests.study_helpers import probe_spec, write_embedding_study, write_spec

REPO = Path(__file__).resolve().parents[2]
TINY = ["random:gin:layers=1,dim=8,seed=0", "random:gin:layers=1,dim=8,seed=1", "random:gcn:layers=1,dim=8,seed=0"]


def _help(command: list[str], capsys) -> str:
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines: compare with single spaces


# -- the command itself -------------------------------------------------------------------------------
def test_version_and_a_help_that_imports_no_torch():
    from gtransfer import __version__

    version = subprocess.run(
        [sys.executable, "-m", "gtransfer.cli", "--version"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert version.stdout.strip() == f"gtransfer {__version__}"
    probe = ("import sys; from gtransfer.cli.app import build_parser; build_parser();"
             "print(sorted(m for m in ('torch', 'torch_geometric', 'numpy', 'pandas') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert loaded.stdout.strip() == "[]"  # `gtransfer --help` builds the parser alone: it stays fast


def test_data_root_help_states_the_real_default_and_old_spellings_are_hidden_aliases(capsys):
    for command in (["rank"], ["embed"], ["pretrain"], ["corpus"], ["demo"]):
        text = _help(command, capsys)
        assert (
            "--data-root DIR data root (default: $GTRANSFER_DATA if set, else $XDG_CACHE_HOME/gtransfer/data, which is "
            "~/.cache/gtransfer/data when XDG_CACHE_HOME is unset; the shipped datasets/ folder is searched after it)"
        ) in text
        assert "--root" not in text and "--limit" not in text
    for command in (["rank"], ["embed"], ["pretrain"], ["corpus"]):
        assert "--max-samples N" in _help(command, capsys)


# -- whole errors -------------------------------------------------------------------------------------
def test_a_missing_data_root_variable_is_an_error_naming_it(monkeypatch, capsys):
    monkeypatch.setenv("GTRANSFER_DATA", "/nope")
    assert main(["rank", "--target", "MUTAG", "--encoders", TINY[0], "--no-progress"]) == 2
    err = error_lines(capsys)
    assert (
        err[0]
        == "gtransfer rank: error: the environment variable GTRANSFER_DATA=/nope is not a folder (it does not exist)"
    )
    assert err[1].startswith("Fix: set GTRANSFER_DATA to the data root") and err[-1].startswith("hint: ")


def test_a_missing_data_root_option_is_the_same_error(tmp_path, capsys):
    """``--data-root /nope`` was ignored without a word (the shipped datasets/ answered instead); now refused."""
    assert main(["rank", "--target", "MUTAG", "--encoders", TINY[0], "--data-root", "/nope", "--no-progress"]) == 2
    err = error_lines(capsys)
    assert err[0] == "gtransfer rank: error: --data-root /nope is not a folder (it does not exist)"
    assert err[1].startswith("Fix: pass the data root") and err[-1].startswith("hint: ")
    (tmp_path / "file").write_text("")
    assert main(["embed", TINY[0], "MUTAG", "--data-root", str(tmp_path / "file")]) == 2
    assert error_lines(capsys)[0] == f"gtransfer embed: error: --data-root {tmp_path / 'file'} is not a folder"


def test_a_missing_dataset_error_is_whole_and_lists_the_datasets_present(tmp_path, capsys):
    assert (
        main(["rank", "--target", "PROTEINX", "--encoders", TINY[0], "--data-root", str(tmp_path), "--no-progress"])
        == 2
    )
    err = error_lines(capsys)
    assert err[0] == "gtransfer rank: error: TU dataset PROTEINX: no file found. Expected one of:"
    assert f"  {tmp_path / 'tu' / 'PROTEINX' / 'raw' / 'PROTEINX_A.txt'}" in err
    assert any(line.startswith("Fix: put the files at one of those paths") for line in err)
    present = next(line for line in err if line.startswith("Datasets present in these roots: "))
    assert "MUTAG" in present and "ogbg-molbace" in present  # the shipped datasets/
    assert err[-1].startswith("hint: ") and not any("allow_download" in line for line in err)


def test_an_unknown_published_name_lists_the_published_encoders(capsys):
    assert main(["embed", "published:gin_nope", "MUTAG"]) == 2
    err = error_lines(capsys)
    assert err[0].startswith(
        "gtransfer embed: error: encoder 'published:gin_nope': no published encoder 'gin_nope'; the published "
        "encoders are published:gcn_contextpred, published:gcn_supervised,"
    )


def test_yaml_errors_keep_line_and_column(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nkind: probe\nparams: {a: [1, 2}\n")
    assert main(["sweep", str(bad), "--store", str(tmp_path / "r.db")]) == 2
    assert error_lines(capsys)[0] == (
        f"gtransfer sweep: error: spec {bad} is not valid YAML: line 3, column 18: expected ',' or ']', "
        "but got '}' (while parsing a flow sequence)"
    )


# -- rank ----------------------------------------------------------------------------------------------
def test_rank_computes_several_metrics_from_one_embedding_per_encoder(monkeypatch, capsys):
    import gtransfer.embeddings.targets as targets
    from gtransfer.metrics import ledoit_wolf_shrinkage, score_all

    calls = []
    original = targets.target_embeddings
    monkeypatch.setattr(targets, "target_embeddings", lambda *a, **k: calls.append(a[0]) or original(*a, **k))
    assert main(["rank", "--target", "MUTAG", "--encoders", *TINY, "--metrics", "shrinkage_h_score,logme", "h_score",
                 "--format", "json", "--no-progress"]) == 0
    assert len(calls) == 3  # one embedding per encoder, whatever the number of metrics
    printed = json.loads(capsys.readouterr().out)
    assert printed["target"] == "MUTAG" and printed["skipped"] == {}
    rows = printed["ranking"]
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert list(rows[0]) == ["rank", "encoder", "shrinkage_h_score", "alpha", "h_score", "logme", "n", "d"]
    for row in rows:
        x, y = original(row["encoder"], "MUTAG").part("train")
        x = x.astype(np.float64)
        want = score_all(x, y, metrics=["shrinkage_h_score", "logme", "h_score"])
        for metric in ("shrinkage_h_score", "logme", "h_score"):
            assert row[metric] == pytest.approx(want[metric], rel=1e-9)
        assert row["alpha"] == pytest.approx(ledoit_wolf_shrinkage(x), rel=1e-9)
    values = [r["shrinkage_h_score"] for r in rows]
    assert values == sorted(values, reverse=True)
    assert (
        main(
            [
                "rank",
                "--target",
                "MUTAG",
                "--encoders",
                *TINY[:2],
                "--metric",
                "logme",
                "--format",
                "csv",
                "--no-progress",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "rank,encoder,logme,n,d" and len(lines) == 3


def test_rank_skips_an_encoder_that_cannot_read_the_target_with_the_reason(capsys):
    assert (
        main(["rank", "--target", "MUTAG", "--encoders", "published:gcn_contextpred", *TINY[:2], "--no-progress"]) == 0
    )
    captured = capsys.readouterr()
    assert "published:gcn_contextpred" not in captured.out and TINY[0] in captured.out
    assert captured.err.strip().splitlines()[-1] == (
        "skipped: published:gcn_contextpred reads molecule atoms (hu2020 features) and MUTAG has float node features; "
        "use a random:ARCH encoder or one trained on MUTAG's features")


# -- embed and score -----------------------------------------------------------------------------------
def test_embed_then_score_works_for_a_molecule_dataset(tmp_path, capsys):
    out = tmp_path / "bace.npy"
    assert (
        main(
            [
                "embed",
                TINY[0],
                "ogbg-molbace",
                "--max-samples",
                "60",
                "--cache",
                str(tmp_path / "cache"),
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    printed = json.loads(captured.out)
    ranked = target_embeddings(TINY[0], "ogbg-molbace", max_samples=60)  # --max-samples means what it means in rank
    n = len(ranked.labels)
    assert 55 <= n <= 60  # every split and class cut to the same share, each rounded
    assert printed == {"path": str(out), "from_cache": False, "shape": [n, 8],
                       "labels": str(out.with_suffix(".labels.npy")), "labels_shape": [n]}
    labels = np.load(out.with_suffix(".labels.npy"))
    assert labels.dtype == np.int64 and set(np.unique(labels)) == {0, 1}
    np.testing.assert_array_equal(labels, ranked.labels)
    np.testing.assert_allclose(np.load(out), ranked.features, rtol=1e-5, atol=1e-6)
    suggested = captured.err.strip().splitlines()[-1]
    assert suggested == f"next: gtransfer score --features {out} --labels {out.with_suffix('.labels.npy')}"
    assert main(shlex.split(suggested.removeprefix("next: gtransfer "))) == 0
    table = dict(line.split() for line in capsys.readouterr().out.strip().splitlines())
    from gtransfer.metrics import score_all

    want = score_all(np.load(out).astype(np.float64), labels)
    assert set(table) == set(want) and all(float(table[k]) == pytest.approx(want[k], rel=1e-9, abs=1e-12) for k in want)


def test_embed_takes_published_and_random_encoders_and_cora_train_is_ranks_train(shared_data, tmp_path, capsys):
    """Cora is not shipped (datasets/ has no Planetoid set): the shared data root must be there."""
    out = tmp_path / "cora.npy"
    encoder = "random:gcn:layers=1,dim=8,seed=0"
    assert (
        main(
            [
                "embed",
                encoder,
                "Cora",
                "--split",
                "train",
                "--cache",
                str(tmp_path / "c"),
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["shape"] == [
        2166,
        8,
    ]  # the target grammar's split, not the 140-node mask
    features, labels = target_embeddings(encoder, "Cora").part("train")  # what `gtransfer rank --target Cora` scores
    np.testing.assert_allclose(np.load(out), features, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.load(out.with_suffix(".labels.npy")), labels)
    assert main(["embed", "published:gcn_contextpred", "Cora", "--cache", str(tmp_path / "c")]) == 2
    assert error_lines(capsys)[0] == (
        "gtransfer embed: error: published:gcn_contextpred reads molecule atoms (hu2020 features) and Cora has "
        "float node features (1433 per node); use a random:ARCH encoder or one trained on Cora's features"
    )


def test_score_reads_csv_torch_and_npz_and_says_what_multi_task_labels_need(tmp_path, capsys):
    import pandas as pd
    import torch

    rng = np.random.default_rng(0)
    features = rng.standard_normal((50, 4))
    labels = (features[:, 0] + 0.5 * rng.standard_normal(50) > 0).astype(np.int64)
    np.save(tmp_path / "f.npy", features)
    np.save(tmp_path / "y.npy", labels)
    pd.DataFrame(features, columns=list("abcd")).assign(label=labels).to_csv(tmp_path / "t.csv", index=False)
    np.savetxt(tmp_path / "f_plain.csv", features, delimiter=",")
    torch.save({"features": torch.tensor(features), "labels": torch.tensor(labels)}, tmp_path / "e.pt")
    runs = {
        "npy": ["--features", str(tmp_path / "f.npy"), "--labels", str(tmp_path / "y.npy")],
        "csv": ["--features", str(tmp_path / "f_plain.csv"), "--labels", f"{tmp_path / 't.csv'}:label"],
        "pt": ["--features", str(tmp_path / "e.pt"), "--labels", f"{tmp_path / 'e.pt'}:labels"],
    }
    printed = {}
    for name, args in runs.items():
        assert main(["score", *args, "--metrics", "h_score,logme", "--format", "json"]) == 0, name
        printed[name] = json.loads(capsys.readouterr().out)
    assert printed["csv"] == pytest.approx(printed["npy"], rel=1e-12) and printed["pt"] == pytest.approx(
        printed["npy"], rel=1e-12
    )

    assert main(["score", "--features", str(tmp_path / "t.csv"), "--labels", f"{tmp_path / 't.csv'}:nope"]) == 2
    assert (
        error_lines(capsys)[0]
        == f"gtransfer score: error: labels file {tmp_path / 't.csv'} has no column 'nope'; "
        "its columns are ['a', 'b', 'c', 'd', 'label']"
    )

    tasks = np.stack([labels, 1 - labels], axis=1).astype(np.float32)
    tasks[:5, 1] = np.nan  # molecules without a label for task 1
    np.save(tmp_path / "tasks.npy", tasks)
    assert main(["score", "--features", str(tmp_path / "f.npy"), "--labels", str(tmp_path / "tasks.npy")]) == 2
    assert error_lines(capsys) == [
        "gtransfer score: error: the labels have shape (50, 2): 2 tasks (a multi-task dataset such as Tox21), and "
        "the metrics score "
        "one classification task at a time",
        "hint: choose a task with --task K (K in 0..1), or score each task with --task all",
    ]
    assert score_files(tmp_path / "f.npy", tmp_path / "tasks.npy", "--task", "all", "--metrics", "logme", "--format",
                       "csv") == 0
    captured = capsys.readouterr()
    assert captured.err.strip() == "task 1: 5 of 50 samples have no label; scored the other 45"
    rows = [line.split(",") for line in captured.out.strip().splitlines()]
    assert rows[0] == ["task", "logme", "label_entropy"]
    from gtransfer.metrics import logme

    assert float(rows[1][1]) == pytest.approx(logme(features, labels), rel=1e-9)
    assert float(rows[2][1]) == pytest.approx(logme(features[5:], 1 - labels[5:]), rel=1e-9)


def test_score_says_what_a_parquet_file_needs(tmp_path, capsys):
    import importlib.util

    if importlib.util.find_spec("pyarrow") or importlib.util.find_spec("fastparquet"):
        pytest.skip("a parquet engine is installed: the message for its absence cannot be shown")
    (tmp_path / "f.parquet").write_bytes(b"PAR1")
    assert main(["score", "--features", str(tmp_path / "f.parquet"), "--labels", str(tmp_path / "f.parquet")]) == 2
    assert error_lines(capsys)[0] == (
        f"gtransfer score: error: features file {tmp_path / 'f.parquet'} is a parquet file, and reading parquet "
        "needs pyarrow or fastparquet, neither of which is installed; pip install pyarrow, or save the array as "
        ".npy (np.save) or .csv"
    )


def test_the_cli_spells_the_array_formats_as_the_reader_does():
    from gtransfer.cli.score import ARRAY_FORMATS as CLI_FORMATS
    from gtransfer.io.arrays import ARRAY_FORMATS

    assert CLI_FORMATS == ARRAY_FORMATS


# -- sweep and report ----------------------------------------------------------------------------------
def test_sweep_finds_unknown_parameters_and_targets_before_any_trial(tmp_path, capsys):
    write_embedding_study(tmp_path)
    spec = probe_spec(name="typo", seeds=[0], l2=[1.0])
    spec["params"]["max_iters"] = 50
    path = write_spec(tmp_path, spec)
    assert main(["sweep", str(path), "--store", str(tmp_path / "r.db"), "--no-progress"]) == 2
    assert error_lines(capsys)[:2] == [
        "gtransfer sweep: error: spec 'typo' has 1 problem; no trial was run:",
        "  kind probe: unknown parameter 'max_iters' (did you mean 'max_iter'?); probe reads: encoder, features, "
        "hidden, l2, labels, "
        "max_iter, model, seed, target, test_fraction",
    ]
    graph = {"name": "g", "encoders": [TINY[0], "published:nope"], "targets": ["MUTAG", "MUTAGX", "ogbg-molnope"],
             "stages": [{"kind": "graph_score", "params": {"epoch": 2}}]}
    path = write_spec(tmp_path, graph, "graph.yaml")
    assert main(["sweep", str(path), "--store", str(tmp_path / "g.db"), "--no-progress"]) == 2
    err = error_lines(capsys)
    assert err[0] == "gtransfer sweep: error: spec 'g' has 4 problems; no trial was run:"
    assert err[1].startswith(
        "  kind graph_score: unknown parameter 'epoch'; graph_score reads: cache, data_root, device, encoder,"
    )
    assert any(
        line.startswith("  kind graph_score: encoder 'published:nope': no published encoder 'nope'") for line in err
    )
    assert any(
        line.startswith("  kind graph_score: target 'MUTAGX': no dataset 'MUTAGX' in the data roots; present: ")
        for line in err
    )
    assert any(line.startswith("  kind graph_score: unknown OGB molecule dataset 'ogbg-molnope'") for line in err)
    from gtransfer.studies.store import TrialStore

    with TrialStore(tmp_path / "g.db") as store:
        assert len(store) == 0  # found before the first trial


def test_sweep_lists_an_encoder_typo_behind_a_bad_target_and_unknown_report_fields_before_any_trial(tmp_path, capsys):
    """Validation stopped at the first problem of each (encoder, target), so a bad target hid every encoder typo,
    and ``report:`` fields were only refused by ``gtransfer report``, after the sweep."""
    graph = {"name": "g2", "encoders": [TINY[0], "published:nope"], "targets": ["MUTAGX"],
             "report": {"candidat": "encoder"}, "stages": [{"kind": "graph_score"}]}
    path = write_spec(tmp_path, graph, "graph.yaml")
    assert main(["sweep", str(path), "--store", str(tmp_path / "g.db"), "--no-progress"]) == 2
    err = error_lines(capsys)
    assert err[0] == "gtransfer sweep: error: spec 'g2' has 3 problems; no trial was run:"
    target = "  kind graph_score: target 'MUTAGX': no dataset 'MUTAGX' in the data roots; "
    encoder = "  kind graph_score: encoder 'published:nope': no published encoder 'nope'"
    assert sum(line.startswith(target) for line in err) == 1 and sum(line.startswith(encoder) for line in err) == 1
    assert any(line.startswith("  report: unknown field(s) ['candidat']; allowed: ") for line in err)


def test_the_printed_report_hint_is_a_command_that_works(tmp_path, capsys):
    spec = write_spec(tmp_path, probe_spec(name="broken", seeds=[0], l2=[1.0]))  # no embedding files: every trial fails
    store = tmp_path / "r.db"
    with pytest.warns(UserWarning, match="6 trial"):
        assert main(["sweep", str(spec), "--store", str(store), "--no-progress"]) == 1
    hint = capsys.readouterr().err.strip()
    command = hint.split("`")[1]
    assert command == f"gtransfer report --store {store}"
    assert main(shlex.split(command.removeprefix("gtransfer "))) == 0
    report = Path(capsys.readouterr().out.strip())
    assert report == tmp_path / "r-report" / "broken" / "report.md"
    assert f"(in {tmp_path / 'r-report'}/)" in hint
    assert "Trials: 0 of 6 finished, 6 failed" in report.read_text()
