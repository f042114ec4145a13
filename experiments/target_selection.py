"""Target selection: one encoder against many targets -- which tasks will it serve well?

NCE and LEEP (raw and corrected) read a source model's head, so each family's encoder is a member of
the graph source zoo (:mod:`gtransfer.pretrain.source_zoo`, built first into ``<out>/zoo/``, kept when
built): molecule family: the GIN trained on Tox21's 12 tasks against the per-task binary targets of
SIDER and ToxCast (MUV in the full preset; Tox21's own tasks are left out, its source saw them);
class-subset families: the GIN trained on all of ENZYMES (resp. IMDB-MULTI) against subsets of it with
2-4 classes and imbalance ratios 1 and 4 (the subsets share graphs with the source's training set).
Cora and CiteSeer (node-level) have no source model: an untrained GIN with NCE/LEEP from the k-means
stand-in (``source: kmeans-stand-in``, named so in the report). Targets are ranked within each family;
the report correlates raw and corrected NCE and LEEP (and the other metrics) with raw and relative
accuracy (and ROC-AUC) of a linear probe.

    python experiments/target_selection.py --preset small   # 2 CPU cores, about 15 minutes
    python experiments/target_selection.py --preset full    # GPU; fine-tuning as ground truth
"""

from __future__ import annotations

from pathlib import Path

from gtransfer.cli.experiments import experiment_parser
from gtransfer.pretrain.source_zoo import SMALL_SOURCE_ZOO, build_graph_source_zoo
from gtransfer.studies.experiment import run_experiment

#: the source model (a zoo member with its head) of each family with one; the others use the stand-in
SOURCES = {"molecules": "tox21-gin", "ENZYMES": "enzymes-gin", "IMDB-MULTI": "imdb-multi-gin"}

#: classes of each multi-class dataset: a class subset has at most this many
CLASSES = {"ENZYMES": 6, "IMDB-MULTI": 3, "Cora": 7, "CiteSeer": 6}
METRICS = ["h_score", "shrinkage_h_score", "logme", "gbc", "transrate", "knn_accuracy", "nce", "leep", "nce_normalized", "leep_normalized"]


def specs(preset: str, data_root: str | None) -> list[dict]:
    common = {"cache": "cache", "metrics": METRICS}
    if data_root:
        common["data_root"] = data_root
    if preset == "small":
        molecules = [f"ogbg-molsider:{t}" for t in range(27)] + [f"ogbg-moltoxcast:{t}" for t in range(12)]
        subsets = {"k": [2, 3, 4], "ratio": [1, 4], "seeds": [0], "max": 150}
        truth = {"kind": "graph_probe", "seeds": [0]}
    else:
        molecules = ([f"ogbg-molsider:{t}" for t in range(27)]
                     + [f"ogbg-moltoxcast:{t}" for t in range(617)] + [f"ogbg-molmuv:{t}" for t in range(17)])
        subsets = {"k": [2, 3, 4, 5], "ratio": [1, 2, 4, 8], "seeds": [0, 1, 2], "max": None}
        truth = {"kind": "graph_finetune", "seeds": [0, 1, 2], "params": {"epochs": 100, "patience": 10, "device": "cuda"}}
    stages = []
    families = {"molecules": (f"zoo/{SOURCES['molecules']}.pt", molecules)}
    for dataset in ("ENZYMES", "IMDB-MULTI", "Cora", "CiteSeer"):
        cap = f",max={subsets['max']}" if subsets["max"] else ""
        families[dataset] = (f"zoo/{SOURCES[dataset]}.pt" if dataset in SOURCES else "random:gin:seed=0", [
            f"{dataset}:k={k},ratio={r},seed={s}{cap}" for k in subsets["k"] if k <= CLASSES[dataset]
            for r in subsets["ratio"] for s in subsets["seeds"]
        ])
    for family, (encoder, targets) in families.items():
        stage_truth = truth if not (family in ("Cora", "CiteSeer") and truth["kind"] == "graph_finetune") else {"kind": "graph_probe", "seeds": [0]}
        score = {"kind": "graph_score", "seeds": [0], "params": {"source": "head" if family in SOURCES else "kmeans-stand-in"}}
        for stage in (score, stage_truth):
            stages.append({**stage, "encoders": [encoder], "targets": targets, "params": {**stage.get("params", {}), "family": family}})
    truth_kind = truth["kind"]
    return [{
        "name": f"target-selection-{preset}",
        "description": "Targets ranked within each family for one encoder; raw and corrected NCE/LEEP against raw and relative accuracy.",
        "params": common,
        "stages": stages,
        "report": {"candidate": "target", "group": "family", "scores": "graph_score", "truth": truth_kind, "n_boot": 500,
                   "truth_metrics": ["test_accuracy", "relative_accuracy", "test_roc_auc", "relative_roc_auc"]},
    }]


if __name__ == "__main__":
    args = experiment_parser(__doc__.splitlines()[0]).parse_args()
    args.out = args.out or f"results/target_selection-{args.preset}"
    wanted = set(SOURCES.values())
    build_graph_source_zoo(Path(args.out) / "zoo", tuple(s for s in SMALL_SOURCE_ZOO if s.name in wanted), root=args.data_root)
    run_experiment(specs(args.preset, args.data_root), args, args.out)
