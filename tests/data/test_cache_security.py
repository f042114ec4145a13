"""Processed caches are untrusted input: a planted pickle never runs, and the cache is rebuilt saying why.

A shared ``GTRANSFER_CACHE`` (a lab cluster's group folder) lets anyone who can write it plant a
``data.pt``. PyG's ``fs.torch_load`` retries a refused file with ``weights_only=False``, and OGB
calls a bare ``torch.load``: either would run the payload. Each loader is checked with a pickle whose
``__reduce__`` creates a marker file.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from gtransfer.data import load_dataset
from gtransfer.data.caches import UnsafeCacheError, load_cache_file, rebuilt_caches
from gtransfer.data.errors import CorruptCacheWarning, SkippedMoleculesWarning
from tests.data.test_data_molecules import _export_official_folder, _write_bbbp


class _Payload:
    """Unpickling this runs ``open(marker, "w")``: the shape of a hostile pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _plant(path: Path, marker: Path) -> None:
    torch.save(({"x": _Payload(marker)}, None, dict), path)


def _reload_after_planting(load, cache: Path, name: str, marker: Path):
    first = load()
    (processed,) = [p for p in cache.rglob(name) if p.is_file()]
    _plant(processed, marker)
    before = sum(rebuilt_caches().values())
    with pytest.warns(CorruptCacheWarning, match=r"is unsafe \(UnsafeCacheError: .* asks to unpickle an object .*"
                                                 r"GLOBAL .*cache\(s\) rebuilt by this process"):
        again = load()
    assert not marker.exists(), "the planted pickle ran"
    assert rebuilt_caches()["unsafe"] >= 1 and sum(rebuilt_caches().values()) == before + 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", CorruptCacheWarning)
        load()  # the rebuilt cache reads back without a word
    return first, again


def test_a_planted_pickle_is_refused_by_the_strict_reader(tmp_path):
    marker = tmp_path / "payload_ran"
    _plant(tmp_path / "data.pt", marker)
    with pytest.raises(UnsafeCacheError, match=r"data.pt asks to unpickle an object a gtransfer cache never holds"):
        load_cache_file(tmp_path / "data.pt")
    assert not marker.exists()


def test_planted_pickle_in_a_molecule_cache_never_runs(data_root, tmp_path):
    import pandas as pd

    _write_bbbp(tmp_path / "root", pd.read_csv(data_root / "moleculenet" / "bbbp" / "raw" / "BBBP.csv").head(30))
    kwargs = dict(root=tmp_path / "root", cache=tmp_path / "cache", progress=False, verify_size=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedMoleculesWarning)
        first, again = _reload_after_planting(lambda: load_dataset("ogbg-molbbbp", **kwargs), tmp_path / "cache",
                                              "data.pt", tmp_path / "payload_ran")
    assert torch.equal(again._data.x, first._data.x) and again.smiles == first.smiles


def test_planted_pickle_in_a_tu_cache_never_runs(data_root, tmp_path):
    first, again = _reload_after_planting(lambda: load_dataset("MUTAG", root=data_root, cache=tmp_path / "cache"),
                                          tmp_path / "cache", "data.pt", tmp_path / "payload_ran")
    assert torch.equal(again._data.edge_index, first._data.edge_index) and torch.equal(again._data.x, first._data.x)


def test_planted_pickle_in_a_planetoid_cache_never_runs(data_root, tmp_path):
    first, again = _reload_after_planting(lambda: load_dataset("Cora", root=data_root, cache=tmp_path / "cache"),
                                          tmp_path / "cache", "data.pt", tmp_path / "payload_ran")
    assert torch.equal(again._data.x, first._data.x) and int(again._data.train_mask.sum()) == 140


def test_planted_pickle_in_an_official_ogb_cache_never_runs(data_root, data_cache, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedMoleculesWarning)
        ours = load_dataset("ogbg-molbbbp", root=data_root, cache=data_cache, progress=False)
    _export_official_folder(ours, 40, tmp_path / "root")
    first, again = _reload_after_planting(
        lambda: load_dataset("ogbg-molbbbp", root=tmp_path / "root", cache=tmp_path / "cache", verify_size=False),
        tmp_path / "cache", "geometric_data_processed.pt", tmp_path / "payload_ran")
    assert torch.equal(again._data.x, first._data.x) and len(again) == 40
