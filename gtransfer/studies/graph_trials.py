"""Trial kinds on graph targets: metric scores, a linear probe and full fine-tuning of an encoder.

Params shared by all: ``encoder`` (an encoder string, :mod:`gtransfer.studies.encoders`), ``target``
(a target string, :mod:`gtransfer.studies.graph_targets`), ``seed``; optional ``max_samples`` and
``sample_seed`` (subsample), ``cache`` (embedding cache folder, relative to the spec), ``data_root``.
Scores are computed on the training split, the ground truth is measured on the test split.
"""

from __future__ import annotations

import numpy as np

from gtransfer.studies.registry import register_trial_kind

__all__ = ["graph_score_trial", "graph_probe_trial", "classification_metrics"]


def _embeddings(params: dict):
    from gtransfer.studies.embeddings import target_embeddings

    return target_embeddings(
        params["encoder"], params["target"], max_samples=params.get("max_samples"),
        sample_seed=int(params.get("sample_seed", 0)), cache=params.get("cache"), root=params.get("data_root"),
    )


def classification_metrics(labels: np.ndarray, predictions: np.ndarray, scores: np.ndarray, train_labels: np.ndarray) -> dict:
    """Accuracy, balanced accuracy, ROC-AUC (binary; macro one-vs-rest otherwise) and the majority baseline.

    ``scores``: (n,) positive-class scores for two classes, (n, C) class probabilities otherwise.
    ``majority_accuracy`` is the accuracy of always predicting the most frequent training class.
    """
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score

    out = {
        "test_accuracy": float(np.mean(predictions == labels)),
        "balanced_test_accuracy": float(balanced_accuracy_score(labels, predictions)),
        "majority_accuracy": float(np.mean(labels == np.bincount(train_labels).argmax())),
    }
    try:
        if scores.ndim == 1:
            out["test_roc_auc"] = float(roc_auc_score(labels, scores))
        else:
            out["test_roc_auc"] = float(roc_auc_score(labels, scores, multi_class="ovr", labels=np.arange(scores.shape[1])))
    except ValueError:  # a test split with a single class
        out["test_roc_auc"] = float("nan")
    return out


@register_trial_kind("graph_score")
def graph_score_trial(params: dict) -> dict:
    """Every metric of ``score_all`` on the training split's embeddings, with stand-in source probs.

    Optional params: ``metrics`` (names), ``source_clusters`` (Z of
    :func:`gtransfer.studies.source_probs.cluster_source_probs`, 32; 0 leaves NCE/LEEP out).
    """
    from gtransfer.metrics import score_all
    from gtransfer.studies.source_probs import cluster_source_probs

    embeddings = _embeddings(params)
    features, labels = embeddings.part("train")
    features = features.astype(np.float64)
    clusters = int(params.get("source_clusters", 32))
    probs = cluster_source_probs(features, clusters, seed=int(params.get("seed", 0))) if clusters else None
    scores = score_all(features, labels, source_probs=probs, metrics=params.get("metrics"))
    return {**scores, "n": int(features.shape[0]), "d": int(features.shape[1]), "num_classes": int(np.unique(labels).size)}


@register_trial_kind("graph_probe")
def graph_probe_trial(params: dict) -> dict:
    """Logistic regression on frozen, standardised embeddings: train split -> test split.

    Optional params: ``l2`` (inverse regularisation C, 1.0), ``max_iter`` (500).
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    embeddings = _embeddings(params)
    x_train, y_train = embeddings.part("train")
    x_test, y_test = embeddings.part("test")
    scaler = StandardScaler().fit(x_train)
    model = LogisticRegression(C=float(params.get("l2", 1.0)), max_iter=int(params.get("max_iter", 500)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(scaler.transform(x_train), y_train)
    probs = model.predict_proba(scaler.transform(x_test))
    full = np.zeros((len(y_test), int(max(y_train.max(), y_test.max())) + 1))
    full[:, model.classes_] = probs
    scores = full[:, 1] if full.shape[1] == 2 else full
    return {**classification_metrics(y_test, full.argmax(axis=1), scores, y_train), "n_train": int(len(y_train)), "n_test": int(len(y_test))}


def _graph_loaders(params: dict, batch_size: int):
    """Train/valid/test PyG loaders of a graph-level target (labels set as the task's ``y``) and its task."""
    import torch
    from torch_geometric.loader import DataLoader

    from gtransfer.data.loading import dataset_kind
    from gtransfer.finetune import TaskSpec
    from gtransfer.studies.encoders import encoder_featurizer, load_encoder
    from gtransfer.studies.graph_targets import load_target, parse_target, subsample_target

    encoder_spec, target_text = params["encoder"], params["target"]
    sample_seed = int(params.get("sample_seed", 0))
    if dataset_kind(parse_target(target_text)[0]) == "molecule":
        featurizer = encoder_featurizer(encoder_spec, params.get("data_root"))
        target = load_target(target_text, featurizer=featurizer, root=params.get("data_root"), seed=sample_seed)
        encoder = load_encoder(encoder_spec, node_features=featurizer, root=params.get("data_root"))
    else:
        target = load_target(target_text, root=params.get("data_root"), seed=sample_seed)
        encoder = load_encoder(encoder_spec, node_features=int(target.dataset.num_features), root=params.get("data_root"))
    if target.level != "graph":
        raise ValueError(f"graph_finetune needs a graph-level target; {target_text} is node-level (use graph_probe)")
    target = subsample_target(target, params.get("max_samples"), seed=sample_seed)
    classes = int(target.labels.max()) + 1
    task = TaskSpec("multilabel", 1) if classes == 2 else TaskSpec("multiclass", classes)

    def graphs(positions):
        out = []
        for position in positions:
            data = target.dataset[int(target.indices[position])].clone()
            label = int(target.labels[position])
            data.y = torch.tensor([[float(label)]]) if classes == 2 else torch.tensor([label])
            out.append(data)
        return out

    generator = torch.Generator().manual_seed(int(params.get("seed", 0)))
    loaders = {
        split: DataLoader(graphs(positions), batch_size=batch_size, shuffle=(split == "train"), generator=generator if split == "train" else None)
        for split, positions in target.splits.items()
    }
    return encoder, loaders, task, target


@register_trial_kind("graph_finetune")
def graph_finetune_trial(params: dict) -> dict:
    """Fine-tune the encoder with a linear head on the target (:func:`gtransfer.finetune.finetune`).

    Optional params: ``mode`` (``"full"``), ``epochs`` (20), ``lr`` (1e-3), ``patience`` (5),
    ``batch_size`` (64), ``device`` (``"cpu"``).

    Returns:
        ``test_metric``/``valid_metric`` (ROC-AUC for binary targets, accuracy for multi-class), also
        as ``test_roc_auc`` or ``test_accuracy``; ``majority_accuracy`` of the test split for
        multi-class targets; ``best_epoch``, ``epochs_run``.
    """
    import torch

    from gtransfer.finetune import finetune

    torch.manual_seed(int(params.get("seed", 0)))
    encoder, loaders, task, target = _graph_loaders(params, int(params.get("batch_size", 64)))
    result = finetune(
        encoder, loaders["train"], loaders["valid"], loaders["test"], task=task,
        mode=params.get("mode", "full"), epochs=int(params.get("epochs", 20)), lr=float(params.get("lr", 1e-3)),
        patience=int(params.get("patience", 5)), seed=int(params.get("seed", 0)), device=params.get("device", "cpu"),
    )
    out = {
        "metric": result.metric,
        "test_metric": float(result.test_metric),
        "valid_metric": float(result.valid_metric),
        "best_epoch": int(result.best_epoch),
        "epochs_run": int(result.epochs_run),
    }
    if task.kind == "multilabel":
        out["test_roc_auc"] = out["test_metric"]
    else:
        test_labels = target.labels[target.splits["test"]]
        train_labels = target.labels[target.splits["train"]]
        out["test_accuracy"] = out["test_metric"]
        out["majority_accuracy"] = float(np.mean(test_labels == np.bincount(train_labels).argmax()))
    return out
