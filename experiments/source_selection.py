"""Source selection on molecules: which pretrained encoder to transfer to a MoleculeNet target?

Candidates: the nine published Hu et al. 2020 encoders plus a zoo: GIN encoders pretrained here
(attribute masking and Deep Graph Infomax on ZINC molecules, :func:`gtransfer.pretrain.pretrain_encoder`) and an
untrained GIN. Every metric of the
metric core scores each (encoder, target) pair on the target's training split; the ground truth is
transfer performance on the scaffold test split -- a linear probe on frozen embeddings, and full
fine-tuning (several seeds). The reports give every metric's correlation with the ground truth per
target and averaged, with bootstrap intervals, and H-score against H_alpha where n is small
relative to d (n = 120 training molecules, d = 300). NCE and LEEP read a source model's head, which
none of these encoders has: they come out NaN, named "none" in the reports (pass ``source:
kmeans-stand-in`` in the score stage for the k-means stand-in); ``experiments/graph_source_zoo.py``
ranks source models that keep their heads.

    python experiments/source_selection.py --preset small   # 2 CPU cores, about 15-20 minutes
    python experiments/source_selection.py --preset full    # GPU; the paper's scale
"""

from __future__ import annotations

from pathlib import Path

from gtransfer.cli.experiments import experiment_parser
from gtransfer.models.specs import PUBLISHED_ENCODERS
from gtransfer.pretrain import pretrain_encoder
from gtransfer.studies.experiment import run_experiment

#: zoo members pretrained before the sweep: (file under <out>/zoo/, strategy), per preset
ZOO = {
    "small": {"molecules": 2000, "epochs": 1, "device": "cpu", "members": [("gin_attrmask.pt", "attrmask"), ("gin_infomax.pt", "infomax")]},
    "full": {"molecules": 250_000, "epochs": 20, "device": "cuda",
             "members": [(f"gin_{s}.pt", s) for s in ("attrmask", "edgepred", "infomax", "graphcl")]},
}


def build_zoo(preset: str, out: Path, data_root: str | None) -> list[str]:
    """Pretrain the preset's zoo into ``out/zoo/`` (resumed, skipped when complete); their spec paths."""
    config = ZOO[preset]
    paths = []
    for name, strategy in config["members"]:
        path = out / "zoo" / name
        pretrain_encoder(path, strategy, arch="gin", corpus="zinc250k-3small" if preset == "small" else "moses-train",
                         limit=config["molecules"], epochs=config["epochs"], batch_size=32, device=config["device"], root=data_root)
        paths.append(f"zoo/{name}")  # relative to the spec, which lives in ``out``
    return paths

SMALL_METRICS = ["h_score", "shrinkage_h_score", "logme", "gbc", "transrate", "knn_accuracy", "nce", "leep"]
FULL_METRICS = None  # every metric of score_all


def specs(preset: str, data_root: str | None, zoo: list[str]) -> list[dict]:
    published = [f"published:{name}" for name in PUBLISHED_ENCODERS]
    common = {"cache": "cache"}
    if data_root:
        common["data_root"] = data_root
    if preset == "small":
        encoders = published + zoo + ["random:gin:seed=0"]
        targets = ["ogbg-molbbbp", "ogbg-molbace", "ogbg-molsider:0"]
        score = {"kind": "graph_score", "seeds": [0], "params": {"metrics": SMALL_METRICS}}
        probe = {"kind": "graph_probe", "seeds": [0], "grid": {"l2": [0.1, 1.0]}}
        finetune = {"kind": "graph_finetune", "seeds": [0, 1], "targets": ["ogbg-molbace"], "params": {"epochs": 4, "patience": 4}}
        sizes = {"": 600, "-n150": 150}
    else:
        encoders = published + zoo + [f"random:{arch}:seed={s}" for arch in ("gin", "gcn", "graphsage", "gat") for s in (0, 1, 2)]
        targets = ["ogbg-molbbbp", "ogbg-molbace", "ogbg-molhiv"] + [f"ogbg-moltox21:{t}" for t in range(12)] + [f"ogbg-molsider:{t}" for t in range(27)]
        score = {"kind": "graph_score", "seeds": [0]}
        probe = {"kind": "graph_probe", "seeds": [0], "grid": {"l2": [0.01, 0.1, 1.0]}}
        finetune = {"kind": "graph_finetune", "seeds": [0, 1, 2], "grid": {"lr": [1e-3, 1e-4]},
                    "params": {"epochs": 100, "patience": 10, "device": "cuda"}}
        sizes = {"": None, "-n150": 150}
    report = {"candidate": "encoder", "group": "target", "scores": "graph_score", "n_boot": 500}
    out = []
    for suffix, size in sizes.items():
        # the n150 study scores from 150 molecules per target but keeps the ground truth of the full
        # study (same probe trials, shared through the store): can a metric rank from few samples?
        out.append({
            "name": f"source-selection-{preset}{suffix}",
            "description": f"Encoders ranked per MoleculeNet target; scores from {size or 'all'} molecules per target; truth: "
                           f"linear probe on frozen embeddings of {sizes[''] or 'all'} molecules (scaffold test split).",
            "encoders": encoders, "targets": targets, "params": common,
            "stages": [{**score, "params": {**score["params"], "max_samples": size}} if "params" in score else {**score, "params": {"max_samples": size}},
                       {**probe, "params": {"max_samples": sizes[""]}}],
            "report": {**report, "truth": "graph_probe", "truth_metrics": ["test_roc_auc", "test_accuracy"]},
        })
    out.append({
        "name": f"source-selection-{preset}-finetune",
        "description": "Encoders ranked per target; truth: full fine-tuning (seeds averaged), scaffold test ROC-AUC.",
        "encoders": encoders, "targets": finetune.get("targets", targets), "params": {**common, "max_samples": sizes[""]},
        "stages": [{**score, "targets": finetune.get("targets", targets)}, {k: v for k, v in finetune.items() if k != "targets"}],
        "report": {**report, "truth": "graph_finetune", "truth_metrics": ["test_roc_auc"]},
    })
    return out


if __name__ == "__main__":
    args = experiment_parser(__doc__.splitlines()[0]).parse_args()
    args.out = args.out or f"results/source_selection-{args.preset}"
    zoo = build_zoo(args.preset, Path(args.out), args.data_root)
    run_experiment(specs(args.preset, args.data_root, zoo), args, args.out)
