"""Source selection on molecules: which pretrained encoder to transfer to a MoleculeNet target?

Candidates: the nine published Hu et al. 2020 encoders plus a zoo: GIN encoders pretrained here
(attribute masking and Deep Graph Infomax on ZINC molecules, :func:`gtransfer.pretrain.pretrain_encoder`) and an
untrained GIN. Every metric of the metric core scores each (encoder, target) pair on the target's training
split; the ground truth is transfer performance on the scaffold test split -- a linear probe on frozen
embeddings, and full fine-tuning (several seeds). The reports give every metric's correlation with the ground
truth per target and averaged, with bootstrap intervals, and H-score against H_alpha where n is small
relative to d (n = 120 training molecules, d = 300). NCE and LEEP read a source model's head, which none of
these encoders has: they come out NaN, named "none" in the reports (pass ``source: kmeans-stand-in`` in the
score stage for the k-means stand-in); :mod:`.graph_source_zoo` ranks source models that keep their heads.

The medium preset is sized to decide the paper's claims on the CPU: 21 encoders (the nine published,
a GIN 5x300 of each pretraining strategy -- five self-supervised on ZINC, one supervised on ToxCast --
and untrained GIN (3 seeds), GCN, GraphSAGE and GAT) on 44 binary targets (BBBP, BACE, HIV (4,000
molecules), both ClinTox tasks, every Tox21 and SIDER task), scored from n = 50, 100, 300, 1000 and
all training molecules (:meth:`~gtransfer.embeddings.targets.TargetEmbeddings.with_training_samples`)
against one linear-probe truth; fine-tuning truth on 8 targets (500 molecules each, 4 epochs); LogME
against a ridge probe on ESOL. The full preset is the same :class:`SizedDesign` at the paper's scale (GPU).
Front end: ``experiments/source_selection.py``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from gtransfer.models.specs import PUBLISHED_ENCODERS
from gtransfer.pretrain import pretrain_encoder
from gtransfer.studies.experiment import run_experiment

__all__ = ["PRESETS", "ZOO", "SizedDesign", "DESIGNS", "build_zoo", "zoo_paths", "sized_specs", "specs",
           "run_source_selection"]

PRESETS = ("small", "medium", "full")

#: zoo members pretrained before the sweep: (file under <out>/zoo/, strategy), per preset
SELF_SUPERVISED = ("attrmask", "contextpred", "edgepred", "infomax", "graphcl")
ZOO = {
    "medium": {"molecules": 3000, "epochs": 2, "device": "cpu",
               "members": [(f"gin_{s}.pt", s) for s in SELF_SUPERVISED]
               + [("gin_supervised_toxcast.pt", "supervised")]},
    "small": {"molecules": 2000, "epochs": 1, "device": "cpu",
              "members": [("gin_attrmask.pt", "attrmask"), ("gin_infomax.pt", "infomax")]},
    "full": {"molecules": 250_000, "epochs": 20, "device": "cuda",
             "members": [(f"gin_{s}.pt", s) for s in SELF_SUPERVISED] + [("gin_supervised_toxcast.pt", "supervised")]},
}


def zoo_paths(preset: str) -> list[str]:
    """The preset's zoo members as the specs name them: relative to the specs, which live in the output folder."""
    return [f"zoo/{name}" for name, _ in ZOO[preset]["members"]]


def build_zoo(preset: str, out: Path, data_root: str | None) -> list[str]:
    """Pretrain the preset's zoo into ``out/zoo/`` (resumed, skipped when complete); their spec paths."""
    config = ZOO[preset]
    paths = []
    corpus = {"small": "zinc250k-3small", "medium": "zinc250k-jtnn-valid"}.get(preset, "moses-train")
    for name, strategy in config["members"]:
        path = out / "zoo" / name
        if strategy == "supervised":  # Hu et al. pretrain on ChEMBL's labels; here ToxCast's 617 tasks, one epoch
            pretrain_encoder(path, strategy, arch="gin", dataset="ogbg-moltoxcast", epochs=1, batch_size=32,
                             device=config["device"], root=data_root)
        else:
            pretrain_encoder(path, strategy, arch="gin", corpus=corpus, limit=config["molecules"],
                             epochs=config["epochs"], batch_size=32, device=config["device"], root=data_root)
        paths.append(f"zoo/{name}")  # relative to the spec, which lives in ``out``
    return paths


SMALL_METRICS = ["h_score", "shrinkage_h_score", "logme", "gbc", "transrate", "knn_accuracy", "nce", "leep"]
#: the metrics of the medium preset: the feature metrics that read no source head (most encoders have none) and
#: are defined from n = 50 (N-LEEP refuses so few samples for its mixture; see gtransfer.metrics.leep.nleep)
FEATURE_SCORES = ["h_score", "shrinkage_h_score", "logme", "gbc", "transrate", "knn_accuracy"]

#: 43 binary tasks (HIV, the 44th, is added by each design): BBBP, BACE, both ClinTox tasks, every Tox21 and SIDER task
BINARY_TARGETS = (["ogbg-molbbbp", "ogbg-molbace", "ogbg-molclintox:0", "ogbg-molclintox:1"]
                  + [f"ogbg-moltox21:{t}" for t in range(12)] + [f"ogbg-molsider:{t}" for t in range(27)])
#: scores from this many training molecules per target (None: all of the training split)
SIZES = (50, 100, 300, 1000, None)


@dataclass(frozen=True)
class SizedDesign:
    """A preset that scores from n = 50..all training molecules against one probe truth, plus fine-tuning
    truth, LogME on regression targets and the timing of every metric (the medium and full presets)."""

    random_encoders: tuple[str, ...]
    hiv_molecules: int | None  # HIV (41,127 molecules) scored on a seeded subsample of this many; None: all
    finetune_targets: tuple[str, ...]
    finetune: dict  # the graph_finetune stage's seeds, grid and params
    finetune_molecules: int | None  # each fine-tuning target cut to this many; None: all
    regression_targets: tuple[str, ...]
    timing_encoders: tuple[str, ...]
    timing_targets: tuple[str, ...]


#: the encoders whose embeddings time every metric (and the zoo's infomax GIN): a metric's cost depends on
#: n, d and the classes, not on which encoder of width 300 made the features
TIMING_ENCODERS = ("published:gcn_supervised", "published:graphsage_supervised", "published:gat_supervised",
                   "random:gin:seed=0", "random:gat:seed=0")
#: the targets whose real embeddings time every metric (with HIV), from 1,100 to 5,800 training molecules
TIMING_TARGETS = ("ogbg-molsider:0", "ogbg-molbbbp", "ogbg-moltox21:0")

DESIGNS = {
    "medium": SizedDesign(
        random_encoders=tuple(f"random:gin:seed={s}" for s in (0, 1, 2))
        + tuple(f"random:{a}:seed=0" for a in ("gcn", "graphsage", "gat")),
        hiv_molecules=4000,
        finetune_targets=("ogbg-molbbbp", "ogbg-molbace", "ogbg-molclintox:0", "ogbg-moltox21:0", "ogbg-moltox21:2",
                          "ogbg-moltox21:7", "ogbg-molsider:0", "ogbg-molsider:6"),
        finetune={"seeds": [0], "params": {"epochs": 4, "patience": 4}}, finetune_molecules=500,
        regression_targets=("ogbg-molesol",), timing_encoders=TIMING_ENCODERS, timing_targets=TIMING_TARGETS),
    "full": SizedDesign(
        random_encoders=tuple(f"random:{a}:seed={s}" for a in ("gin", "gcn", "graphsage", "gat") for s in (0, 1, 2)),
        hiv_molecules=None,
        finetune_targets=(*BINARY_TARGETS, "ogbg-molhiv"),
        finetune={"seeds": [0, 1, 2], "grid": {"lr": [1e-3, 1e-4]},
                  "params": {"epochs": 100, "patience": 10, "device": "cuda"}},
        finetune_molecules=None,
        regression_targets=("ogbg-molesol", "ogbg-molfreesolv", "ogbg-mollipo"), timing_encoders=TIMING_ENCODERS,
        timing_targets=TIMING_TARGETS),
}


def sized_specs(preset: str, data_root: str | None, zoo: list[str]) -> list[dict]:
    """The studies of a :class:`SizedDesign` preset: one per score size n (sharing one probe truth through
    the store), the fine-tuning-truth study, the regression study and the timing study."""
    design = DESIGNS[preset]
    encoders = [f"published:{name}" for name in PUBLISHED_ENCODERS] + zoo + list(design.random_encoders)
    common = {"cache": "cache", **({"data_root": data_root} if data_root else {})}
    probe = {"kind": "graph_probe", "seeds": [0], "params": {"l2": 0.1}}
    # 100 resamples per target's interval: 45 targets x 6 metrics x 6 measures x 1,000 resamples took over 10
    # minutes per report on one core; the claims pages resample targets 10,000 times from the point estimates
    report = {"candidate": "encoder", "group": "target", "scores": "graph_score", "n_boot": 100}

    def stages(kind: dict, params: dict, targets: list[str] = BINARY_TARGETS) -> list[dict]:
        """``kind`` on ``targets`` and on HIV (its subsample where the design has one)."""
        if design.hiv_molecules is None:
            return [{**kind, "targets": [*targets, "ogbg-molhiv"], "params": {**kind.get("params", {}), **params}}]
        return [{**kind, "targets": targets, "params": {**kind.get("params", {}), **params}},
                {**kind, "targets": ["ogbg-molhiv"],
                 "params": {**kind.get("params", {}), **params, "max_samples": design.hiv_molecules}}]

    out = []
    for size in SIZES:
        score = {"kind": "graph_score", "seeds": [0], "params": {"metrics": FEATURE_SCORES, "train_samples": size}}
        out.append({
            "name": f"source-selection-{preset}-n{size or 'all'}",
            "description": f"{len(encoders)} encoders ranked on {len(BINARY_TARGETS) + 1} binary MoleculeNet targets; "
                           f"scores from {size or 'all'} training molecules per target; truth: linear probe (C = 0.1) "
                           "on all training molecules, scaffold test ROC-AUC.",
            "encoders": encoders, "params": common, "stages": stages(score, {}) + stages(probe, {}),
            "report": {**report, "truth": "graph_probe", "truth_metrics": ["test_roc_auc"]},
        })
    score = {"kind": "graph_score", "seeds": [0], "params": {"metrics": FEATURE_SCORES}}
    finetune_params = {**common, **({"max_samples": design.finetune_molecules} if design.finetune_molecules else {})}
    epochs = design.finetune["params"]["epochs"]
    seeds = design.finetune["seeds"]
    molecules = f" of {design.finetune_molecules} molecules" if design.finetune_molecules else ""
    out.append({
        "name": f"source-selection-{preset}-finetune",
        "description": f"{len(encoders)} encoders ranked on {len(design.finetune_targets)} targets{molecules}; "
                       f"truth: full fine-tuning ({epochs} epochs, seed{'s' if len(seeds) > 1 else ''} "
                       f"{', '.join(map(str, seeds))}), scaffold test ROC-AUC.",
        "encoders": encoders, "targets": list(design.finetune_targets), "params": finetune_params,
        "stages": [score, {"kind": "graph_finetune", **design.finetune}],
        "report": {**report, "truth": "graph_finetune", "truth_metrics": ["test_roc_auc"]},
    })
    regression = ", ".join(t.removeprefix("ogbg-mol").upper() for t in design.regression_targets)
    out.append({
        "name": f"source-selection-{preset}-regression",
        "description": f"{len(encoders)} encoders ranked on {regression} by LogME's regression form (the one metric "
                       "with one); truth: ridge probe (alpha = 10), scaffold test RMSE (lower is better).",
        "encoders": encoders, "targets": list(design.regression_targets), "params": common,
        "stages": [{"kind": "graph_score", "seeds": [0], "params": {"metrics": ["logme"]}}, probe],
        "report": {**report, "truth": "graph_probe", "truth_metrics": ["test_rmse"]},
    })
    timed = [e for e in encoders if e in design.timing_encoders or e.endswith("gin_infomax.pt")]
    timing = {"kind": "graph_metric_timing", "seeds": [0], "params": {"repeats": 2}}
    out.append({
        "name": f"source-selection-{preset}-timing",
        "description": f"Seconds per metric, each alone, on the training embeddings of {len(timed)} encoders x "
                       f"{len(design.timing_targets) + 1} targets (best of 2, float64, CPU).",
        "encoders": timed, "params": common,
        "stages": stages(timing, {}, list(design.timing_targets)),
    })
    return out


def specs(preset: str, data_root: str | None, zoo: list[str]) -> list[dict]:
    """The studies of ``preset`` (``small``, ``medium`` or ``full``) whose zoo members are at ``zoo``."""
    if preset in DESIGNS:
        return sized_specs(preset, data_root, zoo)
    published = [f"published:{name}" for name in PUBLISHED_ENCODERS]
    common = {"cache": "cache"}
    if data_root:
        common["data_root"] = data_root
    encoders = published + zoo + ["random:gin:seed=0"]
    targets = ["ogbg-molbbbp", "ogbg-molbace", "ogbg-molsider:0"]
    score = {"kind": "graph_score", "seeds": [0], "params": {"metrics": SMALL_METRICS}}
    probe = {"kind": "graph_probe", "seeds": [0], "grid": {"l2": [0.1, 1.0]}}
    finetune = {"kind": "graph_finetune", "seeds": [0, 1], "targets": ["ogbg-molbace"],
                "params": {"epochs": 4, "patience": 4}}
    sizes = {"": 600, "-n150": 150}
    report = {"candidate": "encoder", "group": "target", "scores": "graph_score", "n_boot": 500}
    out = []
    for suffix, size in sizes.items():
        # the n150 study scores from 150 molecules per target but keeps the ground truth of the full
        # study (same probe trials, shared through the store): can a metric rank from few samples?
        out.append({
            "name": f"source-selection-{preset}{suffix}",
            "description": f"Encoders ranked per MoleculeNet target; scores from {size or 'all'} molecules per target; "
                           f"truth: linear probe on frozen embeddings of {sizes[''] or 'all'} molecules (scaffold test "
                           "split).",
            "encoders": encoders, "targets": targets, "params": common,
            "stages": [{**score, "params": {**score["params"], "max_samples": size}},
                       {**probe, "params": {"max_samples": sizes[""]}}],
            "report": {**report, "truth": "graph_probe", "truth_metrics": ["test_roc_auc", "test_accuracy"]},
        })
    out.append({
        "name": f"source-selection-{preset}-finetune",
        "description": "Encoders ranked per target; truth: full fine-tuning (seeds averaged), scaffold test ROC-AUC.",
        "encoders": encoders, "targets": finetune.get("targets", targets),
        "params": {**common, "max_samples": sizes[""]},
        "stages": [{**score, "targets": finetune.get("targets", targets)},
                   {k: v for k, v in finetune.items() if k != "targets"}],
        "report": {**report, "truth": "graph_finetune", "truth_metrics": ["test_roc_auc"]},
    })
    return out


def run_source_selection(args: argparse.Namespace) -> list[Path]:
    """Pretrain the zoo of ``args.preset`` and run its studies (``args``: :func:`gtransfer.cli.experiments.
    experiment_parser`'s), under ``args.out`` (default ``results/source_selection-<preset>``); the reports."""
    args.out = args.out or f"results/source_selection-{args.preset}"
    return run_experiment(specs(args.preset, args.data_root, zoo_paths(args.preset)), args, args.out,
                          prepare=lambda: build_zoo(args.preset, Path(args.out), args.data_root))
