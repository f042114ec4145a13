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


# -- hostile and malformed files: refused in one line, before anything is allocated ---------------------
def _crafted_320_gb(path) -> None:
    """A legacy-format file of a few hundred bytes whose one tensor declares 8e10 float32 elements (320 GB)."""
    torch.save({"w": torch.zeros(30)}, path, _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    at = data.index(b"K\x1e", data.index(b"cpu"))  # BININT1 30: the storage's declared element count
    path.write_bytes(data[:at] + b"\x8a\x05" + int(8e10).to_bytes(5, "little") + data[at + 2:])  # LONG1 8e10


def test_declared_sizes_past_the_file_are_refused_before_torch_allocates(tmp_path, monkeypatch):
    path = tmp_path / "crafted.pt"
    _crafted_320_gb(path)
    assert path.stat().st_size < 1024

    def no_load(*args, **kwargs):
        raise AssertionError("torch.load was reached: it would allocate the declared 320 GB")

    monkeypatch.setattr(torch, "load", no_load)
    with pytest.raises(ValueError, match=r"crafted.pt: its tensors declare 80,000,000,000 elements but the file has "
                                         r"only \d+ bytes"):
        read_checkpoint(path)


def test_real_checkpoints_pass_the_size_check_in_both_formats(tmp_path):
    state = {"w": torch.arange(300.0).reshape(100, 3), "b": torch.ones(4, dtype=torch.float64)}
    torch.save(state, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    save_checkpoint(tmp_path / "new.pt", state, {"a": 1})
    for name in ("legacy.pt", "new.pt"):
        got = read_checkpoint(tmp_path / name)["state_dict"]
        assert torch.equal(got["w"], state["w"]) and torch.equal(got["b"], state["b"])


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", r"empty.pt is an empty file"),
        ("a string", r"holds neither a gtransfer checkpoint nor a state_dict of tensors \(it holds a str\)"),
        (
            {"format": "gtransfer-checkpoint", "version": 1, "state_dict": "abc", "metadata": {}},
            r"'state_dict' must be a dict of tensors, got str",
        ),
        (
            {"format": "gtransfer-checkpoint", "version": 1, "state_dict": {}, "metadata": "x"},
            r"'metadata' must be a dict, got str",
        ),
        ({"format": "gtransfer-checkpoint", "version": 1}, r"'state_dict' must be a dict of tensors, got NoneType"),
        (
            {"format": "gtransfer-checkpoint", "version": 1, "state_dict": {}, "metadata": {"architecture": "gin"}},
            r"metadata 'architecture' must be a dict, got str",
        ),
    ],
)
def test_empty_files_and_wrong_types_are_one_line_errors(tmp_path, content, message):
    from gtransfer.models.loading import load_encoder

    path = tmp_path / "empty.pt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    for read in (read_checkpoint, load_encoder):
        with pytest.raises(ValueError, match=message) as error:
            read(path)
        assert "\n" not in str(error.value)


def test_an_architecture_asking_for_a_huge_encoder_is_refused_before_it_is_built(tmp_path, no_huge_layers):
    from gtransfer.models.loading import load_encoder

    architecture = {"arch": "gin", "num_layers": 5, "hidden_dim": 1_000_000, "node_features": "hu2020",
                    "edge_features": "hu2020"}
    save_checkpoint(tmp_path / "huge.pt", {"node_encoder.embeddings.0.weight": torch.zeros(2, 3)},
                    {"architecture": architecture})
    with pytest.raises(ValueError, match=r"huge.pt: 'node_encoder.embeddings.0.weight' has shape \(2, 3\), expected"):
        load_encoder(tmp_path / "huge.pt")
