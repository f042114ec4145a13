"""The vision zoo on tiny inputs: atomic checkpoints with metadata, resumable builds, faithful reloads."""

from __future__ import annotations

import os

import pytest
import torch

from gtransfer.vision.data import images_to_tensor
from gtransfer.vision.zoo import SourceSpec, build_zoo, load_zoo_encoder, source_task, zoo_encoders

TINY = [
    SourceSpec("tiny-cnn", "digits", (0, 1, 2), "cnn", {"width": 4, "embedding_dim": 16, "input_size": 8},
               epochs=3, max_per_class=30, batch_size=16, lr=1e-2),
    SourceSpec("tiny-random-resnet", "digits", (3, 4, 5, 6), "resnet",
               {"in_channels": 1, "widths": [4, 8], "input_size": 8}, epochs=0, max_per_class=30),
]


@pytest.fixture(scope="module")
def tiny_zoo(tmp_path_factory):
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("zoo")
    build_zoo(TINY, folder, progress=False)
    return folder


def test_zoo_files_and_metadata(tiny_zoo):
    assert zoo_encoders(tiny_zoo) == ["tiny-cnn", "tiny-random-resnet"]
    assert sorted(p.name for p in tiny_zoo.iterdir()) == ["tiny-cnn.pt", "tiny-random-resnet.pt"], "no temp files left"
    _, head, meta = load_zoo_encoder(tiny_zoo / "tiny-cnn.pt")
    assert meta["spec"] == TINY[0].to_dict() and meta["format"] == "gtransfer-vision-source/2"
    assert meta["embedding_dim"] == 16 and meta["input_shape"] == [1, 8, 8]
    # the one source-head format (models.source_heads), as the graph zoo writes it
    assert meta["source_head"] == {"kind": "multiclass", "labels": ["0", "1", "2"], "task": "source:tiny-cnn",
                                   "input": {"kind": "image", "input_shape": [1, 8, 8]}}
    assert head.labels == ("0", "1", "2") and head.weight.shape == (3, 16) and head.num_source_labels == 3
    assert meta["source_task"]["class_counts"] == [30, 30, 30]
    assert meta["finetune"]["mode"] == "full" and meta["finetune"]["epochs_run"] == 3
    _, _, random_meta = load_zoo_encoder(tiny_zoo / "tiny-random-resnet.pt")
    assert random_meta["finetune"]["mode"] == "linear"  # untrained encoder, trained source classifier


@pytest.mark.parametrize("index", [0, 1])
def test_reloaded_encoder_and_head_reproduce_the_recorded_source_accuracy(tiny_zoo, index):
    spec = TINY[index]
    encoder, head, meta = load_zoo_encoder(tiny_zoo / f"{spec.name}.pt")
    task = source_task(spec)
    with torch.no_grad():
        features = encoder.embed(images_to_tensor(task.test.images, input_shape=tuple(meta["input_shape"]))).numpy()
    accuracy = float((head.logits(features).argmax(1) == task.test.labels).mean())
    assert accuracy == pytest.approx(meta["source_test_accuracy"], abs=1e-12)


def test_untrained_source_keeps_its_initialisation(tiny_zoo):
    from gtransfer.vision.models import build_encoder

    encoder, _, meta = load_zoo_encoder(tiny_zoo / "tiny-random-resnet.pt")
    torch.manual_seed(TINY[1].seed)
    fresh = build_encoder("resnet", **meta["config"])
    for (name, a), b in zip(encoder.state_dict().items(), fresh.state_dict().values()):
        assert torch.equal(a, b), name


def test_build_resumes_and_rebuilds_on_a_changed_spec(tiny_zoo):
    path = tiny_zoo / "tiny-cnn.pt"
    stamp = path.stat().st_mtime_ns
    build_zoo(TINY[:1], tiny_zoo, progress=False)
    assert path.stat().st_mtime_ns == stamp, "an encoder with the same spec is not retrained"
    changed = SourceSpec(**{**TINY[0].__dict__, "epochs": 1})
    build_zoo([changed], tiny_zoo, progress=False)
    _, _, meta = load_zoo_encoder(path)
    assert meta["spec"]["epochs"] == 1 and meta["finetune"]["epochs_run"] == 1
    build_zoo(TINY[:1], tiny_zoo, progress=False)  # restore for the other tests
    with pytest.raises(ValueError, match="unique"):
        build_zoo([TINY[0], TINY[0]], tiny_zoo, progress=False)


def test_a_first_layout_checkpoint_loads_migrated_with_the_same_theta_and_is_not_retrained(tiny_zoo, tmp_path):
    """Zoos built before the one source-head format (``head.*``, ``source_class_names``) still load and resume."""
    import numpy as np

    from gtransfer.io.checkpoints import load_checkpoint, save_checkpoint

    state, meta = load_checkpoint(tiny_zoo / "tiny-cnn.pt")
    old_state = {("head." + k[len("source_head."):] if k.startswith("source_head.") else k): v
                 for k, v in state.items()}
    old_meta = {k: v for k, v in meta.items() if k != "source_head"}
    old_meta.update({"format": "gtransfer-vision-source/1", "source_class_names": meta["source_head"]["labels"]})
    old_path = save_checkpoint(tmp_path / "tiny-cnn.pt", old_state, old_meta)
    encoder, head, _ = load_zoo_encoder(old_path)
    new_encoder, new_head, _ = load_zoo_encoder(tiny_zoo / "tiny-cnn.pt")
    task = source_task(TINY[0])
    with torch.no_grad():
        features = encoder.embed(images_to_tensor(task.test.images, input_shape=(1, 8, 8)))
        assert torch.equal(features, new_encoder.embed(images_to_tensor(task.test.images, input_shape=(1, 8, 8))))
        # the first layout's own theta: the softmax of its nn.Linear head (in float64)
        linear = torch.nn.Linear(16, 3).double()
        linear.load_state_dict({k[len("head."):]: v.double() for k, v in old_state.items() if k.startswith("head.")})
        expected = torch.softmax(linear(features.double()), dim=1).numpy()
    x = features.numpy()
    np.testing.assert_allclose(head.probabilities(x), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(head.probabilities(x), new_head.probabilities(x))
    assert head.labels == new_head.labels == ("0", "1", "2")
    stamp = old_path.stat().st_mtime_ns
    build_zoo(TINY[:1], tmp_path, progress=False)
    assert old_path.stat().st_mtime_ns == stamp, "a first-layout checkpoint of the same spec is kept, not retrained"


def test_loading_rejects_foreign_checkpoints(tmp_path):
    from gtransfer.io.checkpoints import save_checkpoint

    save_checkpoint(tmp_path / "graph.pt", {"w": torch.zeros(2)}, {"arch": "gin"})
    with pytest.raises(ValueError, match="not a vision zoo checkpoint"):
        load_zoo_encoder(tmp_path / "graph.pt")
    with pytest.raises(FileNotFoundError):
        load_zoo_encoder(tmp_path / "missing.pt")
    with pytest.raises(FileNotFoundError, match="zoo folder not found"):
        zoo_encoders(tmp_path / "nowhere")


def test_build_script_runs_a_preset_subset(tmp_path, monkeypatch, capsys):
    """The script's CLI path (preset lookup, --only, table) on the tiny specs."""
    import importlib.util
    from pathlib import Path

    import gtransfer.vision.zoo

    monkeypatch.setitem(gtransfer.vision.zoo.PRESETS, "small", TINY)
    script = Path(__file__).resolve().parents[2] / "experiments" / "build_vision_zoo.py"
    module_spec = importlib.util.spec_from_file_location("build_vision_zoo", script)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    assert module.main(["--preset", "small", "--out", str(tmp_path), "--only", "tiny-cnn"]) == 0
    out = capsys.readouterr().out
    assert "| tiny-cnn | cnn | 16 | 3 |" in out
    assert os.listdir(tmp_path) == ["tiny-cnn.pt"]
    with pytest.raises(SystemExit):
        module.main(["--preset", "small", "--out", str(tmp_path), "--only", "nope"])
