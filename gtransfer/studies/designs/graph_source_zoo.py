"""NCE and LEEP as the papers define them on graphs: source models with heads, ranked per target.

The candidates are members of the graph source zoo (:data:`gtransfer.pretrain.source_zoo.SMALL_SOURCE_ZOO`:
small GNNs trained on multi-class TU tasks and on MoleculeNet tasks, each kept with its head), in two
source-selection studies: molecule sources (Tox21, HIV, BBBP, ClinTox) ranked on BACE and three SIDER tasks,
and ENZYMES sources (all six classes or a three-class subset; GIN, GCN, GraphSAGE) ranked on three-class
ENZYMES subsets. Each study is run twice: NCE/LEEP from the source heads (``source: head``), and from the
k-means stand-in (``source: kmeans-stand-in``) for comparison; the ground truth (a linear probe on frozen
embeddings) is shared through the store. One preset, ``small`` (the zoo trains on a CPU in minutes).

Caveat: the ENZYMES sources were trained on ENZYMES graphs, some of which are in the targets (the
targets are class subsets of the same 600 graphs); their heads have seen those inputs.
Front end: ``experiments/graph_source_zoo.py``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gtransfer.pretrain.source_zoo import SMALL_SOURCE_ZOO, build_graph_source_zoo
from gtransfer.studies.experiment import run_experiment

__all__ = ["PRESETS", "specs", "zoo_members", "run_graph_source_zoo"]

PRESETS = ("small",)
MOLECULE_SOURCES = ("tox21-gin", "tox21-gcn", "hiv-gin", "bbbp-gin", "clintox-gin")
ENZYMES_SOURCES = ("enzymes-gin", "enzymes-gcn", "enzymes-graphsage", "enzymes-k3-gin", "enzymes-k3-gcn")
METRICS = ["nce", "leep", "nce_normalized", "leep_normalized", "logme", "shrinkage_h_score", "gbc"]


def specs(data_root: str | None) -> list[dict]:
    """The four studies: {molecule, ENZYMES} sources x NCE/LEEP from {the heads, the k-means stand-in}."""
    common = {"cache": "cache", "max_samples": 600}
    if data_root:
        common["data_root"] = data_root
    settings = {
        "molecules": ([f"zoo/{n}.pt" for n in MOLECULE_SOURCES],
                      ["ogbg-molbace", "ogbg-molsider:0", "ogbg-molsider:1", "ogbg-molsider:2"], ["test_roc_auc"]),
        "enzymes": ([f"zoo/{n}.pt" for n in ENZYMES_SOURCES], [f"ENZYMES:k=3,ratio=1,seed={s}" for s in (1, 2, 3)],
                    ["test_accuracy", "relative_accuracy"]),
    }
    out = []
    for family, (encoders, targets, truth) in settings.items():
        for source in ("head", "kmeans-stand-in"):
            out.append({
                "name": f"graph-sources-{family}-{source}",
                "description": f"Zoo source models ranked per {family} target; NCE/LEEP from source: {source}; "
                               "truth: linear probe on frozen embeddings (test split).",
                "encoders": encoders, "targets": targets, "params": common,
                "stages": [{"kind": "graph_score", "seeds": [0], "params": {"metrics": METRICS, "source": source}},
                           {"kind": "graph_probe", "seeds": [0], "grid": {"l2": [0.1, 1.0]}}],
                "report": {"candidate": "encoder", "group": "target", "scores": "graph_score", "truth": "graph_probe",
                           "truth_metrics": truth, "n_boot": 500},
            })
    return out


def zoo_members() -> tuple:
    """The source zoo members the studies rank (built into ``<out>/zoo/``)."""
    wanted = set(MOLECULE_SOURCES + ENZYMES_SOURCES)
    return tuple(s for s in SMALL_SOURCE_ZOO if s.name in wanted)


def run_graph_source_zoo(args: argparse.Namespace) -> list[Path]:
    """Build the zoo and run the studies (``args``: :func:`gtransfer.cli.experiments.experiment_parser`'s, preset
    ``small`` only) under ``args.out`` (default ``results/graph_source_zoo-small``); the reports."""
    if args.preset not in PRESETS:
        raise SystemExit("graph_source_zoo.py has only the small preset (the zoo trains on a CPU in minutes)")
    args.out = args.out or "results/graph_source_zoo-small"
    build_graph_source_zoo(Path(args.out) / "zoo", zoo_members(), root=args.data_root)
    return run_experiment(specs(args.data_root), args, args.out)
