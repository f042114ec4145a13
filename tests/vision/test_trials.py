"""Vision trial kinds: cached target embeddings, fine-tuning trials, and a vision sweep on the shared engine."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

from gtransfer.vision.data import images_to_tensor
from gtransfer.vision.embeddings import target_embeddings
from gtransfer.vision.targets import load_target, parse_target, target_name
from gtransfer.vision.zoo import SourceSpec, build_zoo, load_zoo_encoder

SOURCE = SourceSpec("tiny-cnn", "digits", (0, 1, 2, 3, 4), "cnn", {"width": 4, "embedding_dim": 12, "input_size": 8},
                    epochs=2, max_per_class=30, batch_size=16, lr=1e-2)
TARGETS = [
    "digits:k=3,ratio=1,max=40,seed=0",
    "digits:classes=5-6,ratio=2,max=40,seed=1",
    "digits:k=4,ratio=3,max=40,seed=2",
]


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("zoo")
    build_zoo([SOURCE], folder, progress=False)
    return folder


def test_target_names_round_trip_and_reject_bad_names():
    ref = parse_target("cifar10-test:classes=0-1-8-9,ratio=2.5,max=100,seed=3")
    assert (ref.dataset, ref.split, ref.classes, ref.imbalance_ratio, ref.max_per_class, ref.seed) == \
        ("cifar10", "test", (0, 1, 8, 9), 2.5, 100, 3)
    assert target_name("cifar10", "test", classes=[9, 8, 1, 0], imbalance_ratio=2.5, max_per_class=100, seed=3) == \
        "cifar10-test:classes=0-1-8-9,ratio=2.5,max=100,seed=3"
    assert parse_target(target_name("mnist", "train", num_classes=4, max_per_class=None, seed=1)) == \
        parse_target("mnist-train:k=4,seed=1")
    with pytest.raises(ValueError, match="must choose classes"):
        parse_target("cifar10-test")
    with pytest.raises(ValueError, match="class-subset options are"):
        parse_target("cifar10:3 classes=2")
    with pytest.raises(
        ValueError,
        match=r"old image-target grammar; write it as 'cifar10-test:classes=0-1-8-9,ratio=2.5,max=100,seed=3'",
    ):
        parse_target("cifar10-test/c0-1-8-9/r2.5/n100/s3")
    with pytest.raises(ValueError, match="exactly one"):
        target_name("mnist", "test")
    task = load_target(TARGETS[1])
    assert task.original_classes == (5, 6) and task.info.imbalance_ratio == pytest.approx(2.0)


def test_target_embeddings_are_the_encoder_outputs_and_cached(zoo, tmp_path):
    paths = target_embeddings("tiny-cnn", TARGETS[0], zoo, tmp_path)
    features, labels, probs = (np.load(paths[k]) for k in ("features", "labels", "source_probs"))
    task = load_target(TARGETS[0])
    encoder, head, meta = load_zoo_encoder(zoo / "tiny-cnn.pt")
    with torch.no_grad():
        expected = encoder.embed(images_to_tensor(task.train.images, input_shape=tuple(meta["input_shape"])))
        expected_probs = torch.softmax(torch.from_numpy(head.logits(expected.numpy())), 1)
    np.testing.assert_allclose(features, expected.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(labels, task.train.labels)
    assert probs.shape == (len(labels), 5)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-12)
    np.testing.assert_allclose(probs, expected_probs.numpy(), rtol=1e-4, atol=1e-6)
    stamp = paths["features"].stat().st_mtime_ns
    again = target_embeddings("tiny-cnn", TARGETS[0], zoo, tmp_path)
    assert again == paths and paths["features"].stat().st_mtime_ns == stamp
    with pytest.raises(FileNotFoundError, match="not found in zoo"):
        target_embeddings("nope", TARGETS[0], zoo, tmp_path)


def test_finetune_trial_is_repeatable_and_reports_the_majority_baseline(zoo):
    from gtransfer.studies.kinds.vision import vision_finetune_trial

    params = {"encoder": "tiny-cnn", "target": TARGETS[1], "zoo": str(zoo), "seed": 0, "mode": "linear",
              "epochs": 3, "lr": 1e-2}
    first = vision_finetune_trial(params)
    assert first == vision_finetune_trial(params)
    task = load_target(TARGETS[1])
    majority = np.bincount(task.train.labels).argmax()
    assert first["majority_accuracy"] == pytest.approx(np.mean(task.test.labels == majority))
    assert first["n_train"] == len(task.train) and first["num_classes"] == 2
    assert 0.0 <= first["test_accuracy"] <= 1.0 and first["epochs_run"] == 3
    with pytest.raises(ValueError, match="lack \\['zoo'\\]"):
        vision_finetune_trial({"encoder": "tiny-cnn", "target": TARGETS[1]})
    with pytest.raises(ValueError, match="mode must be"):
        vision_finetune_trial({**params, "mode": "partial"})


def test_score_trial_matches_the_metric_core_on_the_cached_features(zoo, tmp_path):
    from gtransfer.metrics import h_score, shrinkage_h_score
    from gtransfer.studies.kinds.vision import vision_score_trial

    result = vision_score_trial({"encoder": "tiny-cnn", "target": TARGETS[0], "zoo": str(zoo), "cache": str(tmp_path),
                                 "metrics": ["h_score", "shrinkage_h_score", "nce", "leep"]})
    paths = target_embeddings("tiny-cnn", TARGETS[0], zoo, tmp_path)
    features = np.load(paths["features"]).astype(np.float64)
    labels = np.load(paths["labels"])
    assert result["h_score"] == pytest.approx(h_score(features, labels), rel=1e-10)
    assert result["shrinkage_h_score"] == pytest.approx(shrinkage_h_score(features, labels), rel=1e-10)
    assert result["n"] == len(labels) and result["d"] == 12 and result["num_classes"] == 3
    assert result["nce"] <= 0.0 and np.isfinite(result["leep"])


def test_vision_sweep_runs_on_the_shared_engine_and_resumes(zoo, tmp_path):
    from gtransfer.studies.report import write_report
    from gtransfer.studies.runner import run_sweep
    from gtransfer.studies.spec import load_spec
    from gtransfer.studies.store import TrialStore

    spec = {
        "name": "vision-tiny", "encoders": ["tiny-cnn"], "targets": TARGETS,
        "params": {"zoo": str(zoo), "cache": "cache"},
        "stages": [{"kind": "vision_score", "params": {"metrics": ["h_score", "shrinkage_h_score"]}},
                   {"kind": "vision_finetune", "params": {"mode": "linear", "epochs": 2, "lr": 0.01}}],
        "report": {"candidate": "target", "group": "encoder", "scores": "vision_score", "truth": "vision_finetune",
                   "n_boot": 20},
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    parsed = load_spec(tmp_path / "spec.yaml")
    with TrialStore(tmp_path / "store.sqlite") as store:
        summary = run_sweep(parsed, store, progress=False)
        assert (summary.total, summary.succeeded, summary.failed) == (6, 6, 0)
        again = run_sweep(parsed, store, progress=False)
        assert (again.already_done, again.succeeded) == (6, 0)
    assert (tmp_path / "cache").is_dir(), "relative paths resolve against the spec's folder"
    reports = write_report(tmp_path / "store.sqlite", tmp_path / "report")
    text = reports[0].read_text()
    assert "shrinkage_h_score" in text and "Trials: 6 of 6 finished" in text
    # the report ranks the three targets by the scores and fine-tuning results this branch produced
    import pandas as pd
    from scipy.stats import spearmanr

    joined = pd.read_csv(reports[0].parent / "scores_and_truth.csv")
    with TrialStore(tmp_path / "store.sqlite") as store:
        truth = {r.params["target"]: r.result["test_accuracy"] for r in store.records(study="vision-tiny", status="ok")
                 if r.kind == "vision_finetune"}
    assert dict(zip(joined["target"], joined["test_accuracy"])) == pytest.approx(truth)
    per_group = pd.read_csv(reports[0].parent / "correlations_per_group.csv")
    row = per_group[(per_group.metric == "h_score") & (per_group.truth == "test_accuracy")].iloc[0]
    assert row["spearman"] == pytest.approx(spearmanr(joined["h_score"], joined["test_accuracy"]).statistic)
