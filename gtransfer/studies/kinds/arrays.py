"""gtransfer's own trial kinds that need no GNN: ``probe``, ``score`` and ``metric_timing``.

They work on embeddings saved as ``.npy`` files, so a sweep over them runs anywhere; the paths in
params are templates filled from the params themselves, e.g.
``features: "emb/{encoder}/{target}.npy"`` with ``encoder: gcn`` and ``target: bbbp``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gtransfer.evaluation import majority_accuracy
from gtransfer.io.arrays import load_array
from gtransfer.metrics import as_class_indices
from gtransfer.studies.registry import register_trial_kind

__all__ = ["probe_trial", "score_trial", "metric_timing_trial", "load_features_and_labels"]


def _fill(template: str, params: dict, field: str) -> Path:
    if not isinstance(template, str):
        raise ValueError(f"param {field!r} must be a path (template) string, got {type(template).__name__}")
    try:
        return Path(template.format(**params))
    except KeyError as exc:
        raise ValueError(f"param {field!r} = {template!r} refers to {exc}, which is not a param") from None


def load_features_and_labels(params: dict) -> tuple[np.ndarray, np.ndarray]:
    """Features (n, d) float64 and labels (n,) int64 from the ``features``/``labels`` templates.

    A template may name a ``.npy`` file or an ``.npz`` (``file.npz:key``; by default the keys
    ``features`` and ``labels``).

    Raises:
        FileNotFoundError: a file is missing.
        ValueError: wrong shapes, non-finite features, or labels that are not integers >= 0.
    """
    for field in ("features", "labels"):
        if field not in params:
            raise ValueError(f"trial params need {field!r} (a .npy path template)")
    features = load_array(_fill(params["features"], params, "features"), default_key="features", what="features")
    features = features.astype(np.float64)
    labels = load_array(_fill(params["labels"], params, "labels"), default_key="labels", what="labels")
    if features.ndim != 2:
        raise ValueError(f"features must be 2-D (n, d), got shape {features.shape}")
    if labels.ndim != 1 or labels.shape[0] != features.shape[0]:
        raise ValueError(f"labels must have shape ({features.shape[0]},) to match the features, got {labels.shape}")
    if not np.all(np.isfinite(features)):
        raise ValueError(f"features contain {int((~np.isfinite(features)).sum())} NaN/inf values")
    return features, as_class_indices(labels, "labels", "encode them with np.unique(labels, return_inverse=True)[1]")


@register_trial_kind(
    "probe",
    params=("features", "labels", "seed", "test_fraction", "model", "l2", "hidden", "max_iter", "encoder", "target"),
)
def probe_trial(params: dict) -> dict:
    """A linear probe (or a small MLP) on frozen embeddings: the cheap ground truth of a sweep.

    Params: ``features``, ``labels`` (templates), ``seed``; optional ``test_fraction`` (0.3),
    ``model`` (``"logistic"`` or ``"mlp"``), ``l2`` (inverse regularisation strength C, 1.0),
    ``hidden`` (MLP width, 64), ``max_iter`` (300).
    The split is :func:`gtransfer.data.splits.stratified_split` by ``seed``; features are standardised
    on the training part.

    Returns:
        ``test_accuracy``, ``balanced_test_accuracy``, ``train_accuracy``, ``majority_accuracy`` (of
        the most frequent training class on the test part, for relative accuracy), ``n_train``,
        ``n_test``, ``num_classes``.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from gtransfer.data.splits import stratified_split
    from gtransfer.training.probe import fit_logistic_probe

    features, labels = load_features_and_labels(params)
    seed = int(params.get("seed", 0))
    test_fraction = float(params.get("test_fraction", 0.3))
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    split = stratified_split(labels, frac_train=1.0 - test_fraction, frac_valid=0.0, frac_test=test_fraction, seed=seed)
    x_train, y_train = features[split["train"]], labels[split["train"]]
    x_test, y_test = features[split["test"]], labels[split["test"]]
    model_name = params.get("model", "logistic")
    max_iter = int(params.get("max_iter", 300))
    if model_name == "logistic":
        model = fit_logistic_probe(x_train, y_train, C=float(params.get("l2", 1.0)), max_iter=max_iter)
    elif model_name == "mlp":
        model = make_pipeline(StandardScaler(), MLPClassifier(
            hidden_layer_sizes=(int(params.get("hidden", 64)),),
            alpha=1.0 / float(params.get("l2", 1.0)),
            max_iter=max_iter,
            random_state=seed,
        ))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # the cap is a deliberate budget
            model.fit(x_train, y_train)
    else:
        raise ValueError(f"model must be 'logistic' or 'mlp', got {model_name!r}")
    predictions = model.predict(x_test)
    return {
        "test_accuracy": float(np.mean(predictions == y_test)),
        "balanced_test_accuracy": float(balanced_accuracy_score(y_test, predictions)),
        "train_accuracy": float(np.mean(model.predict(x_train) == y_train)),
        "majority_accuracy": majority_accuracy(y_test, train_labels=y_train),
        "n_train": int(len(y_train)),
        "n_test": int(len(y_test)),
        "num_classes": int(np.unique(labels).size),
    }


@register_trial_kind("score", params=("features", "labels", "source_probs", "metrics", "seed", "encoder", "target",
                                      "train_samples", "sample_seed"))
def score_trial(params: dict) -> dict:
    """Every transferability metric (``gtransfer.metrics.score_all``) on one embedding file.

    Params: ``features``, ``labels`` (templates); optional ``source_probs`` (template of an (n, Z)
    probability matrix, for LEEP/NCE), ``metrics`` (list of names; default all that apply),
    ``train_samples`` (score from this many rows only, class shares kept, at least 2 a class, drawn by
    ``sample_seed``, default 0: :func:`gtransfer.data.splits.stratified_sample`, the rule the graph kinds' option of
    the same name follows; at least the file's rows keeps all of them).

    Returns:
        metric name -> value (with ``label_entropy`` H(Y) in nats), plus ``n``, ``d``, ``num_classes``; a metric
        that could not score these data (N-LEEP on too few samples) is absent, its reason in ``refused_<metric>``
        (text: the report, which reads float columns as metrics, leaves it out).
    """
    from gtransfer.metrics import score_all

    features, labels = load_features_and_labels(params)
    source_probs = None
    if params.get("source_probs"):
        source_probs = load_array(
            _fill(params["source_probs"], params, "source_probs"), default_key="source_probs", what="source_probs"
        )
        source_probs = source_probs.astype(np.float64)
    if params.get("train_samples") is not None:
        from gtransfer.data.splits import stratified_sample

        rows = stratified_sample(labels, int(params["train_samples"]), seed=int(params.get("sample_seed", 0)))
        features, labels = features[rows], labels[rows]
        source_probs = None if source_probs is None else source_probs[rows]
    scores = score_all(features, labels, source_probs=source_probs, metrics=params.get("metrics"))
    return {
        **{name: float(value) for name, value in scores.items()},
        "n": int(features.shape[0]),
        "d": int(features.shape[1]),
        "num_classes": int(np.unique(labels).size),
        **{f"refused_{name}": str(reason) for name, reason in scores.refused.items()},
    }


def synthetic_features(n: int, d: int, classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian class clusters in d dimensions (class means of norm about 2), balanced labels."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % classes)
    means = rng.standard_normal((classes, d)) * (2.0 / np.sqrt(d))
    return means[labels] + rng.standard_normal((n, d)), labels


@register_trial_kind("metric_timing", params=("metric", "n", "d", "classes", "seed", "repeats"))
def metric_timing_trial(params: dict) -> dict:
    """Wall time of one metric on synthetic features of size (n, d): the "cost as n and d grow" plot.

    Params: ``metric`` (a name in ``gtransfer.metrics.METRICS``), ``n``, ``d``, ``classes`` (10),
    ``seed``, ``repeats`` (3; the minimum is reported, the usual way to time a function).

    Returns:
        ``seconds`` (best of the repeats) and ``value`` (the metric's value).
    """
    from gtransfer.metrics import METRICS
    from gtransfer.selection.scoring import best_of

    name = params.get("metric")
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; known: {sorted(METRICS)}")
    features, labels = synthetic_features(
        int(params["n"]), int(params["d"]), int(params.get("classes", 10)), int(params.get("seed", 0))
    )
    best, value = best_of(lambda: float(METRICS[name](features, labels)), int(params.get("repeats", 3)))
    return {"seconds": best, "value": value}
