"""Checkpoints: atomic writes, weights_only reads, refusals with clear errors."""

from __future__ import annotations

import hashlib

import pytest
import torch

from gtransfer.io import checkpoints
from gtransfer.io.checkpoints import load_checkpoint, read_checkpoint, save_checkpoint
from gtransfer.io.digests import file_sha256


def _state():
    torch.manual_seed(0)
    return {"w": torch.randn(3, 4), "b": torch.arange(4), "steps": torch.tensor(7)}


def test_round_trip_is_exact_and_plain_weights_only(tmp_path):
    meta = {"architecture": {"arch": "gin", "num_layers": 2}, "strategy": "attrmask", "epochs": 3, "seed": 1,
            "corpus": None, "lr": 1e-3}
    path = save_checkpoint(tmp_path / "sub" / "model.pt", _state(), meta, extra={"epoch": 3})
    raw = torch.load(path, weights_only=True)  # no arbitrary unpickling needed
    assert raw["metadata"] == meta and raw["extra"] == {"epoch": 3}
    state, loaded_meta = load_checkpoint(path)
    assert loaded_meta == meta
    for key, value in _state().items():
        assert torch.equal(state[key], value) and state[key].dtype == value.dtype
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]  # no temporary files left


def test_failed_write_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "model.pt", _state(), {"epoch": 1})
    before = path.read_bytes()

    def crash(obj, handle, *args, **kwargs):
        handle.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoints.torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, _state(), {"epoch": 2})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


@pytest.mark.parametrize("state,meta,match", [
    ({"w": [1, 2]}, {}, "str -> Tensor"),
    ({"w": torch.zeros(1)}, {"fn": print}, "JSON-serialisable"),
    ([torch.zeros(1)], {}, "mapping"),
])
def test_bad_inputs_are_value_errors(tmp_path, state, meta, match):
    with pytest.raises(ValueError, match=match):
        save_checkpoint(tmp_path / "x.pt", state, meta)
    assert not (tmp_path / "x.pt").exists()


class _Payload:
    pass


def test_refuses_files_that_need_unpickling_and_corrupt_files(tmp_path):
    torch.save({"w": torch.zeros(1), "obj": _Payload()}, tmp_path / "pickled.pt")
    with pytest.raises(ValueError, match="weights_only=True"):
        read_checkpoint(tmp_path / "pickled.pt")
    (tmp_path / "corrupt.pt").write_bytes(b"\x80\x02not really")
    with pytest.raises(ValueError, match="refusing"):
        read_checkpoint(tmp_path / "corrupt.pt")
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="neither"):
        read_checkpoint(tmp_path / "list.pt")
    with pytest.raises(FileNotFoundError, match="absent.pt"):
        read_checkpoint(tmp_path / "absent.pt")


def test_legacy_bare_state_dict_loads_with_empty_metadata(tmp_path):
    torch.save(_state(), tmp_path / "legacy.pth", _use_new_zipfile_serialization=False)
    state, meta = load_checkpoint(tmp_path / "legacy.pth")
    assert meta == {} and torch.equal(state["w"], _state()["w"])


def test_file_sha256_matches_hashlib(tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", _state(), {})
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()
