"""Every transferability metric, old and new, on the graph studies' encoders and targets: which one to trust.

Writes the specs of docs/results/metrics-on-graphs/ (``spec``), runs them with ``gtransfer sweep`` into one
store beside the target-selection source zoo (``run``: resumable; the zoo is built once) and compares the
metrics on the evaluation layer against the truths of the committed medium reports (``analyse``):

* source selection: the medium preset's published and untrained encoders on its 44 binary MoleculeNet targets,
  every metric from n = 1000 training molecules (HIV: a 4,000-molecule subsample, as the preset), against the
  linear-probe truth of docs/results/source-selection-medium-n1000/ and the fine-tuning truth of
  docs/results/source-selection-medium-finetune/ (8 targets), joined by (encoder, target). N-LEEP, whose
  Gaussian mixture costs seconds per (encoder, target), is scored on the 8 fine-tuning targets only;
* target selection: the medium preset's 138 targets in six families (SIDER and ToxCast tasks under the Tox21
  GIN, ENZYMES/IMDB-MULTI/PROTEINS/NCI1 class subsets under their own GIN), every metric and the source-head
  metrics, against the fine-tuned accuracy of docs/results/target-selection-medium/;
* cost: each metric timed alone (``graph_metric_timing``) on a few (encoder, target) pairs.

The encoder and target lists are copies of the medium presets of experiments/source_selection.py and
experiments/target_selection.py, written here so that this script imports nothing from them.

    python experiments/metrics_on_graphs.py spec      # rewrite the specs (they are committed)
    python experiments/metrics_on_graphs.py run --out /work/cache-shared/metrics-on-graphs
    python experiments/metrics_on_graphs.py analyse --out /work/cache-shared/metrics-on-graphs
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "docs" / "results"
FOLDER = RESULTS / "metrics-on-graphs"

#: the medium source-selection encoders this run can rebuild bit for bit: the nine published and six untrained
#: ones (the preset's six pretrained GINs of its zoo are left out: they are not on this machine, and pretraining
#: them again costs 10 CPU-minutes without a guarantee of the weights the committed truth was measured with)
PUBLISHED = [f"published:{arch}_{strategy}" for arch in ("gcn", "graphsage", "gat")
             for strategy in ("contextpred", "supervised", "supervised_contextpred")]
RANDOM = [f"random:gin:seed={s}" for s in (0, 1, 2)] + [f"random:{arch}:seed=0" for arch in ("gcn", "graphsage", "gat")]
BINARY_TARGETS = (["ogbg-molbbbp", "ogbg-molbace", "ogbg-molclintox:0", "ogbg-molclintox:1"]
                  + [f"ogbg-moltox21:{t}" for t in range(12)] + [f"ogbg-molsider:{t}" for t in range(27)])
FINETUNE_TARGETS = ["ogbg-molbbbp", "ogbg-molbace", "ogbg-molclintox:0", "ogbg-moltox21:0", "ogbg-moltox21:2",
                    "ogbg-moltox21:7", "ogbg-molsider:0", "ogbg-molsider:6"]
HIV_MOLECULES = 4000
SCORE_SIZE = 1000

#: target selection (medium): the families, their head source in the source zoo and their targets
FAMILY_SOURCES = {"SIDER": "tox21-gin", "ToxCast": "tox21-gin", "ENZYMES": "enzymes-gin", "IMDB-MULTI": "imdb-multi-gin",
                  "PROTEINS": "proteins-gin", "NCI1": "nci1-gin"}
CLASSES = {"ENZYMES": 6, "IMDB-MULTI": 3, "PROTEINS": 2, "NCI1": 2}
SUBSET_SEEDS = {"ENZYMES": 2, "IMDB-MULTI": 2, "PROTEINS": 3, "NCI1": 3}
MAX_PER_CLASS = {"IMDB-MULTI": 200, "PROTEINS": 300, "NCI1": 300}
RATIOS = (1, 2, 4, 7, 10)
SIDER_TASKS = [t for t in range(27) if t != 2]
TOXCAST_TASKS = [2, 4, 5, 6, 11, 16, 18, 23, 24, 27, 28, 29]
MOLECULE_FAMILIES = ("SIDER", "ToxCast")

#: every metric of the class-label registry and the pool metrics; the source-head ones where a head exists
FEATURE_METRICS = ["h_score", "shrinkage_h_score", "logme", "gbc", "transrate", "parc", "sfda", "pactran_gaussian",
                   "ncti", "etran", "knn_accuracy", "linear_probe_accuracy"]
SOURCE_METRICS = ["nce", "leep", "nce_normalized", "leep_normalized", "pactran_dirichlet", "pactran_gamma"]


def family_targets() -> dict[str, list[str]]:
    """The medium target-selection preset's targets per family."""
    from gtransfer.data.targets import format_target

    families = {"SIDER": [f"ogbg-molsider:{t}" for t in SIDER_TASKS], "ToxCast": [f"ogbg-moltoxcast:{t}" for t in TOXCAST_TASKS]}
    for dataset in ("ENZYMES", "IMDB-MULTI", "PROTEINS", "NCI1"):
        families[dataset] = [format_target(dataset, k=k, ratio=r, max=MAX_PER_CLASS.get(dataset), seed=s)
                             for k in range(2, CLASSES[dataset] + 1) for r in RATIOS for s in range(SUBSET_SEEDS[dataset])]
    return families


def specs(data_root: str = "/work/shared/data") -> dict[str, dict]:
    """The four studies by file name: source selection, its N-LEEP part, target selection, timing."""
    common = {"cache": "cache", "data_root": data_root}
    score = {"kind": "graph_score", "seeds": [0]}
    source_metrics = {**score, "params": {"metrics": FEATURE_METRICS, "train_samples": SCORE_SIZE}}
    source = {
        "name": "metrics-on-graphs-source",
        "description": f"{len(PUBLISHED) + len(RANDOM)} encoders (published and untrained) on {len(BINARY_TARGETS) + 1} binary "
                       f"MoleculeNet targets; every feature metric from {SCORE_SIZE} training molecules.",
        "encoders": PUBLISHED + RANDOM, "params": common,
        "stages": [{**source_metrics, "targets": BINARY_TARGETS},
                   {**source_metrics, "targets": ["ogbg-molhiv"],
                    "params": {**source_metrics["params"], "max_samples": HIV_MOLECULES}}],
    }
    nleep = {
        "name": "metrics-on-graphs-source-nleep",
        "description": f"N-LEEP of the same encoders on the {len(FINETUNE_TARGETS)} fine-tuning targets, from {SCORE_SIZE} training molecules.",
        "encoders": PUBLISHED + RANDOM, "params": common, "targets": FINETUNE_TARGETS,
        "stages": [{**score, "params": {"metrics": ["nleep"], "train_samples": SCORE_SIZE}}],
    }
    stages = [{**score, "encoders": [f"zoo/{FAMILY_SOURCES[family]}.pt"], "targets": targets,
               "params": {"source": "head"}}
              for family, targets in family_targets().items()]
    target = {
        "name": "metrics-on-graphs-target",
        "description": "The medium target-selection targets, each family under its source GIN; every metric, the "
                       "source-head ones (NCE, LEEP, PACTran) included.",
        "params": {**common, "metrics": [*FEATURE_METRICS, "nleep", *SOURCE_METRICS]}, "stages": stages,
    }
    timed = [*FEATURE_METRICS, "nleep"]
    timing = {
        "name": "metrics-on-graphs-timing",
        "description": "Seconds per metric, each alone (best of 2, float64, CPU), on real embeddings: 3 encoders x "
                       "2 molecule targets from 1000 training molecules, and one TU target under its source GIN.",
        "params": common,
        "stages": [{"kind": "graph_metric_timing", "seeds": [0], "encoders": ["published:gcn_supervised", "published:gat_contextpred",
                                                                               "random:gin:seed=0"],
                    "targets": ["ogbg-molbbbp", "ogbg-moltox21:0"],
                    "params": {"metrics": timed, "repeats": 2, "train_samples": SCORE_SIZE}},
                   {"kind": "graph_metric_timing", "seeds": [0], "encoders": ["zoo/enzymes-gin.pt"],
                    "targets": ["ENZYMES:k=6,ratio=1,seed=0"],
                    "params": {"metrics": [*timed, "nce", "leep", "pactran_dirichlet", "pactran_gamma"], "repeats": 2}}],
    }
    return {"source.yaml": source, "source-nleep.yaml": nleep, "target.yaml": target, "timing.yaml": timing}


def write_specs(folder: Path = FOLDER) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, spec in specs().items():
        path = folder / name
        path.write_text(yaml.safe_dump(spec, sort_keys=False, width=120))
        paths.append(path)
    return paths


def run(out: Path, names: list[str], workers: int) -> None:
    """Build the source zoo (kept when built) and sweep each named spec into ``out/results.db``."""
    from gtransfer.pretrain.source_zoo import SMALL_SOURCE_ZOO, build_graph_source_zoo

    out.mkdir(parents=True, exist_ok=True)
    wanted = set(FAMILY_SOURCES.values())
    build_graph_source_zoo(out / "zoo", tuple(s for s in SMALL_SOURCE_ZOO if s.name in wanted), progress=False)
    for name in names:
        shutil.copyfile(FOLDER / name, out / name)  # the spec's relative paths (zoo/, cache/) are out's
        subprocess.run([sys.executable, "-m", "gtransfer.cli", "sweep", str(out / name), "--store", str(out / "results.db"),
                        "--workers", str(workers), "--no-progress"], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("spec", "run", "analyse"))
    parser.add_argument("--out", type=Path, default=Path("results/metrics-on-graphs"), help="run folder: store, zoo, cache")
    parser.add_argument("--specs", nargs="*", default=list(specs()), help="which specs to run")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.command == "spec":
        print("\n".join(map(str, write_specs())))
    elif args.command == "run":
        run(args.out, args.specs, args.workers)
    else:
        from metrics_on_graphs_analysis import analyse  # noqa: PLC0415 (written below)

        analyse(args.out)


if __name__ == "__main__":
    main()
