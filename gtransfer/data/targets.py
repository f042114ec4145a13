"""Target tasks named by a short string (one grammar for graphs and images), loaded offline with their splits.

Grammar of a target string, ``DATASET[:TASK]`` or ``DATASET:OPTION=VALUE,...``:

* ``ogbg-molbbbp`` -- a single-task molecule dataset (``task_kind`` ``"binary"``); ``ogbg-moltox21:NR-AR``
  or ``ogbg-moltox21:0`` -- one task of a multi-task one (by name or column), molecules without that
  label left out (``"binary"``); ``ogbg-moltox21`` -- every task of a multi-task dataset at once
  (``"multitask"``: Tox21, ToxCast, SIDER, MUV, ClinTox), labels (n, T) with NaN where a molecule has
  no label for a task, molecules with no label at all left out; ``ogbg-molesol``, ``ogbg-molfreesolv``,
  ``ogbg-mollipo`` -- a regression target (``"regression"``, float labels (n,)). Every molecule
  target's split is the dataset's scaffold split, and ``eval_metric`` is OGB's for the dataset
  (``rocauc``; ``ap`` for MUV and PCBA; ``rmse`` for regression).
* ``ENZYMES``, ``MUTAG``, ``Cora`` -- every class of a TU graph dataset or a Planetoid node dataset,
  with a stratified 80/10/10 split (seeded).
* ``ENZYMES:k=3,ratio=4,seed=1[,max=60]`` -- a class-subset task: ``k`` classes, largest/smallest
  class ``ratio``, drawn by ``seed``, at most ``max`` samples per class
  (:func:`gtransfer.data.tasks.class_subset_tasks_from_labels`).
* ``ENZYMES:part=source`` and ``ENZYMES:k=3,ratio=4,seed=1,part=target`` -- the same, drawn only from one
  half of the dataset (:func:`disjoint_parts`: a stratified split of every graph into a ``source`` half and a
  ``target`` half, seeded by :data:`PART_SEED`, the same for every target). A source head trained on
  ``DATASET:part=source`` has seen no graph of any ``part=target`` target: the rule of the target-selection truth.
* image targets use the same options on ``<dataset>-<split>`` names, plus ``classes=`` for an explicit
  class list: ``cifar10-test:k=3,ratio=4,max=100,seed=0``, ``mnist-test:classes=4-9,max=200,seed=0``
  (:mod:`gtransfer.vision.targets`). :func:`format_target` writes the canonical spelling.

The image branch once spelt its targets ``cifar10-test/k3/r4/n100/s0``; such a name is refused with
its new spelling (:func:`legacy_image_target`), and trial stores written before are migrated
(:mod:`gtransfer.studies.store`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gtransfer.data.class_subsets import MIN_PER_CLASS, TaskInfo, describe_labels

if TYPE_CHECKING:
    from torch_geometric.data import InMemoryDataset

__all__ = [
    "GraphTarget", "TASK_KINDS", "parse_target", "format_target", "legacy_image_target", "load_target",
    "subsample_target", "disjoint_parts", "PARTS", "PART_SEED",
]

#: options of a class-subset target and what each means
SUBSET_OPTIONS = ("k", "classes", "ratio", "max", "seed", "part")
#: values of ``part=``: the two disjoint halves of a dataset (:func:`disjoint_parts`)
PARTS = ("source", "target")
#: the seed of the one split into halves: fixed, so that every target and every source head agree on it
PART_SEED = 0

_LEGACY_IMAGE_TARGET = re.compile(
    r"^(?P<dataset>[a-z0-9]+(?:-(?:train|test))?)/(?:k(?P<k>\d+)|c(?P<classes>\d+(?:-\d+)+))"
    r"/r(?P<ratio>\d+(?:\.\d+)?)/n(?P<max>\d+)/s(?P<seed>\d+)$"
)


#: what a target asks for; the labels' form follows from it
TASK_KINDS = ("binary", "multiclass", "multitask", "regression")


@dataclass(frozen=True)
class GraphTarget:
    """A target: samples (graph or node ids), their labels and split positions.

    ``splits`` maps ``train``/``valid``/``test`` to positions into ``indices``/``labels``.
    ``task_kind`` says what the labels are (derived from them when not given):

    * ``"binary"``: int64 (n,) in {0, 1}; ``"multiclass"``: int64 (n,) in 0..C-1 (C > 2);
    * ``"multitask"``: float64 (n, T) in {0, 1} with NaN for a missing label (``task_names`` names the T columns);
    * ``"regression"``: float64 (n,) (one task) or (n, T), NaN for a missing value.

    ``eval_metric``: the dataset's evaluation measure (OGB's for molecules: ``rocauc``, ``ap``, ``rmse``;
    ``accuracy`` for multi-class targets). ``info`` describes class labels (None-like for regression).
    """

    name: str
    dataset: Any
    dataset_name: str
    level: str
    indices: np.ndarray
    labels: np.ndarray
    splits: dict[str, np.ndarray]
    info: TaskInfo | None
    task_kind: str = ""
    task_names: tuple[str, ...] = ()
    eval_metric: str = ""

    def __post_init__(self) -> None:
        kind = self.task_kind or ("binary" if self.labels.size and int(np.max(self.labels)) <= 1 else "multiclass")
        if kind not in TASK_KINDS:
            raise ValueError(f"GraphTarget {self.name!r}: task_kind must be one of {TASK_KINDS}, got {kind!r}")
        object.__setattr__(self, "task_kind", kind)
        if not self.eval_metric:
            metric = {"binary": "rocauc", "multitask": "rocauc", "multiclass": "accuracy", "regression": "rmse"}[kind]
            object.__setattr__(self, "eval_metric", metric)

    @property
    def num_tasks(self) -> int:
        """Label columns: T for multi-task and multi-output regression targets, else 1."""
        return int(self.labels.shape[1]) if self.labels.ndim == 2 else 1

    @property
    def is_classification(self) -> bool:
        """Class labels (binary, multi-class): what the classification metrics need."""
        return self.task_kind in ("binary", "multiclass")


def parse_target(text: str) -> tuple[str, str | None, dict[str, Any]]:
    """``(dataset, task, subset options)`` of a target string (see the module docstring).

    Options: ``k``, ``max``, ``seed`` are ints, ``ratio`` a float, ``classes`` a tuple of ints; a
    class-subset target has exactly one of ``k`` and ``classes``.

    Raises:
        ValueError: an empty string, an unknown option, a value of the wrong type, or a name in the
            image branch's old grammar (the message gives its new spelling).
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"a target must be a non-empty string like 'ogbg-molbbbp' or 'ENZYMES:k=3', got {text!r}")
    new = legacy_image_target(text.strip())
    if new is not None:
        raise ValueError(f"target {text!r} uses the old image-target grammar; write it as {new!r}")
    dataset, _, rest = text.strip().partition(":")
    if not rest:
        return dataset, None, {}
    if "=" not in rest:
        return dataset, rest, {}
    options: dict[str, Any] = {}
    for part in rest.split(","):
        key, _, value = part.partition("=")
        if key not in SUBSET_OPTIONS or not value:
            raise ValueError(
                f"target {text!r}: class-subset options are {', '.join(o + '=' for o in SUBSET_OPTIONS)}; got {part!r}"
            )
        try:
            if key == "part":
                if value not in PARTS:
                    raise ValueError(value)
                options[key] = value
            elif key == "classes":
                options[key] = tuple(int(c) for c in value.split("-"))
            elif key == "ratio":
                options[key] = float(value)
            else:
                number = float(value)
                if number != int(number):
                    raise ValueError(value)
                options[key] = int(number)
        except ValueError:
            kind = {"classes": "a list of class ids like 3-5", "ratio": "a number",
                    "part": " or ".join(PARTS)}.get(key, "an integer")
            raise ValueError(f"target {text!r}: {key} must be {kind}, got {value!r}") from None
    if set(options) == {"part"}:
        return dataset, None, options  # every class of one half
    if ("k" in options) == ("classes" in options):
        raise ValueError(
            f"target {text!r}: a class-subset target needs exactly one of k= (how many classes) and classes= (which)"
        )
    if options.get("max") is not None and options["max"] < MIN_PER_CLASS:
        raise ValueError(
            f"target {text!r}: max={options['max']} leaves fewer than {MIN_PER_CLASS} samples per class, and the "
            f"metrics need at least {MIN_PER_CLASS} in every class of a class-subset target; give max={MIN_PER_CLASS} "
            "or more"
        )
    return dataset, None, options


def format_target(
    dataset: str,
    *,
    k: int | None = None,
    classes: Sequence[int] | None = None,
    ratio: float = 1.0,
    max: int | None = None,
    seed: int = 0,
    part: str | None = None,
) -> str:
    """The canonical string of a class-subset target (the inverse of :func:`parse_target`); ``part`` is written
    last and only when given, so the strings of targets without one are unchanged."""
    if part is not None and part not in PARTS:
        raise ValueError(f"part must be one of {PARTS} or None, got {part!r}")
    if k is None and classes is None and part is not None:
        return f"{dataset}:part={part}"
    if (k is None) == (classes is None):
        raise ValueError("give exactly one of k and classes")
    parts = [f"k={int(k)}"] if classes is None else ["classes=" + "-".join(str(int(c)) for c in sorted(classes))]
    parts.append(f"ratio={float(ratio):g}")
    if max is not None:
        parts.append(f"max={int(max)}")
    parts.append(f"seed={int(seed)}")
    if part is not None:
        parts.append(f"part={part}")
    return f"{dataset}:{','.join(parts)}"


def disjoint_parts(labels: np.ndarray, *, seed: int = PART_SEED) -> dict[str, np.ndarray]:
    """The two disjoint halves of a dataset's samples, ``{"source": indices, "target": indices}``: a stratified
    50/50 split (:func:`gtransfer.data.splits.stratified_split`, each class cut in half, seeded), sorted.

    Examples:
        >>> parts = disjoint_parts(np.array([0, 0, 1, 1, 1, 1]))
        >>> sorted(np.concatenate([parts["source"], parts["target"]]).tolist())
        [0, 1, 2, 3, 4, 5]
        >>> len(np.intersect1d(parts["source"], parts["target"]))
        0
    """
    from gtransfer.data.splits import stratified_split

    # valid gets none, so the rest of each class (after round(n_c / 2) for the source) is the target half: nothing lost
    halves = stratified_split(np.asarray(labels), frac_train=0.5, frac_valid=0.0, frac_test=0.5, seed=seed)
    return {"source": halves["train"], "target": halves["test"]}


def legacy_image_target(text: str) -> str | None:
    """The canonical spelling of a name in the image branch's old grammar (``cifar10-test/k3/r4/n100/s0``), else
    None."""
    match = _LEGACY_IMAGE_TARGET.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    classes = [int(c) for c in match["classes"].split("-")] if match["classes"] else None
    return format_target(match["dataset"], k=int(match["k"]) if match["k"] else None, classes=classes,
                         ratio=float(match["ratio"]), max=int(match["max"]), seed=int(match["seed"]))


def _positions(dataset_indices: np.ndarray, split_indices: np.ndarray) -> np.ndarray:
    lookup = {int(i): p for p, i in enumerate(dataset_indices)}
    return np.array([lookup[int(i)] for i in split_indices if int(i) in lookup], dtype=np.int64)


def load_target(
    text: str,
    *,
    featurizer: str = "ogb",
    root: str | os.PathLike | None = None,
    seed: int = 0,
    dataset: InMemoryDataset | None = None,
) -> GraphTarget:
    """Load the target named by ``text`` (molecules featurised with ``featurizer``).

    Raises:
        FileNotFoundError: the dataset's files are in no data root.
        ValueError: a bad target string, an unknown task (the message lists the tasks), a task
            with a single class.
    """
    from gtransfer.data import load_dataset
    from gtransfer.data.loading import dataset_kind
    from gtransfer.data.splits import stratified_split
    from gtransfer.data.tasks import class_subset_tasks_from_labels, dataset_labels, molecule_task_targets

    name, task, subset = parse_target(text)
    kind = dataset_kind(name)
    if kind == "molecule":
        if subset:
            raise ValueError(f"target {text!r}: molecule targets take a task name, not class-subset options")
        dataset = (
            dataset if dataset is not None else load_dataset(name, root=root, featurizer=featurizer, progress=False)
        )
        if getattr(dataset, "task_type", "binary classification") == "regression":
            return _regression_target(text, name, task, dataset)
        if task is None and getattr(dataset, "num_tasks", 1) > 1:
            return _multitask_target(text, name, dataset)
        tasks = molecule_task_targets(name, dataset=dataset)
        names = [t.params["task_name"] for t in tasks]
        if task is None:
            if len(tasks) != 1:
                raise ValueError(
                    f"target {text!r} has {len(tasks)} tasks; name one as {name}:TASK, e.g. {name}:{names[0]}"
                )
            chosen = tasks[0]
        elif task in names:
            chosen = tasks[names.index(task)]
        elif task.isdigit() and int(task) < len(tasks):
            chosen = tasks[int(task)]
        else:
            raise ValueError(
                f"target {text!r}: no task {task!r}; tasks: {names[:20]}{' ...' if len(names) > 20 else ''}"
            )
        indices = chosen.valid_indices
        splits = {k: _positions(indices, v) for k, v in chosen.splits.items()}
        return GraphTarget(
            text, dataset, name, "graph", indices, chosen.valid_labels, splits, chosen.info,
            task_kind="binary",
            task_names=(chosen.params["task_name"],),
            eval_metric=_eval_metric(dataset),
        )
    if task is not None:
        raise ValueError(f"target {text!r}: {name} is a single-label dataset; use {name} or {name}:k=3,ratio=2,seed=0")
    if "classes" in subset:
        raise ValueError(f"target {text!r}: classes= chooses classes of image targets; graph targets draw them with k=")
    dataset = dataset if dataset is not None else load_dataset(name, root=root)
    labels, level = dataset_labels(name, dataset=dataset)
    kept = disjoint_parts(labels)[subset["part"]] if "part" in subset else np.arange(labels.size, dtype=np.int64)
    labels = labels[kept]  # indices below are into the kept half; kept[...] maps them back to the dataset
    if "k" in subset:
        max_per_class = subset.get("max")
        chosen = class_subset_tasks_from_labels(
            labels, name, subset["k"], imbalance_ratio=subset.get("ratio", 1.0), seed=subset.get("seed", seed),
            level=level, max_per_class=max_per_class,
        )[0]
        splits = {k: _positions(chosen.indices, v) for k, v in chosen.splits.items()}
        return GraphTarget(text, dataset, name, level, kept[chosen.indices], chosen.labels, splits, chosen.info)
    indices = kept
    splits = {k: np.asarray(v, dtype=np.int64) for k, v in stratified_split(labels, seed=seed).items()}
    return GraphTarget(text, dataset, name, level, indices, labels, splits, describe_labels(labels, name=text))


def _eval_metric(dataset: Any) -> str:
    """OGB's evaluation measure of a molecule dataset (``rocauc``, ``ap``, ``rmse``)."""
    return str(getattr(dataset, "eval_metric", "rocauc"))


def _molecule_labels(dataset: Any) -> np.ndarray:
    y = dataset._data.y.numpy().astype(np.float64)
    if y.ndim == 1:
        y = y[:, None]
    if y.shape[0] != len(dataset):
        raise ValueError(f"{dataset}: expected one label row per molecule, got {y.shape[0]} for {len(dataset)}")
    return y


def _scaffold_positions(dataset: Any, indices: np.ndarray) -> dict[str, np.ndarray]:
    return {k: _positions(indices, v.numpy()) for k, v in dataset.get_idx_split().items()}


def _multitask_target(text: str, name: str, dataset: Any) -> GraphTarget:
    """Every binary task of ``dataset`` at once: molecules with at least one label, labels (n, T) with NaN."""
    y = _molecule_labels(dataset)
    present = y[~np.isnan(y)]
    if np.any((present != 0) & (present != 1)):
        raise ValueError(
            f"target {text!r}: {name} has labels other than 0, 1 and NaN; a multi-task target needs binary tasks"
        )
    indices = np.flatnonzero(~np.isnan(y).all(axis=1)).astype(np.int64)
    return GraphTarget(text, dataset, name, "graph", indices, y[indices], _scaffold_positions(dataset, indices), None,
                       task_kind="multitask", task_names=tuple(dataset.task_names), eval_metric=_eval_metric(dataset))


def _regression_target(text: str, name: str, task: str | None, dataset: Any) -> GraphTarget:
    """A regression dataset (ESOL, FreeSolv, Lipophilicity): float labels, molecules without a value left out."""
    y = _molecule_labels(dataset)
    names = list(getattr(dataset, "task_names", [f"task{i}" for i in range(y.shape[1])]))
    if task is not None:
        if task in names:
            column = names.index(task)
        elif task.isdigit() and int(task) < len(names):
            column = int(task)
        else:
            raise ValueError(f"target {text!r}: no task {task!r}; tasks: {names}")
        y, names = y[:, [column]], [names[column]]
    indices = np.flatnonzero(~np.isnan(y).all(axis=1)).astype(np.int64)
    labels = y[indices, 0] if y.shape[1] == 1 else y[indices]
    return GraphTarget(text, dataset, name, "graph", indices, labels, _scaffold_positions(dataset, indices), None,
                       task_kind="regression", task_names=tuple(names), eval_metric=_eval_metric(dataset))


def subsample_target(target: GraphTarget, max_samples: int | None, *, seed: int = 0) -> GraphTarget:
    """At most ``max_samples`` samples, the same share of every split (and, for class labels, of every class),
    seeded."""
    n = target.indices.size
    if max_samples is None or max_samples >= n:
        return target
    if max_samples < 10:
        raise ValueError(f"max_samples must be at least 10, got {max_samples}")
    rng = np.random.default_rng(seed)
    fraction = max_samples / n
    keep: list[np.ndarray] = []
    for positions in target.splits.values():
        # strata: the classes of class labels; the whole split for multi-task and regression labels
        strata = (
            [positions[target.labels[positions] == c] for c in np.unique(target.labels[positions])]
            if target.is_classification
            else [positions]
        )
        for members in strata:
            if members.size == 0:
                continue
            count = max(1, int(round(fraction * members.size)))
            keep.append(rng.choice(members, size=min(count, members.size), replace=False))
    kept = np.sort(np.concatenate(keep))
    new_position = {int(p): i for i, p in enumerate(kept)}
    splits = {
        k: np.array([new_position[int(p)] for p in v if int(p) in new_position], dtype=np.int64)
        for k, v in target.splits.items()
    }
    labels = target.labels[kept]
    return GraphTarget(
        target.name, target.dataset, target.dataset_name, target.level, target.indices[kept], labels, splits,
        describe_labels(labels, name=target.name) if target.is_classification else None,
        task_kind=target.task_kind, task_names=target.task_names, eval_metric=target.eval_metric,
    )
