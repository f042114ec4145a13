"""Target selection: one encoder against many targets -- which tasks will it serve well?

NCE and LEEP (raw and corrected) read a source model's head, so each family's encoder is a member of
the graph source zoo (:mod:`gtransfer.pretrain.source_zoo`, built first into ``<out>/zoo/``, kept when
built). Targets are ranked within each family (one encoder per family); the report correlates raw and
corrected NCE and LEEP (``nce_normalized``, ``leep_normalized``, ``nce_gain``, ``leep_gain``:
docs/design.md section 2) and the other metrics with raw and relative accuracy of the ground truth.

small (truth: a linear probe): molecule family: the GIN trained on Tox21's 12 tasks against the per-task
binary targets of SIDER and ToxCast; class-subset families: the GIN trained on all of ENZYMES (resp.
IMDB-MULTI) against subsets of it with 2-4 classes and imbalance ratios 1 and 4 (the subsets share graphs with
the source's training set). Cora and CiteSeer (node-level) have no source model: an untrained GIN with
NCE/LEEP from the k-means stand-in (``source: kmeans-stand-in``, named so in the report).

medium (truth: fine-tuning): targets that differ in label count (2-6) and imbalance (largest/smallest class
1-10), in six families with five head sources: ENZYMES class subsets (k = 2..6, ratios 1, 2, 4, 7, 10, two
subset seeds: 50 targets; source ``enzymes-gin``), IMDB-MULTI (k = 2, 3, at most 200 graphs a class: 20;
``imdb-multi-gin``), PROTEINS and NCI1 (k = 2, at most 300 a class, three seeds: 15 each; ``proteins-gin``,
``nci1-gin``), SIDER's binary tasks (26: all but task 2, whose ratio is 64) and 12 ToxCast tasks with 1034
labelled molecules and ratio at most 10 (both ``tox21-gin``); the class subsets share graphs with their
source's training set. Truth: ``graph_finetune`` with a softmax head (binary targets too, so every target is
judged by accuracy and its majority baseline), 30 epochs, patience 5, fine-tuning seeds 0 and 1.

full (GPU): the medium design with five subset seeds, no per-class caps, three fine-tuning seeds,
100 epochs, patience 10 (225 class-subset targets, 263 in all). Front end: ``experiments/target_selection.py``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gtransfer.data.targets import format_target, parse_target
from gtransfer.pretrain.source_zoo import SMALL_SOURCE_ZOO, build_graph_source_zoo
from gtransfer.studies.experiment import run_experiment

__all__ = ["PRESETS", "family_targets", "specs", "timing_spec", "zoo_members", "run_target_selection"]

PRESETS = ("small", "medium", "full")

#: the small preset's source model (a zoo member with its head) of each family with one; the others use the stand-in
SOURCES = {"molecules": "tox21-gin", "ENZYMES": "enzymes-gin", "IMDB-MULTI": "imdb-multi-gin"}

#: classes of each multi-class dataset: a class subset has at most this many
CLASSES = {"ENZYMES": 6, "IMDB-MULTI": 3, "PROTEINS": 2, "NCI1": 2, "Cora": 7, "CiteSeer": 6}
METRICS = ["h_score", "shrinkage_h_score", "logme", "gbc", "transrate", "knn_accuracy", "nce", "leep",
           "nce_normalized", "leep_normalized"]

#: medium and full: the head source of each family (SIDER and ToxCast both against the Tox21 GIN)
FAMILY_SOURCES = {"SIDER": "tox21-gin", "ToxCast": "tox21-gin", "ENZYMES": "enzymes-gin",
                  "IMDB-MULTI": "imdb-multi-gin", "PROTEINS": "proteins-gin", "NCI1": "nci1-gin"}
#: imbalance ratios (largest / smallest class) of the class-subset targets of medium and full
RATIOS = (1, 2, 4, 7, 10)
#: SIDER's 27 binary tasks but task 2 (largest/smallest class 64; the others 1.0-12.1)
SIDER_TASKS = tuple(t for t in range(27) if t != 2)
#: ToxCast tasks with 1034 labelled molecules and largest/smallest class at most 10 (1.3-8.9)
TOXCAST_TASKS = (2, 4, 5, 6, 11, 16, 18, 23, 24, 27, 28, 29)
#: per preset: subset seeds per dataset (a binary dataset's seed draws which class is the majority and
#: its graphs), at most this many graphs a class per dataset, the fine-tuning params and seeds
SCALE = {
    "medium": {"subset_seeds": {"ENZYMES": 2, "IMDB-MULTI": 2, "PROTEINS": 3, "NCI1": 3},
               "max": {"IMDB-MULTI": 200, "PROTEINS": 300, "NCI1": 300},
               "finetune": {"epochs": 30, "patience": 5, "device": "cpu"}, "seeds": [0, 1]},
    "full": {"subset_seeds": {"ENZYMES": 5, "IMDB-MULTI": 5, "PROTEINS": 5, "NCI1": 5}, "max": {},
             "finetune": {"epochs": 100, "patience": 10, "device": "cuda"}, "seeds": [0, 1, 2]},
}


def family_targets(preset: str) -> dict[str, list[str]]:
    """medium and full: the targets of each family (see the module docstring)."""
    scale = SCALE[preset]
    families = {"SIDER": [f"ogbg-molsider:{t}" for t in SIDER_TASKS],
                "ToxCast": [f"ogbg-moltoxcast:{t}" for t in TOXCAST_TASKS]}
    for dataset in ("ENZYMES", "IMDB-MULTI", "PROTEINS", "NCI1"):
        families[dataset] = [format_target(dataset, k=k, ratio=r, max=scale["max"].get(dataset), seed=s)
                             for k in range(2, CLASSES[dataset] + 1) for r in RATIOS
                             for s in range(scale["subset_seeds"][dataset])]
    return families


def _small_stages() -> tuple[list[dict], str]:
    molecules = [f"ogbg-molsider:{t}" for t in range(27)] + [f"ogbg-moltoxcast:{t}" for t in range(12)]
    subsets = {"k": [2, 3, 4], "ratio": [1, 4], "seeds": [0], "max": 150}
    truth = {"kind": "graph_probe", "seeds": [0]}
    families = {"molecules": (f"zoo/{SOURCES['molecules']}.pt", molecules)}
    for dataset in ("ENZYMES", "IMDB-MULTI", "Cora", "CiteSeer"):
        families[dataset] = (f"zoo/{SOURCES[dataset]}.pt" if dataset in SOURCES else "random:gin:seed=0", [
            f"{dataset}:k={k},ratio={r},seed={s},max={subsets['max']}" for k in subsets["k"] if k <= CLASSES[dataset]
            for r in subsets["ratio"] for s in subsets["seeds"]
        ])
    stages = []
    for family, (encoder, targets) in families.items():
        source = "head" if family in SOURCES else "kmeans-stand-in"
        score = {"kind": "graph_score", "seeds": [0], "params": {"source": source}}
        for stage in (score, truth):
            stages.append({**stage, "encoders": [encoder], "targets": targets,
                           "params": {**stage.get("params", {}), "family": family}})
    return stages, truth["kind"]


def _finetune_stages(preset: str) -> tuple[list[dict], str]:
    scale = SCALE[preset]
    score = {"kind": "graph_score", "seeds": [0], "params": {"source": "head"}}
    truth = {"kind": "graph_finetune", "seeds": scale["seeds"], "params": {**scale["finetune"], "head": "softmax"}}
    stages = []
    for family, targets in family_targets(preset).items():
        for stage in (score, truth):
            stages.append({**stage, "encoders": [f"zoo/{FAMILY_SOURCES[family]}.pt"], "targets": targets,
                           "params": {**stage["params"], "family": family}})
    return stages, truth["kind"]


def specs(preset: str, data_root: str | None) -> list[dict]:
    """The study of ``preset`` (``small``, ``medium`` or ``full``; see the module docstring)."""
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {PRESETS}, got {preset!r}")
    common = {"cache": "cache", "metrics": METRICS}
    if data_root:
        common["data_root"] = data_root
    stages, truth_kind = _small_stages() if preset == "small" else _finetune_stages(preset)
    truth_metrics = ["test_accuracy", "relative_accuracy"] + (
        ["test_roc_auc", "relative_roc_auc"] if preset == "small" else [])
    timing = [] if preset == "small" else [timing_spec(preset, data_root)]
    return [{
        "name": f"target-selection-{preset}",
        "description": "Targets ranked within each family for one encoder; raw and corrected NCE/LEEP against raw "
                       "and relative accuracy.",
        "params": common,
        "stages": stages,
        "report": {"candidate": "target", "group": "family", "scores": "graph_score", "truth": truth_kind,
                   "n_boot": 500, "truth_metrics": truth_metrics},
    }, *timing]


def timing_spec(preset: str, data_root: str | None) -> dict:
    """Every metric (NCE and LEEP on the family's source head included) timed alone on the embeddings of
    one target per family (its largest class subset: most classes, ratio 1), sharing the study's cache."""
    def largest(targets: list[str]) -> str:  # most classes, then the balanced subset (most graphs); a task list's first
        options = [parse_target(t)[2] for t in targets]
        best = max(range(len(targets)), key=lambda i: (options[i].get("k", 0), -options[i].get("ratio", 1), -i))
        return targets[best]

    stages = [{"kind": "graph_metric_timing", "seeds": [0], "encoders": [f"zoo/{FAMILY_SOURCES[family]}.pt"],
               "targets": [largest(targets)], "params": {"repeats": 2}}
              for family, targets in family_targets(preset).items()]
    return {"name": f"target-selection-{preset}-timing",
            "description": "Seconds per metric, each alone, on each family's source embeddings of one target (best "
                           "of 2, float64, CPU).",
            "params": {"cache": "cache", **({"data_root": data_root} if data_root else {})}, "stages": stages}


def zoo_members(preset: str) -> tuple:
    """The source zoo members ``preset`` reads (built into ``<out>/zoo/``)."""
    wanted = set((SOURCES if preset == "small" else FAMILY_SOURCES).values())
    return tuple(s for s in SMALL_SOURCE_ZOO if s.name in wanted)


def run_target_selection(args: argparse.Namespace) -> list[Path]:
    """Build the source zoo of ``args.preset`` and run its studies (``args``: :func:`gtransfer.cli.experiments.
    experiment_parser`'s), under ``args.out`` (default ``results/target_selection-<preset>``); the reports."""
    args.out = args.out or f"results/target_selection-{args.preset}"
    return run_experiment(specs(args.preset, args.data_root), args, args.out,
                          prepare=lambda: build_graph_source_zoo(Path(args.out) / "zoo", zoo_members(args.preset),
                                                                 root=args.data_root))
