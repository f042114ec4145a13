"""Vision loaders read the shipped formats (network blocked), tasks are deterministic, tensors are adapted."""

from __future__ import annotations

import gzip
import io
import socket
import tarfile

import numpy as np
import pytest
import torch

from gtransfer.data.class_subsets import describe_labels
from gtransfer.vision.data import (
    CIFAR10_CLASSES,
    ImageDataset,
    first_per_class,
    image_batch_to,
    images_to_tensor,
    load_cifar10,
    load_digits_images,
    load_image_dataset,
    load_mnist,
    load_torchvision_dataset,
    make_class_task,
    make_loader,
    read_idx,
    torchvision_available,
)

# The official MNIST test-set class counts and first ten test labels (LeCun et al.).
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
MNIST_TEST_FIRST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test: loaders must only read local files."""

    def refuse(*args, **kwargs):
        raise AssertionError("a vision loader tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _write_idx(path, array: np.ndarray, type_byte: int, compress: bool) -> None:
    header = bytes([0, 0, type_byte, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if compress:
        payload = gzip.compress(payload)
    path.write_bytes(payload)


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trip(tmp_path, compress):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    ints = np.array([-5, 70000, 3], dtype=np.int32)
    _write_idx(tmp_path / ("a.gz" if compress else "a"), images, 0x08, compress)
    _write_idx(tmp_path / ("b.gz" if compress else "b"), ints, 0x0C, compress)
    np.testing.assert_array_equal(read_idx(tmp_path / ("a.gz" if compress else "a")), images)
    got = read_idx(tmp_path / ("b.gz" if compress else "b"))
    np.testing.assert_array_equal(got, ints)
    assert got.dtype == np.int32


def test_read_idx_rejects_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="IDX file not found"):
        read_idx(tmp_path / "missing.gz")
    (tmp_path / "magic").write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x01\x07")
    with pytest.raises(ValueError, match="bad magic"):
        read_idx(tmp_path / "magic")
    (tmp_path / "short").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
    with pytest.raises(ValueError, match=r"declares shape \(5,\)"):
        read_idx(tmp_path / "short")
    (tmp_path / "bad.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="cannot be read as gzip"):
        read_idx(tmp_path / "bad.gz")


@pytest.mark.shared_data
def test_mnist_test_split_matches_official_counts(shared_data):
    mnist = load_mnist(split="test", root=shared_data)
    assert mnist.images.shape == (10000, 28, 28, 1) and mnist.images.dtype == np.uint8
    assert np.bincount(mnist.labels).tolist() == MNIST_TEST_COUNTS
    assert mnist.labels[:10].tolist() == MNIST_TEST_FIRST_LABELS
    capped = load_mnist(split="test", root=shared_data, max_per_class=3)
    assert np.bincount(capped.labels).tolist() == [3] * 10
    # the cap keeps the first images of each digit, in file order
    first_sevens = np.flatnonzero(mnist.labels == 7)[:3]
    np.testing.assert_array_equal(capped.images[capped.labels == 7], mnist.images[first_sevens])


def test_mnist_reads_gunzipped_folder_and_reports_missing(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(4, 28, 28), dtype=np.uint8)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", images, 0x08, compress=False)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([3, 1, 3, 0], dtype=np.uint8), 0x08, compress=False)
    mnist = load_mnist(split="test", root=tmp_path)
    np.testing.assert_array_equal(mnist.images[..., 0], images)
    assert mnist.labels.tolist() == [3, 1, 3, 0]
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist(split="train", root=tmp_path)
    with pytest.raises(ValueError, match="split must be"):
        load_mnist(split="valid", root=tmp_path)


def _direct_jpeg(shared_data, member: str) -> np.ndarray:
    from PIL import Image

    with tarfile.open(shared_data / "vision" / "cifar10_jpeg" / "cifar10_test_jpeg.tar.xz") as archive:
        data = archive.extractfile(member).read()
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.mark.shared_data
def test_cifar10_capped_load_matches_the_archive(shared_data, tmp_path):
    cifar = load_cifar10(split="test", root=shared_data, max_per_class=4, cache_dir=tmp_path)
    assert cifar.images.shape == (40, 32, 32, 3) and cifar.classes == CIFAR10_CLASSES
    assert cifar.labels.tolist() == np.repeat(np.arange(10), 4).tolist()
    assert not any(tmp_path.iterdir()), "a capped decode must not write a (partial) cache"
    # sample 1 of class "cat" (id 3) is file test/cat/0001.jpg, decoded independently here
    np.testing.assert_array_equal(cifar.images[3 * 4 + 1], _direct_jpeg(shared_data, "test/cat/0001.jpg"))


@pytest.mark.shared_data
@pytest.mark.slow
def test_cifar10_full_decode_is_cached_and_consistent(shared_data, tmp_path):
    full = load_cifar10(split="test", root=shared_data, cache_dir=tmp_path)
    assert np.bincount(full.labels).tolist() == [1000] * 10
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cifar10_test_images.npy", "cifar10_test_key.json", "cifar10_test_labels.npy"]
    capped_from_cache = load_cifar10(split="test", root=shared_data, max_per_class=5, cache_dir=tmp_path)
    capped_direct = load_cifar10(split="test", root=shared_data, max_per_class=5, use_cache=False)
    np.testing.assert_array_equal(capped_from_cache.images, capped_direct.images)
    np.testing.assert_array_equal(capped_from_cache.labels, capped_direct.labels)
    np.testing.assert_array_equal(full.images[9999], _direct_jpeg(shared_data, "test/truck/0999.jpg"))


def _make_archive(path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:xz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def _jpeg_bytes(value: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.full((32, 32, 3), value, dtype=np.uint8)).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def test_cifar10_corrupt_archives_name_the_problem(tmp_path):
    folder = tmp_path / "vision" / "cifar10_jpeg"
    folder.mkdir(parents=True)
    archive = folder / "cifar10_test_jpeg.tar.xz"
    _make_archive(archive, {"test/cat/0000.jpg": _jpeg_bytes(200), "test/dog/0000.jpg": b"garbage"})
    with pytest.raises(ValueError, match="test/dog/0000.jpg is not a readable JPEG"):
        load_cifar10(split="test", root=tmp_path, use_cache=False)
    _make_archive(archive, {"test/unicorn/0000.jpg": _jpeg_bytes(10)})
    with pytest.raises(ValueError, match="unknown class folder 'unicorn'"):
        load_cifar10(split="test", root=tmp_path, use_cache=False)
    archive.write_bytes(b"\xfd7zXZ\x00truncated")
    with pytest.raises(ValueError, match="corrupt or truncated"):
        load_cifar10(split="test", root=tmp_path, use_cache=False)
    with pytest.raises(FileNotFoundError, match="cifar10_train_jpeg.tar.xz"):
        load_cifar10(split="train", root=tmp_path)


def test_cifar10_synthetic_archive_order_and_pixels(tmp_path):
    folder = tmp_path / "vision" / "cifar10_jpeg"
    folder.mkdir(parents=True)
    _make_archive(folder / "cifar10_test_jpeg.tar.xz", {
        "test/truck/0001.jpg": _jpeg_bytes(30), "test/airplane/0002.jpg": _jpeg_bytes(220),
        "test/truck/0000.jpg": _jpeg_bytes(120)})
    cifar = load_cifar10(split="test", root=tmp_path, cache_dir=tmp_path / "cache")
    assert cifar.labels.tolist() == [0, 9, 9]  # sorted by (class, file number)
    assert np.abs(cifar.images.mean(axis=(1, 2, 3)) - [220, 120, 30]).max() < 2  # JPEG of a flat image
    cached = load_cifar10(split="test", root=tmp_path, cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(cached.images, cifar.images)


def test_digits_are_sklearn_digits_rescaled():
    from sklearn.datasets import load_digits

    reference = load_digits()
    digits = load_digits_images()
    assert digits.images.shape == (1797, 8, 8, 1)
    np.testing.assert_array_equal(digits.images[..., 0], np.round(reference.images * 255 / 16).astype(np.uint8))
    np.testing.assert_array_equal(digits.labels, reference.target)
    assert np.bincount(load_image_dataset("digits", max_per_class=10).labels).tolist() == [10] * 10
    with pytest.raises(ValueError, match="unknown image dataset"):
        load_image_dataset("imagenet")


def test_torchvision_datasets_only_when_importable(tmp_path):
    if torchvision_available():
        pytest.skip("torchvision is importable here; its loaders are exercised where files exist")
    with pytest.raises(ImportError, match="torchvision is not importable"):
        load_torchvision_dataset("MNIST", tmp_path)


def test_image_dataset_validates_shapes():
    with pytest.raises(ValueError, match="must be \\(N, H, W, 1\\|3\\)"):
        ImageDataset(np.zeros((2, 8, 8), np.uint8), np.zeros(2, np.int64), ("a",), "x")
    with pytest.raises(ValueError, match="does not match 2 images"):
        ImageDataset(np.zeros((2, 8, 8, 1), np.uint8), np.zeros(3, np.int64), ("a",), "x")
    with pytest.raises(ValueError, match="labels outside"):
        ImageDataset(np.zeros((2, 8, 8, 1), np.uint8), np.array([0, 2]), ("a", "b"), "x")
    assert first_per_class(np.array([1, 0, 1, 1, 0]), 2).tolist() == [0, 1, 2, 4]


def test_class_task_is_deterministic_with_the_shared_metadata():
    digits = load_digits_images()
    task = make_class_task(digits, num_classes=4, imbalance_ratio=5.0, seed=7, max_per_class=100)
    again = make_class_task(digits, num_classes=4, imbalance_ratio=5.0, seed=7, max_per_class=100)
    np.testing.assert_array_equal(task.train.images, again.train.images)
    assert task.num_classes == 4 and len(task.original_classes) == 4
    all_labels = np.concatenate([task.train.labels, task.valid.labels, task.test.labels])
    assert task.info == describe_labels(all_labels, name=task.name)
    assert max(task.info.class_counts) == 100 and min(task.info.class_counts) == 20
    # parts are disjoint rows of the source and each keeps every class
    train_rows, valid_rows, test_rows = (set(p.tolist()) for p in task.source_indices)
    assert not (train_rows & valid_rows or train_rows & test_rows or valid_rows & test_rows)
    np.testing.assert_array_equal(digits.images[task.source_indices[2]], task.test.images)
    for part in (task.train, task.valid, task.test):
        assert set(part.labels.tolist()) == {0, 1, 2, 3}
    # remapped label k is original class original_classes[k]
    for k, original in enumerate(task.original_classes):
        assert task.train.classes[k] == digits.classes[original]
    assert task.to_dict()["split_sizes"] == [len(task.train), len(task.valid), len(task.test)]


def test_images_to_tensor_adapts_channels_size_and_scale():
    grey = np.array([0, 255, 51, 204], dtype=np.uint8).reshape(1, 2, 2, 1)
    x = images_to_tensor(grey)
    assert x.shape == (1, 1, 2, 2) and x.dtype == torch.float32
    np.testing.assert_allclose(x.flatten().numpy(), [-1.0, 1.0, -0.6, 0.6], atol=1e-6)
    rgb = images_to_tensor(grey, input_shape=(3, 2, 2))
    assert torch.equal(rgb[:, 0], rgb[:, 2]) and torch.equal(rgb[:, 1], x[:, 0])
    colour = np.zeros((1, 4, 4, 3), dtype=np.uint8)
    colour[..., 0] = 255  # pure red -> luma 0.299
    assert images_to_tensor(colour, input_shape=(1, 4, 4)).flatten()[0].item() == pytest.approx(0.299 * 2 - 1, abs=1e-6)
    resized = images_to_tensor(np.full((2, 8, 8, 1), 255, np.uint8), input_shape=(3, 32, 32))
    assert resized.shape == (2, 3, 32, 32) and torch.allclose(resized, torch.ones_like(resized))
    with pytest.raises(ValueError, match="channels must be 1 or 3"):
        images_to_tensor(grey, input_shape=(2, 2, 2))


def test_loader_batches_and_adapter():
    digits = load_digits_images(max_per_class=5)
    loader = make_loader(digits, input_shape=(1, 28, 28), batch_size=16, shuffle=True, seed=3)
    batches = list(loader)
    assert [b[0].shape[0] for b in batches] == [16, 16, 16, 2]
    x, y = image_batch_to(batches[0], "cpu")
    assert x.shape == (16, 1, 28, 28)
    assert sorted(torch.cat([b[1] for b in batches]).tolist()) == sorted(digits.labels.tolist())
    again = list(make_loader(digits, input_shape=(1, 28, 28), batch_size=16, shuffle=True, seed=3))
    assert torch.equal(again[0][1], batches[0][1])
