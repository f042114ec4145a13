"""The graph subcommands of gtransfer (rank, embed, finetune, pretrain, demo): normal path and one bad input."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from gtransfer.cli import main
from gtransfer.embeddings.targets import target_embeddings
from tests.cli.helpers import error_lines

TINY = ["random:gin:layers=1,dim=8,seed=0", "random:gin:layers=1,dim=8,seed=1", "random:gcn:layers=1,dim=8,seed=0"]


def test_rank_prints_encoders_by_metric_value(capsys):
    assert main(["rank", "--target", "MUTAG", "--encoders", *TINY, "--metric", "logme", "--no-progress"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["rank", "encoder", "logme", "n", "d"]
    rows = [line.split() for line in lines[1:]]
    assert [int(r[0]) for r in rows] == [1, 2, 3]
    from gtransfer.metrics import logme

    for _, encoder, value, _n, _d in rows:
        x, y = target_embeddings(encoder, "MUTAG").part("train")
        assert float(value) == pytest.approx(logme(x.astype(np.float64), y), rel=1e-5)
    values = [float(r[2]) for r in rows]
    assert values == sorted(values, reverse=True)


def test_rank_bad_inputs(capsys, tmp_path):
    assert main(["rank", "--target", "MUTAG", "--encoders", str(tmp_path / "none.pth")]) == 2
    assert (
        error_lines(capsys)[0]
        == f"gtransfer rank: error: encoder checkpoint {tmp_path / 'none.pth'} does not exist "
        "(or write published:NAME / random:ARCH)"
    )
    assert main(["rank", "--target", "MUTAG", "--encoders", TINY[0], "--metric", "accuracy"]) == 2
    assert error_lines(capsys)[0].startswith("gtransfer rank: error: unknown metric(s) ['accuracy']; choose from ")


def test_embed_writes_the_encoder_features(tmp_path, capsys):
    from gtransfer.io.checkpoints import save_checkpoint
    from gtransfer.models import build_encoder
    from gtransfer.models.specs import resolve_encoder

    encoder = resolve_encoder("random:gin:layers=2,dim=8,seed=4").load(node_features=7)
    path = save_checkpoint(tmp_path / "gin.pt", encoder.state_dict(), {"architecture": encoder.config})
    assert isinstance(build_encoder(encoder.config), type(encoder))
    out = tmp_path / "mutag.npy"
    assert main(["embed", str(path), "MUTAG", "--cache", str(tmp_path / "cache"), "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["shape"] == [188, 8] and printed["from_cache"] is False
    expected = target_embeddings(str(path), "MUTAG").features  # MUTAG order = dataset order
    np.testing.assert_allclose(np.load(out), expected, atol=1e-6)
    assert main(["embed", str(tmp_path / "missing.pt"), "MUTAG"]) == 2
    assert (
        error_lines(capsys)[0]
        == f"gtransfer embed: error: encoder checkpoint {tmp_path / 'missing.pt'} does not exist "
        "(or write published:NAME / random:ARCH)"
    )


def test_finetune_prints_the_trial_result(tmp_path, capsys):
    from gtransfer.studies.kinds.graph_finetune import graph_finetune_trial

    out = tmp_path / "result.json"
    assert (
        main(["finetune", "--encoder", TINY[0], "--target", "MUTAG", "--epochs", "1", "--seed", "2", "--out", str(out)])
        == 0
    )
    captured = capsys.readouterr()
    printed = json.loads(captured.out)
    assert printed == json.loads(out.read_text())
    reference = graph_finetune_trial(
        {
            "encoder": TINY[0],
            "target": "MUTAG",
            "seed": 2,
            "epochs": 1,
            "mode": "full",
            "lr": 1e-3,
            "patience": 5,
            "device": "cpu",
        }
    )
    # what was run is recorded beside the result: encoder, target, lr, seed, ..., the code version and the date
    ran = {key: printed.pop(key) for key in ("params", "code_version", "date")}
    assert printed == reference
    assert {k: ran["params"][k] for k in ("encoder", "target", "lr", "seed", "epochs", "mode")} == {
        "encoder": TINY[0], "target": "MUTAG", "lr": 1e-3, "seed": 2, "epochs": 1, "mode": "full"}
    from gtransfer.io.provenance import code_version

    assert ran["code_version"] == code_version() and ran["date"].startswith("20") and ran["date"].endswith("+00:00")
    assert captured.err.strip().splitlines()[-1] == (
        f"MUTAG: test rocauc {reference['test_metric']:.4g}, valid rocauc {reference['valid_metric']:.4g} "
        f"(ROC-AUC, higher is better), best epoch {reference['best_epoch']} of {reference['epochs_run']}")
    assert main(["finetune", "--encoder", TINY[0], "--target", "MUTAG:0"]) == 2
    assert "single-label dataset" in error_lines(capsys)[0]


def test_finetune_trains_every_combination_as_one_pack(tmp_path, capsys):
    from gtransfer.studies.kinds.graph_finetune import graph_finetune_trial

    out = tmp_path / "results.json"
    argv = [
        "finetune",
        "--encoder",
        *TINY,
        "--target",
        "MUTAG",
        "--epochs",
        "2",
        "--seed",
        "0",
        "1",
        "--lr",
        "0.01",
        "0.001",
        "--dtype",
        "float64",
        "--device",
        "cpu",
        "--no-progress",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == [
        "encoder",
        "seed",
        "lr",
        "wd",
        "mode",
        "valid",
        "rocauc",
        "test",
        "rocauc",
        "best",
        "epoch",
        "epochs",
    ]
    assert len(table) == 1 + 3 * 2 * 2
    listed = json.loads(out.read_text())
    assert all(set(r) >= {"params", "code_version", "date"} for r in listed)
    assert [(r["params"]["encoder"], r["params"]["seed"], r["params"]["lr"]) for r in listed] == [
        (e, s, lr) for e in TINY for s in (0, 1) for lr in (0.01, 0.001)]
    # a member of the pack has the result of its trial alone
    alone = graph_finetune_trial(listed[5]["params"])
    assert listed[5]["test_metric"] == pytest.approx(alone["test_metric"], abs=1e-6)
    assert listed[5]["train_loss"] == pytest.approx(alone["train_loss"], rel=1e-5)
    assert len({r["train_loss"][0] for r in listed}) == len(listed)


def test_finetune_on_cuda_without_a_usable_gpu_is_one_line(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present: CUDA is usable here")
    assert main(["finetune", "--encoder", TINY[0], "--target", "MUTAG", "--device", "cuda"]) == 2
    err = error_lines(capsys)
    assert err[0].startswith("gtransfer finetune: error: device 'cuda' was asked for, but this torch ")
    assert err[1] == "hint: use --device cpu, or leave the device out to use a GPU only when there is one"
    assert len(err) == 2


def test_pretrain_writes_a_loadable_checkpoint(shared_data, tmp_path, capsys):
    out = tmp_path / "zoo" / "gin.pt"
    command = ["pretrain", "--out", str(out), "--corpus", "zinc250k-3small", "--limit", "40", "--num-layers", "1",
               "--hidden-dim", "8", "--epochs", "1", "--root", str(shared_data)]
    assert main([*command, "--strategy", "attrmask"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["epochs_done"] == 1 and np.isfinite(printed["loss"])
    from gtransfer.io.checkpoints import load_checkpoint
    from gtransfer.models.specs import resolve_encoder

    _, metadata = load_checkpoint(out)
    assert metadata["complete"] is True
    assert resolve_encoder(str(out)).load().embedding_dim == 8
    assert main([*command, "--strategy", "supervised"]) == 2
    needs_labels = "the supervised strategy needs labels: pass dataset= (e.g. ogbg-moltoxcast), not a corpus"
    assert needs_labels in error_lines(capsys)[0]


@pytest.mark.slow
def test_demo_ranks_and_checks_against_finetuning(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--encoders", *TINY, "--max-samples", "120", "--epochs", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    table = pd.read_csv(out / "report" / "demo" / "scores_and_truth.csv")
    assert sorted(table["encoder"]) == sorted(TINY)
    from gtransfer.evaluation import spearman

    printed = float(re.search(r"shrinkage_h_score\s+Spearman ([+-]\d\.\d\d)", text).group(1))
    assert printed == pytest.approx(
        spearman(table["shrinkage_h_score"].to_numpy(), table["test_roc_auc"].to_numpy()), abs=0.006
    )
    assert main(["demo", "--encoders", *TINY[:2], "--out", str(out)]) == 2
    assert "at least 3 encoders" in error_lines(capsys)[0]


def test_rank_on_a_multi_task_target_reports_the_mean_over_tasks(capsys):
    from gtransfer.selection.task_scores import score_target

    assert (
        main(
            [
                "rank",
                "--target",
                "ogbg-molclintox",
                "--encoders",
                *TINY[:2],
                "--metric",
                "logme",
                "--max-samples",
                "300",
                "--no-progress",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["rank", "encoder", "logme", "n", "d", "tasks_scored"]
    for row in (line.split() for line in lines[1:]):
        embeddings = target_embeddings(row[1], "ogbg-molclintox", max_samples=300)
        x, y = embeddings.part("train")
        assert embeddings.task_kind == "multitask" and y.shape[1] == 2
        assert float(row[2]) == pytest.approx(score_target(x, y, "multitask", metrics=["logme"])["logme"], rel=1e-5)
        assert row[5] == "2"


@pytest.mark.shared_data
def test_rank_on_a_regression_target_uses_logme_regression(shared_data, capsys):
    from gtransfer.metrics import logme_regression

    root = ["--data-root", str(shared_data)]
    rank = ["rank", "--target", "ogbg-molesol", "--max-samples", "200", "--no-progress", *root]
    assert main([*rank, "--encoders", *TINY[:2]]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["rank", "encoder", "logme", "n", "d"]
    for row in (line.split() for line in lines[1:]):
        x, y = target_embeddings(row[1], "ogbg-molesol", max_samples=200, root=shared_data).part("train")
        assert y.dtype == np.float64 and float(row[2]) == pytest.approx(logme_regression(x, y), rel=1e-5)
    assert main([*rank, "--encoders", TINY[0], "--metric", "h_score"]) == 2
    assert error_lines(capsys)[0] == (
        "gtransfer rank: error: target ogbg-molesol: h_score does not apply to a regression target: "
        "it needs class labels; metrics with a regression form: logme"
    )


@pytest.mark.shared_data
def test_the_regression_path_says_regression_from_embed_to_score_and_finetune_says_rmse(shared_data, tmp_path, capsys):
    """ESOL: embed's ``next:`` command had no --regression, score then advised np.unique(...) (class encoding),
    and finetune's numbers did not say they were RMSE (lower is better)."""
    from gtransfer.metrics import logme_regression

    out = tmp_path / "esol.npy"
    assert main(["embed", TINY[0], "ogbg-molesol", "--max-samples", "120", "--data-root", str(shared_data), "--cache",
                 str(tmp_path / "c"), "--out", str(out), "--no-progress"]) == 0
    labels = out.with_suffix(".labels.npy")
    err = error_lines(capsys)
    assert err[0] == f"next: gtransfer score --features {out} --labels {labels} --regression"
    assert main(["score", "--features", str(out), "--labels", str(labels)]) == 2
    err = error_lines(capsys)
    assert err[0].startswith("gtransfer score: error: the labels are real values (e.g. ")
    assert "np.unique" not in "\n".join(err)
    assert err[0].endswith("): regression targets, not classes")
    assert err[1] == "hint: score them with --regression (LogME's regression form)"
    assert main(["score", "--features", str(out), "--labels", str(labels), "--regression", "--format", "json"]) == 0
    x, y = np.load(out), np.load(labels)
    expected = logme_regression(x.astype(np.float64), y.ravel())
    assert json.loads(capsys.readouterr().out)["logme"] == pytest.approx(expected, rel=1e-6)
    assert main(["finetune", "--encoder", TINY[0], "--target", "ogbg-molesol", "--max-samples", "120", "--epochs", "1",
                 "--data-root", str(shared_data), "--no-progress"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["metric"] == "rmse" and result["test_rmse"] == result["test_metric"]
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith(f"ogbg-molesol: test rmse {result['test_metric']:.4g}, valid rmse ")
    assert "(RMSE, lower is better)" in captured.err


def test_rank_and_embed_share_one_default_cache_and_a_rerun_embeds_nothing(tmp_path, monkeypatch, capsys):
    """rank re-embedded on every run unless --cache was given, and embed --cache did not reuse rank's entries."""
    from gtransfer.embeddings import embed

    monkeypatch.setenv("GTRANSFER_CACHE", str(tmp_path / "cache"))
    embedded: list[int] = []
    real = embed.embed_loader
    monkeypatch.setattr(embed, "embed_loader", lambda *a, **k: embedded.append(1) or real(*a, **k))
    command = ["rank", "--target", "MUTAG", "--encoders", *TINY[:2], "--metrics", "logme", "--no-progress",
               "--format", "json"]
    assert main(command) == 0
    first = json.loads(capsys.readouterr().out)["ranking"]
    assert len(embedded) == 2 and (tmp_path / "cache" / "embeddings").is_dir()  # default: $GTRANSFER_CACHE/embeddings
    assert main(command) == 0
    assert json.loads(capsys.readouterr().out)["ranking"] == first and len(embedded) == 2  # the rerun embedded nothing
    out = tmp_path / "mutag.npy"
    assert main(["embed", TINY[0], "MUTAG", "--split", "train", "--out", str(out), "--no-progress"]) == 0
    assert len(embedded) == 2, "embed took rank's entry"
    features, _ = target_embeddings(TINY[0], "MUTAG").part("train")  # computed afresh, without a cache
    np.testing.assert_allclose(np.load(out), features, rtol=1e-5, atol=1e-6)
    assert len(embedded) == 3
    assert main(["rank", "--target", "MUTAG", "--encoders", TINY[0], "--cache", str(tmp_path / "other"),
                 "--no-progress"]) == 0
    assert len(embedded) == 4 and (tmp_path / "other" / "embeddings").is_dir()  # --cache DIR: a root of its own


def test_rank_prints_why_a_refused_metric_is_nan_under_the_table(tmp_path, capsys):
    """A refused metric was shown as NaN without its reason."""
    from gtransfer.metrics import score_all

    command = ["rank", "--target", "MUTAG", "--encoders", TINY[0], "--metrics", "logme,nleep", "--max-samples", "30",
               "--cache", str(tmp_path), "--no-progress"]
    assert main(command) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["rank", "encoder", "logme", "nleep", "n", "d"] and lines[1].split()[3] == "NaN"
    x, y = target_embeddings(TINY[0], "MUTAG", max_samples=30).part("train")
    reason = score_all(x.astype(np.float64), y, metrics=["logme", "nleep"]).refused["nleep"]
    assert lines[2:] == [f"{TINY[0]}: nleep not scored: {reason}"]
    assert main([*command, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["refused"] == {TINY[0]: {"nleep": reason}}
