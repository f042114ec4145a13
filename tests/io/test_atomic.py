"""Atomic writes follow the umask, as a plain ``open`` does (0600 files made a group-shared cache unreadable)."""

from __future__ import annotations

import os
import stat

import pytest

from gtransfer.io.atomic import atomic_folder, save_npy, write_json, write_text


@pytest.fixture
def umask():
    def set_mask(mask: int) -> int:
        return os.umask(mask)

    old = os.umask(0o022)
    os.umask(old)
    yield set_mask
    os.umask(old)


@pytest.mark.parametrize("mask", [0o002, 0o022, 0o077])
def test_files_and_folders_get_the_modes_a_plain_open_gives(tmp_path, umask, mask):
    umask(mask)
    with open(tmp_path / "plain.txt", "w"):
        pass
    os.mkdir(tmp_path / "plain")
    write_text(tmp_path / "a.txt", "x")
    write_json(tmp_path / "a.json", {"a": 1})
    save_npy(tmp_path / "a.npy", [1, 2])
    with atomic_folder(tmp_path / "folder") as staging:
        write_text(staging / "inside.txt", "y")

    def mode(name):
        return stat.S_IMODE((tmp_path / name).stat().st_mode)

    assert mode("plain.txt") == 0o666 & ~mask and mode("plain") == 0o777 & ~mask
    for name in ("a.txt", "a.json", "a.npy", "folder/inside.txt"):
        assert mode(name) == mode("plain.txt"), name
    assert mode("folder") == mode("plain")
