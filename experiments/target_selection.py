"""Target selection: one encoder against many targets -- which tasks will it serve well?

Molecule family: the published ``gcn_contextpred`` encoder against the per-task binary targets of
Tox21, SIDER and ToxCast (MUV in the full preset). Class-subset families: an untrained GIN against
subsets of ENZYMES, IMDB-MULTI, Cora and CiteSeer with 2-4 classes and imbalance ratios 1 and 4.
Targets are ranked within each family; the report correlates raw and corrected NCE and LEEP (and
the other metrics) with raw and relative accuracy (and ROC-AUC) of a linear probe.

    python experiments/target_selection.py --preset small   # 2 CPU cores, about 15 minutes
    python experiments/target_selection.py --preset full    # GPU; fine-tuning as ground truth
"""

from __future__ import annotations

from gtransfer.cli.experiments import experiment_parser
from gtransfer.studies.experiment import run_experiment

#: classes of each multi-class dataset: a class subset has at most this many
CLASSES = {"ENZYMES": 6, "IMDB-MULTI": 3, "Cora": 7, "CiteSeer": 6}
METRICS = ["h_score", "shrinkage_h_score", "logme", "gbc", "transrate", "knn_accuracy", "nce", "leep", "nce_normalized", "leep_normalized"]


def specs(preset: str, data_root: str | None) -> list[dict]:
    common = {"cache": "cache", "metrics": METRICS}
    if data_root:
        common["data_root"] = data_root
    if preset == "small":
        molecules = [f"ogbg-moltox21:{t}" for t in range(12)] + [f"ogbg-molsider:{t}" for t in range(27)] + [f"ogbg-moltoxcast:{t}" for t in range(12)]
        subsets = {"k": [2, 3, 4], "ratio": [1, 4], "seeds": [0], "max": 150}
        truth = {"kind": "graph_probe", "seeds": [0]}
    else:
        molecules = ([f"ogbg-moltox21:{t}" for t in range(12)] + [f"ogbg-molsider:{t}" for t in range(27)]
                     + [f"ogbg-moltoxcast:{t}" for t in range(617)] + [f"ogbg-molmuv:{t}" for t in range(17)])
        subsets = {"k": [2, 3, 4, 5], "ratio": [1, 2, 4, 8], "seeds": [0, 1, 2], "max": None}
        truth = {"kind": "graph_finetune", "seeds": [0, 1, 2], "params": {"epochs": 100, "patience": 10, "device": "cuda"}}
    stages = []
    families = {"molecules": ("published:gcn_contextpred", molecules)}
    for dataset in ("ENZYMES", "IMDB-MULTI", "Cora", "CiteSeer"):
        cap = f",max={subsets['max']}" if subsets["max"] else ""
        families[dataset] = ("random:gin:seed=0", [
            f"{dataset}:k={k},ratio={r},seed={s}{cap}" for k in subsets["k"] if k <= CLASSES[dataset]
            for r in subsets["ratio"] for s in subsets["seeds"]
        ])
    for family, (encoder, targets) in families.items():
        stage_truth = truth if not (family in ("Cora", "CiteSeer") and truth["kind"] == "graph_finetune") else {"kind": "graph_probe", "seeds": [0]}
        for stage in ({"kind": "graph_score", "seeds": [0]}, stage_truth):
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
    run_experiment(specs(args.preset, args.data_root), args, f"results/target_selection-{args.preset}")
