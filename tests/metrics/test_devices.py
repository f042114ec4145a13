"""The torch path end to end, float32 inputs, and ``device=``: on CPU torch tensors here, on CUDA
when a GPU is present (the ``cuda`` tests are skipped with a reason otherwise).

Tolerances: torch float64 equals numpy float64 to rel 1e-9 (the CPU tolerance of
test_properties). float32 features are scored as their exact float64 values (rel 1e-12 against
scoring ``features.astype(float64)``); against the float64 features they were rounded from, the
rounding itself (rel 6e-8 per entry) moves the metrics by rel 1e-5 or less on these
well-conditioned tasks (covariance condition number below 1e3).
"""

import numpy as np
import pytest
import torch

from gtransfer import metrics
from gtransfer.cli import main
from tests.metrics.test_properties import SHAPES, make_task

STATS_METRICS = ["h_score", "shrinkage_h_score", "logme", "gbc", "transrate"]
HAS_CUDA = torch.cuda.is_available()
requires_cuda = pytest.mark.skipif(
    not HAS_CUDA, reason="no CUDA GPU visible to torch: the CUDA path is tested on a GPU machine"
)


def reference(features, labels):
    return metrics.score_all(features, labels, metrics=STATS_METRICS)


@pytest.mark.parametrize("n, d, c", SHAPES + [(30, 200, 3)])
def test_score_all_on_torch_tensors_equals_numpy(n, d, c):
    features, labels = make_task(n, d, c, seed=21)
    expected = reference(features, labels)
    got = metrics.score_all(torch.from_numpy(features), torch.from_numpy(labels), metrics=STATS_METRICS)
    for name in STATS_METRICS:
        assert got[name] == pytest.approx(expected[name], rel=1e-9), name


@pytest.mark.parametrize("n, d, c", [(400, 24, 3), (60, 150, 4)])
def test_numpy_features_streamed_to_a_torch_device_equal_numpy(n, d, c):
    """device= sends numpy rows (or columns) to the device block by block; "cpu" keeps numpy, so
    the streaming route is exercised here through a CPU torch tensor scored by numpy's backend and
    through the statistics test of test_properties with a torch backend."""
    features, labels = make_task(n, d, c, seed=22)
    expected = reference(features, labels)
    for features_in in (features, torch.from_numpy(features)):
        got = metrics.score_all(features_in, labels, metrics=STATS_METRICS, device="cpu")
        for name in STATS_METRICS:
            assert got[name] == pytest.approx(expected[name], rel=1e-9), name


@pytest.mark.parametrize("n, d, c", [(400, 24, 3), (60, 150, 4)])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_float32_features_are_accumulated_in_float64(n, d, c, as_tensor):
    features, labels = make_task(n, d, c, seed=23)
    single = features.astype(np.float32)
    exact = reference(single.astype(np.float64), labels)
    rounded_from = reference(features, labels)
    single_in = torch.from_numpy(single) if as_tensor else single
    got = metrics.score_all(single_in, labels, metrics=STATS_METRICS)  # the class-sorted pass
    for name in STATS_METRICS:
        alone = metrics.METRICS[name](single_in, labels)  # H, H_alpha, LogME alone: the copy-free route
        for value in (got[name], alone):
            assert value == pytest.approx(exact[name], rel=1e-12), name
            assert value == pytest.approx(rounded_from[name], rel=1e-5), name


def test_unknown_or_absent_devices_are_one_clear_error():
    features, labels = make_task(50, 4, 2, seed=24)
    with pytest.raises(ValueError, match="not a torch device name"):
        metrics.score_all(features, labels, metrics=["h_score"], device="gpu0")
    if not HAS_CUDA:
        with pytest.raises(ValueError, match="sees no CUDA GPU"):
            metrics.score_all(features, labels, metrics=["h_score"], device="cuda")


def test_score_command_passes_float32_and_the_device_through(tmp_path, monkeypatch, capsys):
    features, labels = make_task(60, 5, 2, seed=25)
    np.save(tmp_path / "f.npy", features.astype(np.float32))
    np.save(tmp_path / "y.npy", labels)
    seen = {}
    original = metrics.score_all

    def spy(features, labels, **kwargs):
        seen["dtype"], seen["device"] = features.dtype, kwargs.get("device")
        return original(features, labels, **kwargs)

    monkeypatch.setattr(metrics, "score_all", spy)
    command = [
        "score",
        "--features",
        str(tmp_path / "f.npy"),
        "--labels",
        str(tmp_path / "y.npy"),
        "--metrics",
        "h_score",
    ]
    assert main([*command, "--device", "cpu", "--format", "json"]) == 0
    assert seen == {"dtype": np.float32, "device": "cpu"}  # no float64 copy of the matrix
    assert "h_score" in capsys.readouterr().out


# --- CUDA: run where a GPU is present (python -m gtransfer.bench gpu-check runs these) ---


@pytest.mark.cuda
@requires_cuda
@pytest.mark.parametrize("n, d, c", SHAPES + [(30, 200, 3)])
@pytest.mark.parametrize("name", STATS_METRICS)
def test_every_metric_on_cuda_equals_numpy(n, d, c, name):
    features, labels = make_task(n, d, c, seed=26)
    expected = metrics.METRICS[name](features, labels)
    on_gpu = torch.from_numpy(features).cuda()
    assert metrics.METRICS[name](on_gpu, torch.from_numpy(labels).cuda()) == pytest.approx(expected, rel=1e-9)
    single = on_gpu.float()
    assert metrics.METRICS[name](single, labels) == pytest.approx(expected, rel=1e-5)
    assert metrics.METRICS[name](on_gpu.clone().requires_grad_(True), labels) == pytest.approx(expected, rel=1e-9)


@pytest.mark.cuda
@requires_cuda
@pytest.mark.parametrize("n, d, c", [(4000, 300, 7), (300, 2000, 7)])
def test_score_all_streams_host_blocks_to_cuda(n, d, c, monkeypatch):
    """Host features scored on the GPU in many small blocks equal the numpy values: the route that
    scores inputs larger than the GPU's memory."""
    from gtransfer.metrics import _statistics

    features, labels = make_task(n, d, c, seed=27)
    expected = reference(features, labels)
    monkeypatch.setattr(_statistics, "DEFAULT_BLOCK_BYTES", 8 * max(n, d) * 37)
    got = metrics.score_all(features, labels, metrics=STATS_METRICS, device="cuda")
    for name in STATS_METRICS:
        assert got[name] == pytest.approx(expected[name], rel=1e-9), name


@pytest.mark.skipif(HAS_CUDA, reason="checks the one-line refusal of a machine without a GPU")
def test_gpu_benchmarks_say_in_one_line_that_there_is_no_gpu(capsys):
    from gtransfer.cli.bench import main as bench

    assert bench(["gpu-check"]) == 1
    assert bench(["suite", "--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "no CUDA GPU" in err[0] and "sees no CUDA GPU" in err[1]
