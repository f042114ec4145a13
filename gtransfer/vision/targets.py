"""Target tasks named by strings, so that sweep specs can list them.

Grammar: ``<dataset>-<split>/<classes>/r<imbalance ratio>/n<max per class>/s<seed>`` where
``<classes>`` is ``k<K>`` (K classes drawn by the seed) or ``c<id>-<id>-...`` (exactly those), e.g.
``cifar10-test/k3/r4/n100/s0`` or ``mnist-test/c0-1/r1/n50/s2``. ``digits`` has no split
(``digits/k5/r1/n60/s0``). Targets are drawn from the *test* splits by convention, the zoo's
sources from the train splits, so no target image was seen in source training.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .data import ImageTask, load_image_dataset, make_class_task

__all__ = ["TargetRef", "parse_target", "target_name", "load_target"]

_PATTERN = re.compile(
    r"^(?P<dataset>[a-z0-9]+)(?:-(?P<split>train|test))?/(?:k(?P<k>\d+)|c(?P<classes>\d+(?:-\d+)+))"
    r"/r(?P<ratio>\d+(?:\.\d+)?)/n(?P<max>\d+)/s(?P<seed>\d+)$"
)


@dataclass(frozen=True)
class TargetRef:
    """The parts of a target name."""

    dataset: str
    split: str
    num_classes: int | None
    classes: tuple[int, ...] | None
    imbalance_ratio: float
    max_per_class: int
    seed: int


def parse_target(name: str) -> TargetRef:
    """Parse a target name; ValueError with the grammar when it does not match."""
    match = _PATTERN.match(name) if isinstance(name, str) else None
    if match is None:
        raise ValueError(f"bad target name {name!r}; expected <dataset>-<split>/k<K>|c<i>-<j>.../r<ratio>/n<max>/s<seed>, "
                         "e.g. cifar10-test/k3/r4/n100/s0")
    classes = tuple(int(c) for c in match["classes"].split("-")) if match["classes"] else None
    return TargetRef(match["dataset"], match["split"] or "train", int(match["k"]) if match["k"] else None, classes,
                     float(match["ratio"]), int(match["max"]), int(match["seed"]))


def target_name(dataset: str, split: str | None, num_classes: int | None = None, classes=None,
                imbalance_ratio: float = 1.0, max_per_class: int = 100, seed: int = 0) -> str:
    """The canonical name of a target (inverse of :func:`parse_target`)."""
    if (num_classes is None) == (classes is None):
        raise ValueError("give exactly one of num_classes and classes")
    part = f"k{num_classes}" if classes is None else "c" + "-".join(str(int(c)) for c in sorted(classes))
    head = dataset if split is None else f"{dataset}-{split}"
    return f"{head}/{part}/r{imbalance_ratio:g}/n{int(max_per_class)}/s{int(seed)}"


def load_target(name: str, root: str | os.PathLike | None = None) -> ImageTask:
    """Build the target task a name describes (60/20/20 stratified train/valid/test)."""
    ref = parse_target(name)
    dataset = load_image_dataset(ref.dataset, ref.split, root)
    return make_class_task(dataset, num_classes=ref.num_classes, classes=list(ref.classes) if ref.classes else None,
                           imbalance_ratio=ref.imbalance_ratio, seed=ref.seed, max_per_class=ref.max_per_class, name=name)
