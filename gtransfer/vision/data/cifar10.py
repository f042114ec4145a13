"""CIFAR-10 (Krizhevsky 2009) from tarballs of 32x32 JPEG files, ``<split>/<class>/<NNNN>.jpg``.

STATS: 50,000 train / 10,000 test RGB 32x32 images, 10 classes. The JPEGs are lossy copies of the
original pixels. Decoding the 50,000 train JPEGs takes about 15 s on one core, so full decodes are
cached as ``.npy`` in the vision cache dir (keyed by the tarball's size and mtime); a
``max_per_class`` load without a cache decodes only the images it keeps.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from gtransfer.io.atomic import save_npy, write_text

from .image_dataset import ImageDataset, first_per_class
from .roots import vision_cache_dir, vision_data_root

__all__ = ["load_cifar10", "CIFAR10_CLASSES"]

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def _decode_jpeg(data: bytes, member: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            array = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValueError(f"CIFAR-10 archive member {member} is not a readable JPEG: {exc}") from exc
    if array.shape != (32, 32, 3):
        raise ValueError(f"CIFAR-10 archive member {member}: expected a 32x32 RGB image, got {array.shape}")
    return array


def _read_archive(path: Path, split: str, max_per_class: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Decode the archive's JPEGs, ordered by (class, file number); only the first ``max_per_class`` per class."""
    blobs: dict[tuple[int, int], tuple[str, bytes]] = {}
    try:
        with tarfile.open(path) as archive:
            for member in archive:
                if not member.isfile():
                    continue
                parts = member.name.split("/")
                if len(parts) != 3 or parts[0] != split or not parts[2].endswith(".jpg"):
                    raise ValueError(f"{path}: unexpected member {member.name} (want {split}/<class>/<NNNN>.jpg)")
                if parts[1] not in CIFAR10_CLASSES:
                    raise ValueError(f"{path}: unknown class folder {parts[1]!r} in {member.name}")
                try:
                    number = int(parts[2][:-4])
                except ValueError as exc:
                    raise ValueError(f"{path}: file name {member.name} is not <NNNN>.jpg") from exc
                blobs[(CIFAR10_CLASSES.index(parts[1]), number)] = (member.name, archive.extractfile(member).read())
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ValueError(f"{path}: corrupt or truncated archive: {exc}") from exc
    keys = sorted(blobs)
    labels = np.array([k[0] for k in keys], dtype=np.int64)
    keep = first_per_class(labels, max_per_class)
    images = np.empty((keep.size, 32, 32, 3), dtype=np.uint8)
    for row, index in enumerate(tqdm(keep, desc=f"decoding CIFAR-10 {split}", disable=keep.size < 5000)):
        images[row] = _decode_jpeg(blobs[keys[index]][1], blobs[keys[index]][0])
    return images, labels[keep]


def load_cifar10(*, split: str = "train", root: str | os.PathLike | None = None,
                 max_per_class: int | None = None, cache_dir: str | os.PathLike | None = None,
                 use_cache: bool = True) -> ImageDataset:
    """Load a CIFAR-10 split as uint8 ``(N, 32, 32, 3)`` images, labels in the standard class order.

    Args:
        split: ``"train"`` or ``"test"``.
        root: the shared data root or its ``vision/`` folder (default: see :func:`vision_data_root`).
        max_per_class: keep the first this many images of each class (by file number).
        cache_dir: where decoded arrays are cached (default: :func:`vision_cache_dir`).
        use_cache: read and write the ``.npy`` cache; a full decode writes it, a capped decode
            without a cache reads only what it keeps and writes nothing.
    """
    if split not in ("train", "test"):
        raise ValueError(f"load_cifar10: split must be 'train' or 'test', got {split!r}")
    archive = vision_data_root(root) / "cifar10_jpeg" / f"cifar10_{split}_jpeg.tar.xz"
    if not archive.is_file():
        raise FileNotFoundError(f"CIFAR-10 archive not found: {archive}")
    stat = archive.stat()
    key = {"source": archive.name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    images = labels = None
    if use_cache:
        cache = vision_cache_dir(cache_dir)
        image_file, label_file, key_file = (
            cache / f"cifar10_{split}_{part}" for part in ("images.npy", "labels.npy", "key.json")
        )
        if key_file.is_file() and image_file.is_file() and label_file.is_file():
            try:
                if json.loads(key_file.read_text()) == key:
                    images, labels = np.load(image_file), np.load(label_file)
            except (ValueError, OSError):
                images = labels = None  # a damaged cache is rebuilt below
        if images is not None:
            keep = first_per_class(labels, max_per_class)
            images, labels = images[keep], labels[keep]
        elif max_per_class is None:
            images, labels = _read_archive(archive, split, None)
            save_npy(image_file, images)
            save_npy(label_file, labels)
            write_text(key_file, json.dumps(key))
    if images is None:
        images, labels = _read_archive(archive, split, max_per_class)
    return ImageDataset(images, labels, CIFAR10_CLASSES, f"cifar10-{split}")
