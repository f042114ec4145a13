"""Helpers for the studies tests: a tiny embedding study on disk, and test-only trial kinds.

Imported by the tests and, through a spec's ``import: tests.study_helpers``, by sweep workers (the
repository root is on their import path).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import yaml

from gtransfer.studies.kinds.arrays import load_features_and_labels
from gtransfer.studies.registry import register_pack_runner, register_trial_kind

ENCODERS = ("weak", "mid", "strong")
SEPARATION = {"weak": 0.3, "mid": 1.0, "strong": 2.5}


def write_embedding_study(folder: Path, targets=("t1", "t2"), n: int = 150, d: int = 8, classes: int = 3) -> None:
    """Embeddings whose class separation grows weak < mid < strong, for every target."""
    rng = np.random.default_rng(123)
    (folder / "emb").mkdir(parents=True, exist_ok=True)
    for target in targets:
        labels = rng.permutation(np.arange(n) % classes)
        np.save(folder / f"y_{target}.npy", labels)
        directions = rng.standard_normal((classes, d))
        for encoder in ENCODERS:
            features = rng.standard_normal((n, d)) + SEPARATION[encoder] * directions[labels]
            np.save(folder / "emb" / f"{encoder}_{target}.npy", features)


def write_spec(folder: Path, spec: dict, name: str = "spec.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def probe_spec(name: str = "probe-study", seeds=(0, 1), l2=(0.1, 1.0), kind: str = "probe", **extra) -> dict:
    spec = {
        "name": name,
        "kind": kind,
        "encoders": list(ENCODERS),
        "targets": ["t1", "t2"],
        "seeds": list(seeds),
        "grid": {"l2": list(l2)},
        "params": {"features": "emb/{encoder}_{target}.npy", "labels": "y_{target}.npy"},
    }
    spec.update(extra)
    return spec


@register_trial_kind("slow_probe")
def slow_probe(params: dict) -> dict:
    """The probe, after sleeping ``sleep_s`` seconds: gives a kill time to land mid-sweep."""
    time.sleep(float(params.get("sleep_s", 0.0)))
    return fisher_ratio(params)


@register_trial_kind("fisher_ratio")
def fisher_ratio(params: dict) -> dict:
    """A stand-in metric: between-class / total scatter of the features (grows with separability)."""
    features, labels = load_features_and_labels(params)
    centred = features - features.mean(axis=0)
    between = sum((labels == c).sum() * np.sum(centred[labels == c].mean(axis=0) ** 2) for c in np.unique(labels))
    return {"fisher_ratio": float(between / np.sum(centred**2)), "n": int(len(labels))}


@register_trial_kind("fails_on_mid")
def fails_on_mid(params: dict) -> dict:
    """Fails for the 'mid' encoder unless the file ``allow_mid`` exists (a retry after a fix)."""
    if params["encoder"] == "mid" and not Path("allow_mid").exists():
        raise RuntimeError("mid is not allowed yet")
    return {"value": float(SEPARATION[params["encoder"]] + params["seed"])}


@register_trial_kind("dies_on_mid")
def dies_on_mid(params: dict) -> dict:
    """Kills its own process for the 'mid' encoder (``how``: ``sigkill`` as the OOM killer would, or
    ``exit3`` as ``os._exit(3)``); the Fisher ratio (numpy only: quick in a fresh worker) for the others."""
    import os
    import signal

    if params["encoder"] == "mid":
        if params.get("how", "sigkill") == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        os._exit(3)
    return fisher_ratio(params)


@register_trial_kind("counted")
def counted(params: dict) -> dict:
    """The Fisher ratio after ``sleep_s``, appending encoder, target, seed and pid to ``runs.log``: counts
    executions."""
    import os

    line = f"{params['encoder']} {params['target']} {params['seed']} {os.getpid()}\n"
    with open("runs.log", "a") as handle:
        handle.write(line)
    time.sleep(float(params.get("sleep_s", 0.0)))
    return fisher_ratio(params)


def _packed_dies_on_mid(members: list[dict]) -> list:
    """Runs a pack of ``dies_on_mid`` trials in one process: one 'mid' member kills the whole pack."""
    return [dies_on_mid(params) for params in members]


register_pack_runner(
    "packed_dies_on_mid", lambda params: str(params["target"]), _packed_dies_on_mid, max_members=lambda group: 8
)
register_trial_kind("packed_dies_on_mid")(dies_on_mid)


def load_experiment_script(name: str):
    """The module of ``experiments/<name>.py``, imported from its file (``experiments/`` is not a package)
    and registered in ``sys.modules`` (dataclasses look their module up there)."""
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[1] / "experiments" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"experiments_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
