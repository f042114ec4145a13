"""Every ```python block of README.md runs as written (doctest-style), on the data shipped in datasets/.

A block runs in a fresh namespace from the repository root (the README's relative paths are relative to
it); the studies block runs in a temporary folder beside the YAML block before it, written there as the
file the Python block loads. A block is skipped only for a stated reason: the vision block reads CIFAR-10,
which is not shipped, so it runs only where the shared data root is there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, _shared_data_dir

README = REPO_ROOT / "README.md"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
#: what a block needs beyond the shipped data, by a call it makes
_NEEDS_SHARED = {"load_image_dataset(": "reads CIFAR-10 from <data root>/vision/, not shipped in datasets/"}


def _blocks() -> list[tuple[str, str, str | None]]:
    """``(id, code, the YAML block just before it or None)`` for each python block, in order."""
    text = README.read_text()
    blocks, previous_yaml = [], None
    for match in _FENCE.finditer(text):
        language, body = match.group(1), match.group(2)
        if language == "python":
            line = text.count("\n", 0, match.start()) + 1
            heading = [h for h in re.findall(r"^#+ (.*)$", text[: match.start()], re.MULTILINE)][-1]
            blocks.append((f"line{line}-{re.sub(r'[^A-Za-z]+', '-', heading).strip('-')}", body, previous_yaml))
        previous_yaml = body if language == "yaml" else None
    return blocks


BLOCKS = _blocks()


def test_the_readme_has_its_python_blocks():
    assert len(BLOCKS) >= 8  # metrics, data, models, training, embeddings, ranking, studies, vision


@pytest.mark.slow
@pytest.mark.parametrize("code, spec", [pytest.param(code, spec, id=name) for name, code, spec in BLOCKS])
def test_each_readme_python_block_runs_as_written(code, spec, tmp_path, monkeypatch):
    for call, reason in _NEEDS_SHARED.items():
        if call in code and _shared_data_dir() is None:
            pytest.skip(f"this README block {reason} (set GTRANSFER_DATA to the shared data root)")
    monkeypatch.chdir(REPO_ROOT)
    if spec is not None:  # the Python block loads the YAML block above it by name
        name = re.search(r'load_spec\("([^"]+)"\)', code)
        assert name, "a python block after a YAML block loads it with load_spec(NAME)"
        (tmp_path / name.group(1)).write_text(spec)
        monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "readme"}
    exec(compile(code, f"README.md block ({os.getcwd()})", "exec"), namespace)  # noqa: S102 - the README's own code
    if spec is not None:
        assert (Path.cwd() / "report").is_dir() and any((Path.cwd() / "report").rglob("report.md"))
