"""Image target tasks named by strings in the one target grammar (:mod:`gtransfer.data.targets`).

``<dataset>-<split>:k=K,ratio=R,max=N,seed=S`` (K classes drawn by the seed) or
``<dataset>-<split>:classes=I-J-...,ratio=R,max=N,seed=S`` (exactly those), e.g.
``cifar10-test:k=3,ratio=4,max=100,seed=0`` or ``mnist-test:classes=0-1,ratio=1,max=50,seed=2``;
``digits`` has no split (``digits:k=5,ratio=1,max=60,seed=0``). ``ratio`` is the largest over the
smallest class, ``max`` caps each class. Targets are drawn from the *test* splits by convention, the
zoo's sources from the train splits, so no target image was seen in source training.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from gtransfer.data.targets import format_target
from gtransfer.data.targets import parse_target as parse_target_string

from .data import ImageTask, load_image_dataset, make_class_task

__all__ = ["TargetRef", "parse_target", "target_name", "load_target"]

_SPLITS = ("train", "test")


@dataclass(frozen=True)
class TargetRef:
    """The parts of an image target name."""

    dataset: str
    split: str
    num_classes: int | None
    classes: tuple[int, ...] | None
    imbalance_ratio: float
    max_per_class: int | None
    seed: int


def parse_target(name: str) -> TargetRef:
    """Parse an image target name.

    Raises:
        ValueError: not a class-subset target of the grammar (the message shows an example), or a name
            in the old ``cifar10-test/k3/r4/n100/s0`` grammar (the message gives its new spelling).
    """
    head, task, options = parse_target_string(name)
    if task is not None or not options:
        raise ValueError(f"image target {name!r} must choose classes: write <dataset>-<split>:k=K,ratio=R,max=N,seed=S "
                         "or ...:classes=I-J,..., e.g. cifar10-test:k=3,ratio=4,max=100,seed=0")
    if "part" in options:
        raise ValueError(f"image target {name!r}: part= splits graph datasets into source and target halves; an image "
                         "target's split (-train, -test) already says which images it draws from")
    dataset, _, split = head.rpartition("-")
    if split not in _SPLITS:
        dataset, split = head, "train"
    return TargetRef(dataset, split, options.get("k"), options.get("classes"), float(options.get("ratio", 1.0)),
                     options.get("max"), int(options.get("seed", 0)))


def target_name(
    dataset: str,
    split: str | None,
    *,
    num_classes: int | None = None,
    classes: Sequence[int] | None = None,
    imbalance_ratio: float = 1.0,
    max_per_class: int | None = 100,
    seed: int = 0,
) -> str:
    """The canonical name of an image target (inverse of :func:`parse_target`)."""
    head = dataset if split is None else f"{dataset}-{split}"
    return format_target(head, k=num_classes, classes=classes, ratio=imbalance_ratio, max=max_per_class, seed=seed)


def load_target(name: str, *, root: str | os.PathLike | None = None) -> ImageTask:
    """Build the target task a name describes (60/20/20 stratified train/valid/test)."""
    ref = parse_target(name)
    dataset = load_image_dataset(ref.dataset, split=ref.split, root=root)
    return make_class_task(
        dataset,
        num_classes=ref.num_classes,
        classes=list(ref.classes) if ref.classes else None,
        imbalance_ratio=ref.imbalance_ratio,
        seed=ref.seed,
        max_per_class=ref.max_per_class,
        name=name,
    )
