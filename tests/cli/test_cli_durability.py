"""Files the CLI leaves are written atomically: a full disk midway leaves the previous file, not half of one."""

from __future__ import annotations

import contextlib
import errno
import shutil

import numpy as np

from gtransfer.cli import main


def _half_then_full_disk(source, target, *args, **kwargs):
    data = source.read()
    target.write(data[: len(data) // 2])
    raise OSError(errno.ENOSPC, "No space left on device")


def test_embed_out_on_a_full_disk_keeps_the_previous_features(tmp_path, monkeypatch, capsys):
    from gtransfer.io.checkpoints import save_checkpoint
    from gtransfer.models.specs import resolve_encoder

    encoder = resolve_encoder("random:gin:layers=1,dim=8,seed=4").load(node_features=7)
    path = save_checkpoint(tmp_path / "gin.pt", encoder.state_dict(), {"architecture": encoder.config})
    out = tmp_path / "mutag.npy"
    args = ["embed", str(path), "MUTAG", "--cache", str(tmp_path / "cache"), "--out", str(out)]
    assert main(args) == 0
    good = np.load(out)
    good_labels = np.load(out.with_suffix(".labels.npy"))
    # the full disk strikes in the copy, however it is done (sendfile for shutil.copyfile, a stream copy otherwise)
    monkeypatch.setattr(shutil, "copyfileobj", _half_then_full_disk)
    monkeypatch.setattr(shutil, "_fastcopy_sendfile", lambda source, target: _half_then_full_disk(source, target))
    with contextlib.suppress(OSError):
        main(args)
    capsys.readouterr()
    np.testing.assert_array_equal(np.load(out), good)
    np.testing.assert_array_equal(np.load(out.with_suffix(".labels.npy")), good_labels)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cache",
        "gin.pt",
        "mutag.json",
        "mutag.labels.npy",
        "mutag.npy",
    ]


def test_finetune_and_pretrain_check_out_before_any_work(tmp_path, capsys, monkeypatch):
    """--out was checked only after training (issue 27): a folder, or a place that cannot be written, now fails at once,
    before any data is read or any model trained."""
    import gtransfer.pretrain
    import gtransfer.selection.finetuning as finetuning

    def never(*args, **kwargs):
        raise AssertionError("TRAINING STARTED")

    monkeypatch.setattr(finetuning, "finetune_pack", never)
    monkeypatch.setattr(gtransfer.pretrain, "pretrain_encoder", never)
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    runs = {
        "finetune folder": ["finetune", "--encoder", "random:gin", "--target", "ogbg-molbace", "--out", str(tmp_path)],
        "finetune unwritable": ["finetune", "--encoder", "random:gin", "--target", "ogbg-molbace",
                                "--out", str(blocker / "r.json")],
        "pretrain folder": ["pretrain", "--strategy", "attrmask", "--dataset", "ogbg-molbace", "--out", str(tmp_path)],
        "pretrain unwritable": ["pretrain", "--strategy", "attrmask", "--dataset", "ogbg-molbace",
                                "--out", str(blocker / "c.pt")],
    }
    for name, argv in runs.items():
        assert main(argv) == 2, name
        err = capsys.readouterr().err
        assert "TRAINING STARTED" not in err and "--out" in err, (name, err)
