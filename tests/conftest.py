"""Shared pytest fixtures: where the real data and the reference vectors live, tiny graphs, a guard on huge layers."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
VECTORS_DIR = Path(__file__).resolve().parent / "vectors"


def _shared_data_dir() -> Path | None:
    candidates = [os.environ.get("GTRANSFER_DATA"), REPO_ROOT.parent / "shared" / "data"]
    for candidate in candidates:
        if candidate and Path(candidate, "README.md").is_file():
            return Path(candidate)
    return None


def pytest_configure(config: pytest.Config) -> None:
    """Code under test finds the shared data the way the fixtures do: without ``GTRANSFER_DATA``, the
    ``../shared/data`` fallback becomes ``GTRANSFER_DATA`` for the session (commands and loaders read the variable)."""
    root = _shared_data_dir()
    if root is not None and not os.environ.get("GTRANSFER_DATA"):
        os.environ["GTRANSFER_DATA"] = str(root)
    # POSIX shells start a non-interactive background job (`make test &` in a script) with SIGINT ignored, and Python
    # keeps an inherited SIG_IGN: the Ctrl-C tests would then see workers and sweeps that ignore SIGINT whatever the
    # code does. The suite runs with the handler a terminal run has (children started by exec get SIG_DFL back).
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only ../shared/data root; tests that need it are skipped, with a reason, without it."""
    root = _shared_data_dir()
    if root is None:
        pytest.skip("../shared/data not found (set GTRANSFER_DATA to the shared data root)")
    return root


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    """Reference inputs and the values public implementations return (copied from shared/test_vectors)."""
    return VECTORS_DIR


@pytest.fixture()
def hu2020_chain():
    """``hu2020_chain(n, seed)``: a chain molecule in hu2020 features (``tests/tiny_graphs.py``)."""
    from tests.tiny_graphs import hu2020_chain

    return hu2020_chain


@pytest.fixture()
def float_graph():
    """``float_graph(n, seed, node_dim=5, edge_dim=3)``: a random graph with float features."""
    from tests.tiny_graphs import float_graph

    return float_graph


@pytest.fixture()
def tiny_molecules():
    """``tiny_molecules(labelled=False)``: eight small molecules in hu2020 features."""
    from tests.tiny_graphs import molecules

    return molecules


@pytest.fixture()
def float_rings():
    """Four rings (4 to 7 nodes) with 3 float features per node."""
    from tests.tiny_graphs import float_rings

    return float_rings()


@pytest.fixture()
def no_huge_layers(monkeypatch):
    """For the test's duration, building a ``torch.nn.Linear`` of 10^9 weights or more fails the test unless it is
    on the meta device (no memory): a loader must refuse a huge architecture before it allocates one."""
    import torch

    real_linear = torch.nn.Linear.__init__

    def guarded(self, in_features, out_features, *args, **kwargs):
        device = kwargs.get("device") or torch.get_default_device()
        assert torch.device(device).type == "meta" or in_features * out_features < 10**9, "a huge layer was allocated"
        real_linear(self, in_features, out_features, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Linear, "__init__", guarded)
