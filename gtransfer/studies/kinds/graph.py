"""Trial kinds on graph targets: metric scores, a linear probe and full fine-tuning of an encoder.

Params shared by all: ``encoder`` (an encoder string, :mod:`gtransfer.models.specs`), ``target``
(a target string, :mod:`gtransfer.data.targets`), ``seed``; optional ``max_samples`` and
``sample_seed`` (subsample), ``cache`` (embedding cache folder, relative to the spec), ``data_root``.
Scores are computed on the training split, the ground truth is measured on the test split.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gtransfer.studies.registry import register_trial_kind

if TYPE_CHECKING:
    from torch import nn
    from torch_geometric.data import Data
    from torch_geometric.loader import DataLoader

    from gtransfer.data.targets import GraphTarget
    from gtransfer.embeddings.targets import TargetEmbeddings
    from gtransfer.training.finetune import TaskSpec

__all__ = ["graph_score_trial", "graph_probe_trial", "graph_finetune_trial", "graph_finetune_inputs"]


def _embeddings(params: dict) -> TargetEmbeddings:
    from gtransfer.embeddings.targets import target_embeddings

    return target_embeddings(
        params["encoder"], params["target"], max_samples=params.get("max_samples"),
        sample_seed=int(params.get("sample_seed", 0)), cache=params.get("cache"), root=params.get("data_root"),
    )


@register_trial_kind("graph_score")
def graph_score_trial(params: dict) -> dict:
    """Every metric that applies on the training split's embeddings, with stand-in source probs
    (:func:`gtransfer.selection.task_scores.score_target`: LogME's regression form on a regression target,
    the mean over tasks on a multi-task target).

    Optional params: ``metrics`` (names), ``source_clusters`` (Z of
    :func:`gtransfer.selection.source_probs.cluster_source_probs`, 32; 0 leaves NCE/LEEP out).
    """
    from gtransfer.selection.source_probs import cluster_source_probs
    from gtransfer.selection.task_scores import score_target

    embeddings = _embeddings(params)
    features, labels = embeddings.part("train")
    features = features.astype(np.float64)
    clusters = int(params.get("source_clusters", 32))
    seed = int(params.get("seed", 0))
    source = (lambda rows: cluster_source_probs(rows, clusters, seed=seed)) if clusters and embeddings.task_kind != "regression" else None
    scores = score_target(features, labels, embeddings.task_kind, metrics=params.get("metrics"), source_probs=source)
    out = {**scores, "n": int(features.shape[0]), "d": int(features.shape[1])}
    if embeddings.task_kind in ("binary", "multiclass"):
        out["num_classes"] = int(np.unique(labels).size)
    return out


@register_trial_kind("graph_probe")
def graph_probe_trial(params: dict) -> dict:
    """Logistic regression on frozen, standardised embeddings: train split -> test split.

    Optional params: ``l2`` (inverse regularisation C, 1.0), ``max_iter`` (500).
    """
    from gtransfer.training.probe import fit_logistic_probe
    from gtransfer.training.task_metrics import classification_metrics

    embeddings = _embeddings(params)
    if embeddings.task_kind not in ("binary", "multiclass"):
        raise ValueError(f"graph_probe needs class labels; {params['target']} is a {embeddings.task_kind} target "
                         "(use graph_finetune with mode: linear)")
    x_train, y_train = embeddings.part("train")
    x_test, y_test = embeddings.part("test")
    model = fit_logistic_probe(x_train, y_train, C=float(params.get("l2", 1.0)), max_iter=int(params.get("max_iter", 500)))
    probs = model.predict_proba(x_test)
    full = np.zeros((len(y_test), int(max(y_train.max(), y_test.max())) + 1))
    full[:, model.classes_] = probs
    scores = full[:, 1] if full.shape[1] == 2 else full
    return {**classification_metrics(y_test, full.argmax(axis=1), scores, y_train), "n_train": int(len(y_train)), "n_test": int(len(y_test))}


def graph_finetune_inputs(params: dict, batch_size: int) -> tuple[nn.Module, dict[str, DataLoader], TaskSpec, GraphTarget]:
    """``(encoder, loaders, task, target)`` of a graph-level target: train/valid/test PyG loaders whose
    graphs carry the task's labels as ``y`` (:func:`gtransfer.training.tasks.graph_labels`), the encoder
    built for the target's input, and its task (:func:`gtransfer.training.tasks.task_spec_of`: binary,
    multi-task, multi-class and regression targets alike). The measure to judge the model by is
    :func:`gtransfer.training.task_metrics.metric_of_target` (average precision for MUV)."""
    import torch
    from torch_geometric.loader import DataLoader

    from gtransfer.data.targets import subsample_target
    from gtransfer.embeddings.targets import target_for_encoder
    from gtransfer.models.specs import resolve_encoder
    from gtransfer.training.tasks import graph_labels, task_spec_of

    target_text = params["target"]
    sample_seed = int(params.get("sample_seed", 0))
    spec = resolve_encoder(params["encoder"], params.get("data_root"))
    target, node_input = target_for_encoder(spec, target_text, root=params.get("data_root"), seed=sample_seed)
    encoder = spec.load(node_features=node_input)
    if target.level != "graph":
        raise ValueError(f"graph_finetune needs a graph-level target; {target_text} is node-level (use graph_probe)")
    target = subsample_target(target, params.get("max_samples"), seed=sample_seed)
    task = task_spec_of(target)

    def graphs(positions: np.ndarray) -> list[Data]:
        rows = graph_labels(target, positions)
        out = []
        for row, position in enumerate(positions):
            data = target.dataset[int(target.indices[position])].clone()
            data.y = rows[row:row + 1]  # (1, T) float for multilabel/regression, (1,) long for multiclass
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
    """Fine-tune the encoder with a linear head on the target (:func:`gtransfer.training.finetune.finetune`).

    Optional params: ``mode`` (``"full"``), ``epochs`` (20), ``lr`` (1e-3), ``patience`` (5),
    ``batch_size`` (64), ``device`` (``"cpu"``).

    Returns:
        ``test_metric``/``valid_metric`` (ROC-AUC for binary targets, accuracy for multi-class), also
        as ``test_roc_auc`` or ``test_accuracy``; ``majority_accuracy`` of the test split for
        multi-class targets; ``best_epoch``, ``epochs_run``.
    """
    import torch

    from gtransfer.training.finetune import finetune

    torch.manual_seed(int(params.get("seed", 0)))
    encoder, loaders, task, target = graph_finetune_inputs(params, int(params.get("batch_size", 64)))
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
        from gtransfer.evaluation import majority_accuracy

        out["test_accuracy"] = out["test_metric"]
        out["majority_accuracy"] = majority_accuracy(target.labels[target.splits["test"]], target.labels[target.splits["train"]])
    return out
