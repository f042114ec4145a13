"""Target tasks named by a short string (one grammar for graphs and images), loaded offline with their splits.

Grammar of a target string, ``DATASET[:TASK]`` or ``DATASET:OPTION=VALUE,...``:

* ``ogbg-molbbbp`` -- a single-task molecule dataset; ``ogbg-moltox21:NR-AR`` or ``ogbg-moltox21:0``
  -- one task of a multi-task one (by name or column), molecules without that label left out;
  the split is the dataset's scaffold split.
* ``ENZYMES``, ``MUTAG``, ``Cora`` -- every class of a TU graph dataset or a Planetoid node dataset,
  with a stratified 80/10/10 split (seeded).
* ``ENZYMES:k=3,ratio=4,seed=1[,max=60]`` -- a class-subset task: ``k`` classes, largest/smallest
  class ``ratio``, drawn by ``seed``, at most ``max`` samples per class
  (:func:`gtransfer.data.tasks.class_subset_tasks_from_labels`).
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

from gtransfer.data.class_subsets import TaskInfo, describe_labels

if TYPE_CHECKING:
    from torch_geometric.data import InMemoryDataset

__all__ = ["GraphTarget", "parse_target", "format_target", "legacy_image_target", "load_target", "subsample_target"]

#: options of a class-subset target and what each means
SUBSET_OPTIONS = ("k", "classes", "ratio", "max", "seed")

_LEGACY_IMAGE_TARGET = re.compile(
    r"^(?P<dataset>[a-z0-9]+(?:-(?:train|test))?)/(?:k(?P<k>\d+)|c(?P<classes>\d+(?:-\d+)+))"
    r"/r(?P<ratio>\d+(?:\.\d+)?)/n(?P<max>\d+)/s(?P<seed>\d+)$"
)


@dataclass(frozen=True)
class GraphTarget:
    """A classification target: samples (graph or node ids), their labels and split positions.

    ``splits`` maps ``train``/``valid``/``test`` to positions into ``indices``/``labels``.
    """

    name: str
    dataset: Any
    dataset_name: str
    level: str
    indices: np.ndarray
    labels: np.ndarray
    splits: dict[str, np.ndarray]
    info: TaskInfo


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
            raise ValueError(f"target {text!r}: class-subset options are {', '.join(o + '=' for o in SUBSET_OPTIONS)}; got {part!r}")
        try:
            if key == "classes":
                options[key] = tuple(int(c) for c in value.split("-"))
            elif key == "ratio":
                options[key] = float(value)
            else:
                number = float(value)
                if number != int(number):
                    raise ValueError(value)
                options[key] = int(number)
        except ValueError:
            kind = "a list of class ids like 3-5" if key == "classes" else ("a number" if key == "ratio" else "an integer")
            raise ValueError(f"target {text!r}: {key} must be {kind}, got {value!r}") from None
    if ("k" in options) == ("classes" in options):
        raise ValueError(f"target {text!r}: a class-subset target needs exactly one of k= (how many classes) and classes= (which)")
    return dataset, None, options


def format_target(dataset: str, k: int | None = None, classes: Sequence[int] | None = None, ratio: float = 1.0, max: int | None = None,
                  seed: int = 0) -> str:
    """The canonical string of a class-subset target (the inverse of :func:`parse_target`)."""
    if (k is None) == (classes is None):
        raise ValueError("give exactly one of k and classes")
    parts = [f"k={int(k)}"] if classes is None else ["classes=" + "-".join(str(int(c)) for c in sorted(classes))]
    parts.append(f"ratio={float(ratio):g}")
    if max is not None:
        parts.append(f"max={int(max)}")
    parts.append(f"seed={int(seed)}")
    return f"{dataset}:{','.join(parts)}"


def legacy_image_target(text: str) -> str | None:
    """The canonical spelling of a name in the image branch's old grammar (``cifar10-test/k3/r4/n100/s0``), else None."""
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
        dataset = dataset if dataset is not None else load_dataset(name, root=root, featurizer=featurizer, progress=False)
        tasks = molecule_task_targets(name, dataset=dataset)
        names = [t.params["task_name"] for t in tasks]
        if task is None:
            if len(tasks) != 1:
                raise ValueError(f"target {text!r} has {len(tasks)} tasks; name one as {name}:TASK, e.g. {name}:{names[0]}")
            chosen = tasks[0]
        elif task in names:
            chosen = tasks[names.index(task)]
        elif task.isdigit() and int(task) < len(tasks):
            chosen = tasks[int(task)]
        else:
            raise ValueError(f"target {text!r}: no task {task!r}; tasks: {names[:20]}{' ...' if len(names) > 20 else ''}")
        indices = chosen.valid_indices
        splits = {k: _positions(indices, v) for k, v in chosen.splits.items()}
        return GraphTarget(text, dataset, name, "graph", indices, chosen.valid_labels, splits, chosen.info)
    if task is not None:
        raise ValueError(f"target {text!r}: {name} is a single-label dataset; use {name} or {name}:k=3,ratio=2,seed=0")
    if "classes" in subset:
        raise ValueError(f"target {text!r}: classes= chooses classes of image targets; graph targets draw them with k=")
    dataset = dataset if dataset is not None else load_dataset(name, root=root)
    labels, level = dataset_labels(name, dataset=dataset)
    if subset:
        max_per_class = subset.get("max")
        chosen = class_subset_tasks_from_labels(
            labels, name, subset["k"], subset.get("ratio", 1.0), subset.get("seed", seed),
            level=level, max_per_class=max_per_class,
        )[0]
        indices = chosen.indices
        splits = {k: _positions(indices, v) for k, v in chosen.splits.items()}
        return GraphTarget(text, dataset, name, level, indices, chosen.labels, splits, chosen.info)
    indices = np.arange(labels.size, dtype=np.int64)
    splits = {k: np.asarray(v, dtype=np.int64) for k, v in stratified_split(labels, seed=seed).items()}
    return GraphTarget(text, dataset, name, level, indices, labels, splits, describe_labels(labels, name=text))


def subsample_target(target: GraphTarget, max_samples: int | None, seed: int = 0) -> GraphTarget:
    """At most ``max_samples`` samples, the same share of every split and class (seeded)."""
    n = target.indices.size
    if max_samples is None or max_samples >= n:
        return target
    if max_samples < 10:
        raise ValueError(f"max_samples must be at least 10, got {max_samples}")
    rng = np.random.default_rng(seed)
    fraction = max_samples / n
    keep: list[np.ndarray] = []
    for positions in target.splits.values():
        for cls in np.unique(target.labels[positions]):
            members = positions[target.labels[positions] == cls]
            count = max(1, int(round(fraction * members.size)))
            keep.append(rng.choice(members, size=min(count, members.size), replace=False))
    kept = np.sort(np.concatenate(keep))
    new_position = {int(p): i for i, p in enumerate(kept)}
    splits = {k: np.array([new_position[int(p)] for p in v if int(p) in new_position], dtype=np.int64) for k, v in target.splits.items()}
    labels = target.labels[kept]
    return GraphTarget(
        target.name, target.dataset, target.dataset_name, target.level, target.indices[kept], labels, splits,
        describe_labels(labels, name=target.name),
    )
