"""The vision source zoo: encoders trained on source tasks, their heads in the graph zoo's source-head format.

A source is a class subset of a training split (CIFAR-10, MNIST, or digits for tiny tests), an
architecture with its config, and a training budget. :func:`train_source` trains it through
``gtransfer.training.finetune`` (the loop the graph side uses), keeps the trained linear head as the source
classifier (for LEEP/NCE), and writes ``<zoo>/<name>.pt`` atomically with ``gtransfer.io.checkpoints.save_checkpoint``.
A checkpoint whose metadata already records the same spec is kept, so a killed build resumes.

Checkpoint layout (``gtransfer-vision-source/2``): ``state_dict`` holds ``encoder.<param>`` and the source
head as every source model stores it (:mod:`gtransfer.models.source_heads`: ``source_head.weight``/``bias``
and the metadata's ``source_head`` section, a multiclass head over the source classes); ``metadata`` also
holds the spec, the architecture config, ``embedding_dim``, ``input_shape``, the source task's metadata,
source accuracies and the code version. Checkpoints of the first layout (``head.*`` tensors,
``source_class_names``) load as they are: :func:`load_zoo_encoder` migrates them on read.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from gtransfer.models.source_heads import SourceHead

from .data import ImageTask, image_batch_to, load_image_dataset, make_class_task, make_loader
from .models import build_encoder

__all__ = ["SourceSpec", "source_task", "train_source", "load_zoo_encoder", "zoo_encoders", "build_zoo",
           "zoo_table_lines", "PRESETS"]

ZOO_FORMAT = "gtransfer-vision-source/2"
#: the first layout, still read (its head migrated by :func:`gtransfer.models.source_heads.source_head_of`)
_READABLE_FORMATS = (ZOO_FORMAT, "gtransfer-vision-source/1")
#: epochs of the source classifier of an untrained (``epochs = 0``) baseline source
HEAD_ONLY_EPOCHS = 5


@dataclass(frozen=True)
class SourceSpec:
    """One source encoder of the zoo: what it is trained on and how.

    Args:
        name: file stem in the zoo folder (``<name>.pt``).
        dataset: ``"cifar10"``, ``"mnist"`` or ``"digits"`` (its train split is used).
        classes: original class ids of the source task.
        arch: ``"resnet"`` or ``"cnn"`` (see :data:`gtransfer.vision.models.ARCHITECTURES`).
        config: keyword arguments of the architecture.
        epochs: training epochs (0 keeps the random initialisation: a baseline source).
        max_per_class: images per class taken from the training split.
        lr: Adam learning rate; seed: initialisation, sample choice and batch order.
    """

    name: str
    dataset: str
    classes: tuple[int, ...]
    arch: str
    config: dict = field(default_factory=dict)
    epochs: int = 3
    max_per_class: int = 300
    lr: float = 2e-3
    seed: int = 0
    batch_size: int = 64

    def to_dict(self) -> dict:
        out = asdict(self)
        out["classes"] = list(self.classes)
        return out


def source_task(spec: SourceSpec, *, root: str | os.PathLike | None = None) -> ImageTask:
    """The source task of ``spec``: its classes of the training split, 80/10/10 train/valid/test."""
    dataset = load_image_dataset(spec.dataset, split="train", root=root)  # digits has a single split
    return make_class_task(dataset, classes=list(spec.classes), max_per_class=spec.max_per_class, seed=spec.seed,
                           fractions=(0.8, 0.1, 0.1), name=f"source:{spec.name}")


def train_source(spec: SourceSpec, zoo_dir: str | os.PathLike, *, root: str | os.PathLike | None = None,
                 device: str = "cpu", patience: int | None = None) -> Path:
    """Train one source encoder and write ``<zoo_dir>/<spec.name>.pt``; skip it when already built.

    Returns the checkpoint path.
    """
    from gtransfer.io.checkpoints import load_checkpoint, save_checkpoint
    from gtransfer.io.provenance import code_version
    from gtransfer.models.source_heads import source_head_entries
    from gtransfer.training.finetune import TaskSpec, finetune

    path = Path(zoo_dir) / f"{spec.name}.pt"
    if path.is_file():
        try:
            _, metadata = load_checkpoint(path)
        except ValueError:
            metadata = {}
        if metadata.get("format") in _READABLE_FORMATS and metadata.get("spec") == spec.to_dict():
            return path
    torch.manual_seed(spec.seed)
    encoder = build_encoder(spec.arch, **spec.config)
    task = source_task(spec, root=root)
    shape = encoder.input_shape
    started = time.perf_counter()
    # epochs = 0 keeps the random encoder and trains only its source classifier (a linear probe)
    linear = spec.epochs == 0
    result = finetune(
        encoder,
        make_loader(task.train, input_shape=shape, batch_size=spec.batch_size, shuffle=True, seed=spec.seed),
        make_loader(task.valid, input_shape=shape, batch_size=256),
        make_loader(task.test, input_shape=shape, batch_size=256),
        task=TaskSpec(kind="multiclass", num_outputs=task.num_classes),
        mode="linear" if linear else "full", epochs=spec.epochs or HEAD_ONLY_EPOCHS, lr=spec.lr,
        patience=patience or spec.epochs or HEAD_ONLY_EPOCHS, seed=spec.seed, device=device,
        batch_to=image_batch_to, return_model=True,
    )
    encoder, head = result.model.encoder.cpu().eval(), result.model.head.cpu().eval()
    head_state, head_section = source_head_entries(head.weight, head.bias, kind="multiclass", labels=task.train.classes,
                                                   task=task.name, input={"kind": "image", "input_shape": list(shape)})
    state = {f"encoder.{k}": v for k, v in encoder.state_dict().items()}
    state.update(head_state)
    metadata = {
        "format": ZOO_FORMAT,
        "modality": "image",
        "source_head": head_section,
        "spec": spec.to_dict(),
        "arch": spec.arch,
        "config": dict(encoder.config),
        "embedding_dim": int(encoder.embedding_dim),
        "input_shape": list(shape),
        "source_task": task.to_dict(),
        "source_valid_accuracy": result.valid_metric,
        "source_test_accuracy": result.test_metric,
        "finetune": result.to_dict(),
        "train_seconds": time.perf_counter() - started,
        "code_version": code_version(),
    }
    return save_checkpoint(path, state, metadata)


def load_zoo_encoder(path: str | os.PathLike) -> tuple[nn.Module, SourceHead, dict]:
    """``(encoder, source_head, metadata)`` of a zoo checkpoint, the encoder in eval mode.

    The source head is the one reader's (:func:`gtransfer.models.source_heads.source_head_of`): its
    ``probabilities(features)`` is theta, the source-label distribution NCE and LEEP read. A checkpoint of
    the first layout is migrated on read.

    Raises FileNotFoundError for a missing file and ValueError for a checkpoint that is not a vision source.
    """
    from gtransfer.io.checkpoints import load_checkpoint
    from gtransfer.models.source_heads import source_head_of

    state, metadata = load_checkpoint(path)
    if metadata.get("format") not in _READABLE_FORMATS:
        raise ValueError(f"{path} is not a vision zoo checkpoint (format {metadata.get('format')!r}; "
                         f"readable: {', '.join(_READABLE_FORMATS)})")
    encoder = build_encoder(metadata["arch"], **metadata["config"])
    encoder.load_state_dict({k[len("encoder."):]: v for k, v in state.items() if k.startswith("encoder.")})
    head = source_head_of(state, metadata, origin=os.path.basename(os.fspath(path)))
    if head is None:
        raise ValueError(f"{path}: a vision zoo checkpoint without its source head")
    return encoder.eval(), head, metadata


def zoo_encoders(zoo_dir: str | os.PathLike) -> list[str]:
    """Names of the encoders in a zoo folder (sorted)."""
    folder = Path(zoo_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"zoo folder not found: {folder}")
    return sorted(p.stem for p in folder.glob("*.pt"))


def build_zoo(specs: list[SourceSpec], zoo_dir: str | os.PathLike, *, root: str | os.PathLike | None = None,
              device: str = "cpu", progress: bool = True) -> list[Path]:
    """Train every source of ``specs`` that the zoo lacks (resumable); returns the checkpoint paths."""
    from tqdm.auto import tqdm

    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"source names must be unique, got {names}")
    return [
        train_source(spec, zoo_dir, root=root, device=device)
        for spec in tqdm(specs, desc="vision zoo", disable=not progress)
    ]


def zoo_table_lines(paths: list[Path]) -> list[str]:
    """A markdown table of built zoo checkpoints: architecture, d, source classes, epochs, source test accuracy and
    training seconds (from each file's metadata)."""
    lines = ["| encoder | arch | d | source classes | epochs | source test acc | train s | config |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for path in paths:
        _, head, meta = load_zoo_encoder(path)
        config = ", ".join(f"{k} {v}" for k, v in meta["config"].items() if k not in ("in_channels", "input_size"))
        lines.append(f"| {Path(path).stem} | {meta['arch']} | {meta['embedding_dim']} | {len(head.labels)} | "
                     f"{meta['spec']['epochs']} | {meta['source_test_accuracy']:.3f} | {meta['train_seconds']:.0f} | "
                     f"{config} |")
    return lines


_ANIMALS, _VEHICLES = (2, 3, 4, 5, 6, 7), (0, 1, 8, 9)
_ALL = tuple(range(10))
_CNN32 = {"in_channels": 3, "input_size": 32}

#: presets of ``experiments/build_vision_zoo.py``: ``small`` fits 2 CPU cores in minutes, ``medium`` (17 encoders, the
#: sources of ``experiments/vision_medium.py``) in about ten; ``full`` wants a GPU
PRESETS: dict[str, list[SourceSpec]] = {
    "small": [
        SourceSpec("c10-resnet8-e3", "cifar10", _ALL, "resnet", {"widths": [8, 16, 32]}, epochs=3),
        SourceSpec("c10-resnet16-e3", "cifar10", _ALL, "resnet", {"widths": [16, 32, 64]}, epochs=3),
        SourceSpec("c10-resnet16-e1", "cifar10", _ALL, "resnet", {"widths": [16, 32, 64]}, epochs=1),
        SourceSpec("animals-resnet16-e3", "cifar10", _ANIMALS, "resnet", {"widths": [16, 32, 64]}, epochs=3),
        SourceSpec("vehicles-resnet16-e3", "cifar10", _VEHICLES, "resnet", {"widths": [16, 32, 64]}, epochs=3),
        SourceSpec("c10-resnet512-e3", "cifar10", _ALL, "resnet", {"widths": [16, 32, 64, 512]}, epochs=3),
        SourceSpec("animals-resnet512-e3", "cifar10", _ANIMALS, "resnet", {"widths": [16, 32, 64, 512]}, epochs=3),
        SourceSpec("c10-cnn512-e4", "cifar10", _ALL, "cnn", {**_CNN32, "width": 16, "embedding_dim": 512}, epochs=4),
        SourceSpec("animals-cnn512-e4", "cifar10", _ANIMALS, "cnn", {**_CNN32, "width": 16, "embedding_dim": 512},
                   epochs=4),
        SourceSpec("mnist-cnn128-e2", "mnist", _ALL, "cnn", {"width": 16, "embedding_dim": 128}, epochs=2),
        SourceSpec("mnist04-cnn64-e2", "mnist", (0, 1, 2, 3, 4), "cnn", {"width": 8, "embedding_dim": 64}, epochs=2),
        SourceSpec("mnist-resnet8-e2", "mnist", _ALL, "resnet",
                   {"in_channels": 1, "widths": [8, 16, 32], "input_size": 28}, epochs=2),
        SourceSpec("random-resnet16", "cifar10", _ALL, "resnet", {"widths": [16, 32, 64]}, epochs=0),
    ],
    "full": [
        *(SourceSpec(f"c10-resnet{w}-b{b}-e{e}", "cifar10", _ALL, "resnet", {"widths": [w, 2 * w, 4 * w], "blocks": b},
                     epochs=e, max_per_class=5000) for w in (16, 32, 64) for b in (1, 3) for e in (5, 30)),
        *(SourceSpec(f"{tag}-resnet32-e20", "cifar10", cls, "resnet", {"widths": [32, 64, 128]}, epochs=20,
                     max_per_class=5000) for tag, cls in (("animals", _ANIMALS), ("vehicles", _VEHICLES))),
        *(SourceSpec(f"{tag}-resnet512-e20", "cifar10", cls, "resnet", {"widths": [32, 64, 128, 512]}, epochs=20,
                     max_per_class=5000) for tag, cls in (("c10", _ALL), ("animals", _ANIMALS))),
        *(SourceSpec(f"{tag}-cnn512-e20", "cifar10", cls, "cnn", {**_CNN32, "width": 32, "embedding_dim": 512},
                     epochs=20, max_per_class=5000) for tag, cls in (("c10", _ALL), ("animals", _ANIMALS))),
        *(SourceSpec(f"mnist-cnn{d}-e{e}", "mnist", _ALL, "cnn", {"width": 32, "embedding_dim": d}, epochs=e,
                     max_per_class=6000) for d in (128, 512) for e in (2, 10)),
        SourceSpec("random-resnet32", "cifar10", _ALL, "resnet", {"widths": [32, 64, 128]}, epochs=0),
    ],
    # issue 25: >= 15 sources of varied architecture (ResNet, CNN), width (8-16 channels; d = 32-512), depth (1 or 2
    # blocks a stage; 3 or 5 stages), source classes (CIFAR-10 all, animals, vehicles; MNIST all, 0-4) and training
    # length (1-4 epochs), and ONE random control; sized for 2 CPU cores (docs/results/vision-medium/). The d = 512
    # ResNets have five stages (16-512 channels, the last at 2 x 2), a quarter of the cost of the small zoo's
    # four-stage ResNet-512 at the same d; the d = 512 encoders are also the target-selection families.
    "medium": [
        SourceSpec("c10-resnet8-e3", "cifar10", _ALL, "resnet", {"widths": [8, 16, 32]}, epochs=3),
        SourceSpec("c10-resnet8-b2-e3", "cifar10", _ALL, "resnet", {"widths": [8, 16, 32], "blocks": 2}, epochs=3),
        SourceSpec("c10-resnet16-e1", "cifar10", _ALL, "resnet", {"widths": [16, 32, 64]}, epochs=1),
        SourceSpec("c10-resnet16-e3", "cifar10", _ALL, "resnet", {"widths": [16, 32, 64]}, epochs=3),
        SourceSpec("animals-resnet8-e3", "cifar10", _ANIMALS, "resnet", {"widths": [8, 16, 32]}, epochs=3),
        SourceSpec("vehicles-resnet8-e3", "cifar10", _VEHICLES, "resnet", {"widths": [8, 16, 32]}, epochs=3),
        SourceSpec("c10-resnet512-e2", "cifar10", _ALL, "resnet", {"widths": [16, 32, 64, 128, 512]}, epochs=2),
        SourceSpec("c10-cnn128-e3", "cifar10", _ALL, "cnn", {**_CNN32, "width": 16, "embedding_dim": 128}, epochs=3),
        SourceSpec("c10-cnn512-e4", "cifar10", _ALL, "cnn", {**_CNN32, "width": 16, "embedding_dim": 512}, epochs=4),
        SourceSpec("c10-cnn512w8-e4", "cifar10", _ALL, "cnn", {**_CNN32, "width": 8, "embedding_dim": 512}, epochs=4),
        SourceSpec("animals-cnn512-e4", "cifar10", _ANIMALS, "cnn", {**_CNN32, "width": 16, "embedding_dim": 512},
                   epochs=4),
        SourceSpec("vehicles-cnn512-e4", "cifar10", _VEHICLES, "cnn", {**_CNN32, "width": 16, "embedding_dim": 512},
                   epochs=4),
        SourceSpec("mnist-cnn128-e2", "mnist", _ALL, "cnn", {"width": 16, "embedding_dim": 128}, epochs=2),
        SourceSpec("mnist04-cnn64-e2", "mnist", (0, 1, 2, 3, 4), "cnn", {"width": 8, "embedding_dim": 64}, epochs=2),
        SourceSpec("mnist-resnet8-e2", "mnist", _ALL, "resnet",
                   {"in_channels": 1, "widths": [8, 16, 32], "input_size": 28}, epochs=2),
        SourceSpec("mnist-cnn512-e2", "mnist", _ALL, "cnn", {"width": 16, "embedding_dim": 512}, epochs=2),
        SourceSpec("random-resnet16", "cifar10", _ALL, "resnet", {"widths": [16, 32, 64]}, epochs=0),
    ],
}
