"""The vision studies as sweep specs for the shared engine (``gtransfer sweep`` / ``gtransfer report``).

Nothing here runs trials or computes correlations: this module only says *which* trials a study
has. Source selection ranks the zoo's encoders per target (fine-tuned accuracy as the truth);
target selection fixes an encoder with d = 512 features and ranks many class-subset targets whose
training parts hold tens to hundreds of images (n < d for most), the regime where the shrinkage
H-score should beat the plain H-score most. Those targets differ in class count and imbalance, which
is what the label-entropy corrections address; the pair study holds both fixed (every CIFAR-10 class
pair, balanced, the same n < d) so that only the features' quality, and the covariance estimate,
separate the targets.
"""

from __future__ import annotations

import itertools

from .targets import target_name
from .zoo import PRESETS

__all__ = ["source_selection_spec", "target_selection_spec", "pair_target_selection_spec", "STUDIES"]

_SOURCE_TARGETS = {
    "small": [
        target_name("cifar10", "test", num_classes=5, max_per_class=100, seed=0),
        target_name("cifar10", "test", classes=[3, 5], max_per_class=200, seed=0),
        target_name("cifar10", "test", classes=[0, 1, 8, 9], max_per_class=100, seed=0),
        target_name("cifar10", "test", num_classes=3, imbalance_ratio=4, max_per_class=200, seed=1),
        target_name("mnist", "test", num_classes=5, max_per_class=100, seed=0),
        target_name("mnist", "test", classes=[4, 9], max_per_class=200, seed=0),
    ],
}
_SOURCE_TARGETS["full"] = [
    target_name("cifar10", "test", num_classes=k, imbalance_ratio=r, max_per_class=n, seed=s)
    for k, r, n, s in itertools.product((2, 5, 10), (1, 8), (100, 800), (0, 1))
] + [target_name("mnist", "test", num_classes=k, max_per_class=200, seed=s) for k in (2, 5, 10) for s in (0, 1)]

#: d = 512 encoders: ResNets whose pooled features have full numerical rank, and CNNs whose 512 ReLU
#: units are partly dead (a nominal d = 512 with a much smaller rank)
_TARGET_SELECTION_ENCODERS = {
    "small": ["c10-resnet512-e3", "animals-resnet512-e3", "c10-cnn512-e4", "animals-cnn512-e4"],
    "full": ["c10-resnet512-e20", "animals-resnet512-e20", "c10-cnn512-e20", "animals-cnn512-e20"],
}


def _targets_for_selection(preset: str) -> list[str]:
    sizes = (60, 150) if preset == "small" else (30, 60, 150, 400)
    seeds = (0, 1) if preset == "small" else (0, 1, 2, 3)
    return [target_name("cifar10", "test", num_classes=k, imbalance_ratio=r, max_per_class=n, seed=s)
            for k, r, n, s in itertools.product((2, 3, 5, 10), (1, 4), sizes, seeds)]


def _finetune_params(preset: str) -> dict:
    return {"mode": "full", "epochs": 5 if preset == "small" else 30, "lr": 1e-3, "batch_size": 32}


def _score_and_finetune(preset: str, zoo: str, cache: str, candidate: str, group: str) -> dict:
    """The part every vision study shares: score each (encoder, target), fine-tune it for the truth,
    and report ``candidate`` rankings within each ``group``."""
    return {
        "params": {"zoo": zoo, "cache": cache},
        "stages": [
            {"kind": "vision_score"},
            {"kind": "vision_finetune", "seeds": [0] if preset == "small" else [0, 1, 2],
             "params": _finetune_params(preset)},
        ],
        "report": {"candidate": candidate, "group": group, "scores": "vision_score", "truth": "vision_finetune",
                   "truth_aggregate": "mean", "n_boot": 200 if preset == "small" else 1000},
    }


def source_selection_spec(preset: str = "small", zoo: str = "../../results/vision/zoo-small",
                          cache: str = "../../.cache/vision/embeddings") -> dict:
    """Every zoo encoder x every target: metric scores (``vision_score``) and fine-tuning (``vision_finetune``)."""
    _check(preset)
    return {
        "name": f"vision-source-selection-{preset}",
        "description": "Vision source selection: rank the zoo's encoders for each CIFAR-10/MNIST class-subset "
                       "target; truth = full fine-tuning on the target's training part.",
        "encoders": [s.name for s in PRESETS[preset]],
        "targets": _SOURCE_TARGETS[preset],
        **_score_and_finetune(preset, zoo, cache, candidate="encoder", group="target"),
    }


def target_selection_spec(preset: str = "small", zoo: str = "../../results/vision/zoo-small",
                          cache: str = "../../.cache/vision/embeddings") -> dict:
    """d = 512 encoders x many small CIFAR-10 class-subset targets; targets are ranked per encoder."""
    _check(preset)
    return {
        "name": f"vision-target-selection-{preset}",
        "description": "Vision target selection with d = 512 features and target training parts of tens to "
                       "hundreds of images; truth = full fine-tuning; targets ranked per encoder.",
        "encoders": _TARGET_SELECTION_ENCODERS[preset],
        "targets": _targets_for_selection(preset),
        **_score_and_finetune(preset, zoo, cache, candidate="target", group="encoder"),
    }


def pair_target_selection_spec(preset: str = "small", zoo: str = "../../results/vision/zoo-small",
                               cache: str = "../../.cache/vision/embeddings") -> dict:
    """d = 512 encoders x all 45 balanced CIFAR-10 class pairs with the same n (180 training images in small)."""
    _check(preset)
    per_class = 150 if preset == "small" else 100
    spec = target_selection_spec(preset, zoo, cache)
    spec.update({
        "name": f"vision-pair-target-selection-{preset}",
        "description": "Vision target selection among the 45 balanced CIFAR-10 class pairs, every one with the "
                       f"same n ({int(0.6 * 2 * per_class)} training images) and d = 512: label entropy is constant, "
                       "so only feature quality and covariance estimation separate the metrics.",
        "targets": [target_name("cifar10", "test", classes=[a, b], max_per_class=per_class, seed=0)
                    for a, b in itertools.combinations(range(10), 2)],
    })
    return spec


def _check(preset: str) -> None:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")


STUDIES = {"source-selection": source_selection_spec, "target-selection": target_selection_spec,
           "pair-target-selection": pair_target_selection_spec}
