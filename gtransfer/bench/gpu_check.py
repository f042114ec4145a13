"""One prepared GPU check: ``python -m gtransfer.bench gpu-check``.

Runs, on the first CUDA device, in a few minutes on one H200:

1. the metric core's CUDA tests (``pytest -m cuda tests/metrics``: every metric on CUDA float64 equal
   to numpy float64, float32 within the stated tolerance, host features streamed to the GPU in blocks,
   the pool-relative metrics of ``test_pool_metrics.py``);
2. the metric suite on CUDA (``python -m gtransfer.bench suite --device cuda``: ratios against one
   float64 Gram product and the peak GPU memory of each call);
3. the training benchmark, where the package has it (``python -m gtransfer.bench training --device
   cuda --pack 1 8 64 --epochs 2``),

then prints one table, so that the GPU figures of docs/benchmarks.md can be re-measured with one
command. Without a CUDA GPU it says so in one line and exits with status 1.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["run_gpu_check"]

TRAINING_COMMAND = ["training", "--device", "cuda", "--pack", "1", "8", "64", "--epochs", "2"]


def _cuda_device_name() -> str | None:
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    return f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}"


def _run(command: list[str], timeout: float) -> tuple[int, str, float]:
    """(exit status, last output line, seconds) of a subprocess; 124 on timeout."""
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, f"timed out after {timeout:.0f} s", time.perf_counter() - start
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return done.returncode, (lines[-1] if lines else ""), time.perf_counter() - start


def run_gpu_check(*, repeat: int = 3, timeout: float = 240.0) -> int:
    """Run the three checks and print their table; returns 0 if all passed, 1 otherwise."""
    device = _cuda_device_name()
    if device is None:
        print(
            "gpu-check: no CUDA GPU visible to torch (a CPU-only build, or no device): nothing to check",
            file=sys.stderr,
        )
        return 1
    print(f"gpu-check on {device}", flush=True)
    rows: list[tuple[str, str, str]] = []
    tests = Path(__file__).resolve().parents[2] / "tests" / "metrics"  # every cuda-marked test of the metric core
    if tests.is_dir():
        status, last, seconds = _run(
            [sys.executable, "-m", "pytest", "-q", "-m", "cuda", "-p", "no:cacheprovider", str(tests)], timeout
        )
        rows.append(
            ("CUDA tests (pytest -m cuda)", "ok" if status == 0 else f"FAILED ({status})", f"{last} [{seconds:.0f} s]")
        )
    else:
        rows.append(
            ("CUDA tests (pytest -m cuda)", "not run", f"{tests} is not there (an installed package without its tests)")
        )

    from gtransfer.bench.metrics import run_suite

    for result in run_suite(repeat, "cuda"):
        verdict = "ok" if result["ratio"] <= result["target"] else "OVER TARGET"
        peak = "" if result["peak_gpu_bytes"] is None else f", peak {result['peak_gpu_bytes'] / 2**30:.2f} GiB"
        rows.append((f"suite: {result['case']} ({result['dtype']})", verdict,
                     f"{result['ratio']:.2f}x one {result['baseline']} (target <= {result['target']}x), "
                     f"{result['seconds'] * 1e3:.1f} ms{peak}"))

    if importlib.util.find_spec("gtransfer.bench.training") is not None:
        status, last, seconds = _run([sys.executable, "-m", "gtransfer.bench", *TRAINING_COMMAND], timeout)
        rows.append(("training benchmark", "ok" if status == 0 else f"FAILED ({status})", f"{last} [{seconds:.0f} s]"))
    else:
        rows.append(("training benchmark", "not run", "gtransfer.bench.training is not in this version"))

    width = max(len(row[0]) for row in rows)
    print(f"\n{'check':<{width}}  {'result':<12}  detail")
    for check, result, detail in rows:
        print(f"{check:<{width}}  {result:<12}  {detail}")
    return 0 if all(result in ("ok", "not run") for _, result, _ in rows) else 1
