"""Graph targets, encoders by name, cached embeddings and the graph trial kinds, on the shipped MUTAG."""

import numpy as np
import pytest

from gtransfer.data.targets import load_target, parse_target, subsample_target
from gtransfer.embeddings.targets import target_embeddings
from gtransfer.selection.source_probs import cluster_source_probs

ENCODER = "random:gin:layers=2,dim=16,seed=0"


@pytest.fixture(scope="module")
def mutag():
    return load_target("MUTAG", seed=0)


def test_parse_target_grammar():
    assert parse_target("ogbg-molbbbp") == ("ogbg-molbbbp", None, {})
    assert parse_target("ogbg-moltox21:NR-AR") == ("ogbg-moltox21", "NR-AR", {})
    assert parse_target("ENZYMES:k=3,ratio=4,seed=1,max=60") == (
        "ENZYMES",
        None,
        {"k": 3.0, "ratio": 4.0, "seed": 1.0, "max": 60.0},
    )
    with pytest.raises(ValueError, match="needs exactly one of k= .how many classes. and classes="):
        parse_target("ENZYMES:ratio=2")
    with pytest.raises(ValueError, match="options are k=, classes=, ratio=, max=, seed="):
        parse_target("ENZYMES:k=2,width=3")
    with pytest.raises(ValueError, match="exactly one of k="):
        parse_target("ENZYMES:k=2,classes=3")
    with pytest.raises(ValueError, match="k must be an integer"):
        parse_target("ENZYMES:k=2.5")
    assert parse_target("cifar10-test:classes=3-5,max=20") == ("cifar10-test", None, {"classes": (3, 5), "max": 20})
    with pytest.raises(ValueError, match="classes= chooses classes of image targets"):
        load_target("ENZYMES:classes=0-1")
    with pytest.raises(ValueError, match="non-empty string"):
        parse_target("")


def test_mutag_target_splits_partition_the_samples(mutag):
    assert mutag.indices.size == 188 and mutag.level == "graph"
    positions = np.concatenate([mutag.splits[s] for s in ("train", "valid", "test")])
    assert np.array_equal(np.sort(positions), np.arange(188))
    assert mutag.info.class_counts == tuple(np.bincount(mutag.labels))
    train = mutag.labels[mutag.splits["train"]]
    assert abs(train.mean() - mutag.labels.mean()) < 0.02  # stratified


def test_class_subset_and_subsample_targets(mutag):
    subset = load_target("MUTAG:k=2,ratio=2,seed=0,max=40")
    counts = np.bincount(subset.labels)
    assert sorted(counts) == [20, 40]  # largest class = ratio x smallest, capped at max
    small = subsample_target(mutag, 60, seed=1)
    assert abs(small.indices.size - 60) <= 3
    for split in ("train", "valid", "test"):
        assert set(small.indices[small.splits[split]]) <= set(mutag.indices[mutag.splits[split]])
    with pytest.raises(ValueError, match="single-label dataset"):
        load_target("MUTAG:0")


def test_embeddings_cached_and_subset_rows_match_the_whole(tmp_path):
    whole = target_embeddings(ENCODER, "MUTAG")
    cached = target_embeddings(ENCODER, "MUTAG", cache=tmp_path)
    again = target_embeddings(ENCODER, "MUTAG", cache=tmp_path)
    assert whole.features.shape == (188, 16)
    np.testing.assert_array_equal(cached.features, again.features)
    np.testing.assert_allclose(whole.features, cached.features, rtol=0, atol=1e-6)
    part = target_embeddings(ENCODER, "MUTAG", max_samples=40, sample_seed=3, cache=tmp_path)  # embedded alone
    sub = subsample_target(load_target("MUTAG", seed=3), 40, seed=3)  # sample_seed also seeds the split
    np.testing.assert_allclose(part.features, whole.features[sub.indices], atol=1e-5)
    assert len([entry for entry in tmp_path.iterdir() if (entry / "meta.json").is_file()]) == 2, (
        "whole dataset + subsample"
    )


def test_graph_probe_matches_a_direct_logistic_regression(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from gtransfer.studies.kinds.graph import graph_probe_trial

    result = graph_probe_trial({"encoder": ENCODER, "target": "MUTAG", "seed": 0, "cache": str(tmp_path), "l2": 0.5})
    emb = target_embeddings(ENCODER, "MUTAG", cache=tmp_path)
    (x_train, y_train), (x_test, y_test) = emb.part("train"), emb.part("test")
    scaler = StandardScaler().fit(x_train)
    model = LogisticRegression(C=0.5, max_iter=500).fit(scaler.transform(x_train), y_train)
    assert result["test_accuracy"] == pytest.approx(np.mean(model.predict(scaler.transform(x_test)) == y_test))
    assert result["majority_accuracy"] == pytest.approx(np.mean(y_test == np.bincount(y_train).argmax()))
    assert (result["n_train"], result["n_test"]) == (len(y_train), len(y_test))


def test_graph_score_is_score_all_on_the_training_split(tmp_path):
    from gtransfer.metrics import score_all
    from gtransfer.studies.kinds.graph import graph_score_trial

    metrics = ["shrinkage_h_score", "logme", "nce", "leep"]
    result = graph_score_trial(
        {
            "encoder": ENCODER,
            "target": "MUTAG",
            "seed": 0,
            "cache": str(tmp_path),
            "metrics": metrics,
            "source": "kmeans-stand-in",
            "source_clusters": 8,
        }
    )
    x, y = target_embeddings(ENCODER, "MUTAG", cache=tmp_path).part("train")
    x = x.astype(np.float64)
    expected = score_all(x, y, source_probs=cluster_source_probs(x, num_clusters=8, seed=0), metrics=metrics)
    for name in metrics:
        assert result[name] == pytest.approx(expected[name], rel=1e-10)
    assert (result["n"], result["d"], result["num_classes"]) == (len(y), 16, 2)
    counts = np.bincount(y)
    assert (
        result["imbalance_ratio"] == pytest.approx(counts.max() / counts.min()) and result["imbalance_ratio"] > 1.5
    )  # MUTAG: 125 vs 63
    assert (
        result["nce_leep_source"] == "kmeans-stand-in: k-means of the target's own embeddings, Z=8 (not a source model)"
    )


def test_graph_finetune_is_repeatable(tmp_path):
    from gtransfer.studies.kinds.graph_finetune import graph_finetune_trial

    params = {"encoder": ENCODER, "target": "MUTAG", "seed": 1, "epochs": 1, "batch_size": 32}
    first, second = graph_finetune_trial(params), graph_finetune_trial(params)
    assert first == second
    assert first["metric"] == "rocauc" and 0.0 <= first["test_roc_auc"] <= 1.0 and first["epochs_run"] == 1


def test_graph_finetune_refuses_node_targets(shared_data):
    from gtransfer.studies.kinds.graph_finetune import graph_finetune_trial

    with pytest.raises(ValueError, match="node-level"):
        graph_finetune_trial(
            {"encoder": ENCODER, "target": "Cora:k=2,max=20", "seed": 0, "data_root": str(shared_data)}
        )


def test_cluster_source_probs_are_row_stochastic_and_validate():
    rng = np.random.default_rng(0)
    probs = cluster_source_probs(rng.standard_normal((60, 5)), num_clusters=6, seed=0)
    assert probs.shape == (60, 6)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    assert probs.max(axis=1).mean() > 1 / 6
    with pytest.raises(ValueError, match="at least num_clusters=6"):
        cluster_source_probs(rng.standard_normal((4, 5)), num_clusters=6)
    with pytest.raises(ValueError, match="finite 2-D"):
        cluster_source_probs(np.full((10, 2), np.nan), num_clusters=2)


def test_encoder_specs_and_published_files(shared_data):
    from gtransfer.models.specs import PUBLISHED_ENCODERS, published_encoder_path, resolve_encoder

    with pytest.raises(ValueError, match="random:ARCH"):
        resolve_encoder("random:mlp")
    with pytest.raises(ValueError, match="options are layers=, dim=, seed="):
        resolve_encoder("random:gin:width=3")
    with pytest.raises(ValueError, match="no published encoder 'gin_nothing'.*published:gcn_contextpred"):
        resolve_encoder("published:gin_nothing", root=shared_data)
    with pytest.raises(FileNotFoundError, match="published encoder gin_nothing"):
        published_encoder_path("gin_nothing", root=shared_data)
    assert len(PUBLISHED_ENCODERS) == 9
    spec = resolve_encoder("published:gat_contextpred", root=shared_data)
    path = spec.path
    assert path == shared_data / "checkpoints/pretrain_gnns/chem/gat_contextpred.pth"
    assert (spec.kind, spec.featurizer, spec.name) == ("published", "hu2020", "published:gat_contextpred")
    sums = dict(line.split()[::-1] for line in (path.parent / "SHA256SUMS").read_text().splitlines() if line.strip())
    assert spec.identity == {"spec": "gat_contextpred.pth", "sha256": sums[path.name]}
    assert spec.load().embedding_dim == 300
    assert resolve_encoder(spec) is spec, "a resolved spec passes through unchanged"


def test_multi_task_target_through_score_and_finetune_inputs(tmp_path):
    """``ogbg-molclintox`` as one target: scored task by task (mean), fine-tuned with 2 logits and NaN labels kept."""
    import torch

    from gtransfer.studies.kinds.graph import graph_finetune_inputs, graph_score_trial

    params = {"encoder": ENCODER, "target": "ogbg-molclintox", "seed": 0, "cache": str(tmp_path), "max_samples": 300}
    result = graph_score_trial({**params, "metrics": ["logme", "gbc"], "source_clusters": 0})
    assert result["tasks_scored"] == 2 and result["tasks_skipped"] == 0 and "num_classes" not in result
    _, loaders, task, target = graph_finetune_inputs(params, batch_size=500)
    assert (task.kind, task.num_outputs) == ("multilabel", 2) and target.task_kind == "multitask"
    y = torch.cat([batch.y for batch in loaders["test"]])  # the test loader keeps the split's order
    want = torch.as_tensor(target.labels[target.splits["test"]], dtype=torch.float32)
    assert y.shape == want.shape == (len(target.splits["test"]), 2)
    assert torch.equal(torch.isnan(y), torch.isnan(want)) and torch.equal(torch.nan_to_num(y), torch.nan_to_num(want))


@pytest.mark.parametrize(
    ("target", "metric", "best"), [("ogbg-molesol", "rmse", min), ("ogbg-moltox21", "rocauc", max)]
)
def test_graph_finetune_trains_regression_and_multi_task_targets_and_keeps_the_best_epoch(
    shared_data, target, metric, best
):
    from gtransfer.studies.kinds.graph_finetune import graph_finetune_trial

    result = graph_finetune_trial(
        {
            "encoder": ENCODER,
            "target": target,
            "seed": 0,
            "epochs": 4,
            "patience": 4,
            "lr": 0.01,
            "max_samples": 300,
            "batch_size": 32,
            "device": "cpu",
            "data_root": str(shared_data),
        }
    )
    assert result["metric"] == metric
    key = {"rmse": "test_rmse", "rocauc": "test_roc_auc"}[metric]
    assert result[key] == result["test_metric"] and "majority_accuracy" not in result
    # early stopping keeps the best validation epoch in the metric's own direction (the lowest RMSE)
    assert result["valid_metric"] == pytest.approx(best(result["valid_curve"]), abs=1e-6)
    assert result["valid_curve"].index(best(result["valid_curve"])) + 1 == result["best_epoch"]
    assert result["train_loss"][-1] < result["train_loss"][0]


def test_graph_score_from_fewer_training_samples_scores_that_sample_only(tmp_path):
    from gtransfer.data.splits import stratified_sample
    from gtransfer.metrics import score_all
    from gtransfer.studies.kinds.graph import graph_score_trial

    metrics = ["h_score", "shrinkage_h_score", "logme"]
    params = {
        "encoder": ENCODER,
        "target": "MUTAG",
        "seed": 0,
        "cache": str(tmp_path),
        "metrics": metrics,
        "sample_seed": 3,
    }
    small = graph_score_trial({**params, "train_samples": 40})
    whole = graph_score_trial(params)
    x, y = target_embeddings(ENCODER, "MUTAG", cache=tmp_path, sample_seed=3).part(
        "train"
    )  # sample_seed also seeds the split
    rows = stratified_sample(y, 40, seed=3)
    expected = score_all(x[rows].astype(np.float64), y[rows], metrics=metrics)
    assert small["n"] == 40 and whole["n"] == len(y) > 40
    for name in metrics:
        assert small[name] == pytest.approx(expected[name], rel=1e-10)
        assert small[name] != pytest.approx(whole[name], rel=1e-3)


def test_graph_probe_on_a_regression_target_is_closed_form_ridge(shared_data, tmp_path):
    from gtransfer.studies.kinds.graph import graph_probe_trial

    params = {
        "encoder": "random:gin:layers=2,dim=16,seed=0",
        "target": "ogbg-molesol",
        "seed": 0,
        "cache": str(tmp_path),
        "l2": 0.5,
        "data_root": str(shared_data),
        "max_samples": 300,
    }
    result = graph_probe_trial(params)
    emb = target_embeddings(params["encoder"], "ogbg-molesol", cache=tmp_path, root=shared_data, max_samples=300)
    (x, y), (x_test, y_test) = emb.part("train"), emb.part("test")
    mean, std = x.mean(0), x.std(0)
    std[std == 0] = 1.0
    xs, xt = (x - mean) / std, (x_test - mean) / std
    w = np.linalg.solve(xs.T @ xs + 2.0 * np.eye(xs.shape[1]), xs.T @ (y - y.mean()))  # alpha = 1 / C = 2
    errors = xt @ w + y.mean() - y_test
    assert result["test_rmse"] == pytest.approx(np.sqrt(np.mean(errors**2)), rel=1e-4)
    assert result["test_mae"] == pytest.approx(np.mean(np.abs(errors)), rel=1e-4)
    assert (result["n_train"], result["n_test"]) == (len(y), len(y_test))


def test_graph_metric_timing_times_every_metric_alone_on_the_real_embeddings(tmp_path):
    from gtransfer.metrics.registry import FEATURE_METRICS
    from gtransfer.studies.kinds.graph import graph_metric_timing_trial

    params = {"encoder": ENCODER, "target": "MUTAG", "seed": 0, "cache": str(tmp_path), "repeats": 2}
    result = graph_metric_timing_trial(params)
    assert (result["n"], result["d"], result["num_classes"]) == (
        len(target_embeddings(ENCODER, "MUTAG", cache=tmp_path).part("train")[1]),
        16,
        2,
    )
    assert all(0 < result[f"seconds_{name}"] < 60 for name in FEATURE_METRICS if name != "nleep")
    few = graph_metric_timing_trial({**params, "train_samples": 20, "metrics": ["shrinkage_h_score", "nleep"]})
    assert few["n"] == 20 and few["seconds_shrinkage_h_score"] > 0
    assert np.isnan(few["seconds_nleep"]) and "N-LEEP" in few["skipped_nleep"]  # refused on 20 samples, said why
    with pytest.raises(ValueError, match="leep needs a source head, and random:gin.* has none"):
        graph_metric_timing_trial({**params, "metrics": ["leep"]})


def test_graph_finetune_softmax_head_judges_a_binary_target_by_accuracy(mutag):
    """``head: softmax`` trains MUTAG (binary) as two classes: accuracy on the test split and its majority baseline."""
    from gtransfer.evaluation import majority_accuracy
    from gtransfer.studies.kinds.graph_finetune import check_finetune_trial, graph_finetune_trial

    params = {
        "encoder": ENCODER,
        "target": "MUTAG",
        "seed": 0,
        "epochs": 3,
        "batch_size": 32,
        "device": "cpu",
        "head": "softmax",
    }
    result = graph_finetune_trial(params)
    test, train = mutag.labels[mutag.splits["test"]], mutag.labels[mutag.splits["train"]]
    assert result["metric"] == "accuracy" and "test_roc_auc" not in result
    assert result["test_accuracy"] == result["test_metric"]
    assert result["test_accuracy"] * test.size == pytest.approx(round(result["test_accuracy"] * test.size), abs=1e-9)
    assert (
        result["majority_accuracy"]
        == majority_accuracy(test, train_labels=train)
        == pytest.approx(np.mean(test == np.bincount(train).argmax()))
    )
    assert "majority_accuracy" not in graph_finetune_trial({**params, "head": "task"}), (
        "the default head is the target's own"
    )
    with pytest.raises(ValueError, match="head must be one of"):
        check_finetune_trial({**params, "head": "sigmoid"})


def test_graph_finetune_softmax_head_refuses_a_regression_target(shared_data):
    """ESOL is not shipped (datasets/ has BACE, BBBP, ClinTox): the shared data root must be there."""
    from gtransfer.studies.kinds.graph_finetune import graph_finetune_trial

    params = {"encoder": ENCODER, "target": "ogbg-molesol", "seed": 0, "epochs": 3, "batch_size": 32, "device": "cpu",
              "head": "softmax", "max_samples": 100}
    with pytest.raises(ValueError, match="head 'softmax' needs class labels.*regression"):
        graph_finetune_trial(params)
