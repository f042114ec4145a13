"""The embedding cache: a damaged entry costs one recomputation (with a warning), an unwritable folder one line."""

from __future__ import annotations

import errno
import shutil
import warnings

import numpy as np
import pytest

from gtransfer.embeddings.cache import ArrayCache, DamagedCacheWarning
from gtransfer.io.atomic import UnwritableFolderError

FIELDS = {"encoder": "e", "dataset": "d", "layer": -1}


def _truncate_npy(folder):
    path = folder / "features.npy"
    path.write_bytes(path.read_bytes()[:60])


def _flip_a_byte(folder):
    path = folder / "features.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


def _meta_garbage(folder):
    (folder / "meta.json").write_bytes(b"\xff\xfe{not json")


def _meta_missing(folder):
    (folder / "meta.json").unlink()


def _entry_is_a_file(folder):
    shutil.rmtree(folder)
    folder.write_bytes(b"a stray file")


def _foreign_array_name(folder):
    text = (folder / "meta.json").read_text().replace('"features"', '"../../outside"')
    (folder / "meta.json").write_text(text)


@pytest.mark.parametrize(
    "damage", [_truncate_npy, _flip_a_byte, _meta_garbage, _meta_missing, _entry_is_a_file, _foreign_array_name]
)
def test_a_damaged_entry_is_rebuilt_once_with_a_warning(tmp_path, damage):
    cache = ArrayCache(tmp_path / "cache")
    calls = []

    def compute():
        calls.append(1)
        return {"features": np.arange(12.0).reshape(3, 4)}

    cache.get_or_compute(FIELDS, compute)
    damage(cache.entry_folder(FIELDS))
    with pytest.warns(
        DamagedCacheWarning, match=r"embedding cache entry .* is damaged \(.*\); it is removed and recomputed"
    ):
        rebuilt = cache.get_or_compute(FIELDS, compute)
    assert not rebuilt.from_cache and len(calls) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt entry is whole: no warning, no recomputation
        again = cache.get_or_compute(FIELDS, compute)
    assert again.from_cache and len(calls) == 2
    np.testing.assert_array_equal(again.load("features"), np.arange(12.0).reshape(3, 4))


def test_an_unwritable_cache_folder_is_one_line_before_computing(tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    calls = []
    with pytest.raises(
        UnwritableFolderError, match=r"the embedding cache .*a_file/cache is not writable \(.*\); make it writable"
    ):
        ArrayCache(blocker / "cache").get_or_compute(FIELDS, lambda: calls.append(1) or {"features": np.zeros(2)})
    assert calls == []

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("tempfile.TemporaryFile", read_only)  # a read-only mount (root ignores permission bits)
    with pytest.raises(UnwritableFolderError) as error:
        ArrayCache(tmp_path / "ro").get_or_compute(FIELDS, lambda: {"features": np.zeros(2)})
    assert error.value.errno == errno.EROFS
    assert str(error.value) == (
        f"the embedding cache {tmp_path / 'ro'} is not writable (Read-only file system); "
        "make it writable or choose another folder (caches: GTRANSFER_CACHE or the command's --cache option)"
    )
