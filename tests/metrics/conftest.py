"""The ``cuda`` marker: tests of the metric core on a GPU (skipped with a reason where there is none)."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "cuda: needs a CUDA GPU (skipped with a reason without one); python -m gtransfer.bench gpu-check runs them",
    )
