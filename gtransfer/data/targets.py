"""Graph target tasks named by a short string, loaded offline with their splits.

Grammar of a target string:

* ``ogbg-molbbbp`` -- a single-task molecule dataset; ``ogbg-moltox21:NR-AR`` or ``ogbg-moltox21:0``
  -- one task of a multi-task one (by name or column), molecules without that label left out;
  the split is the dataset's scaffold split.
* ``ENZYMES``, ``MUTAG``, ``Cora`` -- every class of a TU graph dataset or a Planetoid node dataset,
  with a stratified 80/10/10 split (seeded).
* ``ENZYMES:k=3,ratio=4,seed=1[,max=60]`` -- a class-subset task: ``k`` classes, largest/smallest
  class ``ratio``, drawn by ``seed``, at most ``max`` samples per class
  (:func:`gtransfer.data.tasks.class_subset_tasks_from_labels`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from gtransfer.data.class_subsets import TaskInfo, describe_labels

__all__ = ["GraphTarget", "parse_target", "load_target", "subsample_target"]


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


def parse_target(text: str) -> tuple[str, str | None, dict[str, float]]:
    """``(dataset, task, subset options)`` of a target string (see the module docstring)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"a target must be a non-empty string like 'ogbg-molbbbp' or 'ENZYMES:k=3', got {text!r}")
    dataset, _, rest = text.strip().partition(":")
    if not rest:
        return dataset, None, {}
    if "=" not in rest:
        return dataset, rest, {}
    options: dict[str, float] = {}
    for part in rest.split(","):
        key, _, value = part.partition("=")
        if key not in ("k", "ratio", "seed", "max") or not value:
            raise ValueError(f"target {text!r}: class-subset options are k=, ratio=, seed=, max=; got {part!r}")
        try:
            options[key] = float(value)
        except ValueError:
            raise ValueError(f"target {text!r}: {key} must be a number, got {value!r}") from None
    if "k" not in options:
        raise ValueError(f"target {text!r}: a class-subset target needs k= (the number of classes)")
    return dataset, None, options


def _positions(dataset_indices: np.ndarray, split_indices: np.ndarray) -> np.ndarray:
    lookup = {int(i): p for p, i in enumerate(dataset_indices)}
    return np.array([lookup[int(i)] for i in split_indices if int(i) in lookup], dtype=np.int64)


def load_target(
    text: str,
    featurizer: str = "ogb",
    root: str | os.PathLike | None = None,
    seed: int = 0,
    dataset=None,
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
    dataset = dataset if dataset is not None else load_dataset(name, root=root)
    labels, level = dataset_labels(name, dataset=dataset)
    if subset:
        max_per_class = int(subset["max"]) if "max" in subset else None
        chosen = class_subset_tasks_from_labels(
            labels, name, int(subset["k"]), float(subset.get("ratio", 1.0)), int(subset.get("seed", seed)),
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
