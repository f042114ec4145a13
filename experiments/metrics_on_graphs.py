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

#: the medium source-selection encoders, in the order this run scores them: the nine published and three of its
#: six untrained ones (random:gin:seed=1, seed=2 and random:graphsage:seed=0 left out, and the preset's six
#: pretrained GINs of its zoo: they are not on this machine, and pretraining them again costs 10 CPU-minutes without
#: a guarantee of the weights the committed truth was measured with). On the shared 2-core machine (load 10-13)
#: each encoder's embeddings of the five datasets and its 43 trials took 3-4 minutes of wall time; the analysis
#: keeps the encoders scored on every target (``complete_encoders``), so the run can stop at a deadline.
PUBLISHED = [f"published:{arch}_{strategy}" for arch in ("gcn", "graphsage", "gat")
             for strategy in ("contextpred", "supervised", "supervised_contextpred")]
RANDOM = [f"random:{arch}:seed=0" for arch in ("gin", "gcn", "gat")]
SOURCE_ENCODERS = [*PUBLISHED[:4], "random:gin:seed=0", "published:gat_supervised", "published:graphsage_supervised",
                   "random:gat:seed=0", "published:gat_contextpred", "published:graphsage_supervised_contextpred",
                   "published:gat_supervised_contextpred", "random:gcn:seed=0"]
BINARY_TARGETS = (["ogbg-molbbbp", "ogbg-molbace", "ogbg-molclintox:0", "ogbg-molclintox:1"]
                  + [f"ogbg-moltox21:{t}" for t in range(12)] + [f"ogbg-molsider:{t}" for t in range(27)])
FINETUNE_TARGETS = ["ogbg-molbbbp", "ogbg-molbace", "ogbg-molclintox:0", "ogbg-moltox21:0", "ogbg-moltox21:2",
                    "ogbg-moltox21:7", "ogbg-molsider:0", "ogbg-molsider:6"]
HIV_MOLECULES = 4000
SCORE_SIZE = 1000

#: target selection (medium): the families, their head source in the source zoo and their targets
FAMILY_SOURCES = {
    "SIDER": "tox21-gin",
    "ToxCast": "tox21-gin",
    "ENZYMES": "enzymes-gin",
    "IMDB-MULTI": "imdb-multi-gin",
    "PROTEINS": "proteins-gin",
    "NCI1": "nci1-gin",
}
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

    families = {
        "SIDER": [f"ogbg-molsider:{t}" for t in SIDER_TASKS],
        "ToxCast": [f"ogbg-moltoxcast:{t}" for t in TOXCAST_TASKS],
    }
    for dataset in ("ENZYMES", "IMDB-MULTI", "PROTEINS", "NCI1"):
        families[dataset] = [
            format_target(dataset, k=k, ratio=r, max=MAX_PER_CLASS.get(dataset), seed=s)
            for k in range(2, CLASSES[dataset] + 1)
            for r in RATIOS
            for s in range(SUBSET_SEEDS[dataset])
        ]
    return families


def specs(data_root: str = "/work/shared/data") -> dict[str, dict]:
    """The studies by file name: source selection (HIV and N-LEEP apart, run last), target selection, timing."""
    common = {"cache": "cache", "data_root": data_root}
    score = {"kind": "graph_score", "seeds": [0]}
    source_metrics = {**score, "params": {"metrics": FEATURE_METRICS, "train_samples": SCORE_SIZE}}
    source = {
        "name": "metrics-on-graphs-source",
        "description": f"{len(SOURCE_ENCODERS)} encoders (published and untrained) on {len(BINARY_TARGETS)} binary "
                       f"MoleculeNet targets; every feature metric from {SCORE_SIZE} training molecules.",
        "encoders": SOURCE_ENCODERS, "params": common, "stages": [{**source_metrics, "targets": BINARY_TARGETS}],
    }
    hiv = {
        "name": "metrics-on-graphs-source-hiv",
        "description": f"The same encoders and metrics on HIV, from {SCORE_SIZE} training molecules of a "
        f"{HIV_MOLECULES}-molecule subsample (as the medium preset).",
        "encoders": SOURCE_ENCODERS,
        "params": {**common, "max_samples": HIV_MOLECULES},
        "targets": ["ogbg-molhiv"],
        "stages": [source_metrics],
    }
    nleep = {
        "name": "metrics-on-graphs-source-nleep",
        "description": f"N-LEEP of the same encoders on the {len(FINETUNE_TARGETS)} fine-tuning targets, from "
        f"{SCORE_SIZE} training molecules.",
        "encoders": SOURCE_ENCODERS,
        "params": common,
        "targets": FINETUNE_TARGETS,
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
        "stages": [
            {
                "kind": "graph_metric_timing",
                "seeds": [0],
                "encoders": [
                    "published:gcn_supervised",
                    "published:gcn_contextpred",
                    "published:graphsage_contextpred",
                ],
                "targets": ["ogbg-molbbbp", "ogbg-moltox21:0"],
                "params": {"metrics": timed, "repeats": 2, "train_samples": SCORE_SIZE},
            },
            {
                "kind": "graph_metric_timing",
                "seeds": [0],
                "encoders": ["zoo/enzymes-gin.pt"],
                "targets": ["ENZYMES:k=6,ratio=1,seed=0"],
                "params": {"metrics": [*timed, "nce", "leep", "pactran_dirichlet", "pactran_gamma"], "repeats": 2},
            },
        ],
    }
    return {
        "source.yaml": source,
        "source-nleep.yaml": nleep,
        "source-hiv.yaml": hiv,
        "target.yaml": target,
        "timing.yaml": timing,
    }


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
        subprocess.run(
            [
                sys.executable,
                "-m",
                "gtransfer.cli",
                "sweep",
                str(out / name),
                "--store",
                str(out / "results.db"),
                "--workers",
                str(workers),
                "--no-progress",
            ],
            check=True,
        )


#: the metrics scored on the committed truths' old runs too: their values here against the committed ones
#: check that the embeddings (and the rebuilt source zoo) are those the truth was measured with
CHECKED = ["h_score", "shrinkage_h_score", "logme", "gbc", "transrate", "knn_accuracy"]
MEASURE_LABELS = {"spearman": "Spearman", "pearson": "Pearson", "kendall": "Kendall", "weighted_kendall": "w. Kendall",
                  "top1_relative_accuracy": "top-1 rel.", "partial_spearman": "partial Spearman given H(Y)"}


def _read_scores(out: Path) -> dict:
    """The run's seed-averaged scores per study (pool metrics combined per target) and its timing trials."""
    import warnings

    import pandas as pd

    from gtransfer.studies.report import study_scores, trials_frame
    from gtransfer.studies.store import TrialStore

    with TrialStore(out / "results.db", read_only=True) as store:
        found = {"source": study_scores(store, "metrics-on-graphs-source")}
        studies = set(store.studies())
        if "metrics-on-graphs-source-hiv" in studies and any(
            store.records(kind="graph_score", study="metrics-on-graphs-source-hiv")
        ):
            found["source"] = pd.concat([found["source"], study_scores(store, "metrics-on-graphs-source-hiv")])
        if "metrics-on-graphs-source-nleep" in studies and any(
            store.records(kind="graph_score", study="metrics-on-graphs-source-nleep")
        ):
            found["nleep"] = study_scores(store, "metrics-on-graphs-source-nleep")
        for name in ("source", "nleep"):  # the encoders of the current specs only (the store may hold more)
            if name in found:
                found[name] = found[name][found[name]["encoder"].isin(SOURCE_ENCODERS)].reset_index(drop=True)
        with warnings.catch_warnings():  # one encoder per target: the pool metrics are NaN there, as they should be
            warnings.simplefilter("ignore", UserWarning)
            found["target"] = study_scores(store, "metrics-on-graphs-target", candidate="target", group="encoder")
        found["timing"] = (
            trials_frame(store, kind="graph_metric_timing", study="metrics-on-graphs-timing")
            if "metrics-on-graphs-timing" in studies
            else pd.DataFrame(columns=["encoder", "target"])
        )
    return found


def _agreement(mine, committed, keys: list[str], columns: list[str]) -> dict[str, float]:
    """Largest relative difference of each column between this run and a committed table, on their common rows."""
    import numpy as np

    both = mine.merge(committed, on=keys, suffixes=("", ".committed"))
    out = {"rows": float(len(both))}
    for column in columns:
        if column in both and f"{column}.committed" in both:
            a, b = both[column].to_numpy(np.float64), both[f"{column}.committed"].to_numpy(np.float64)
            out[column] = float(np.nanmax(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))
    return out


def _forest(table, title: str, path: Path, measure: str = "spearman") -> None:
    """Each ranker's estimate and interval of ``measure``, best first; baselines in grey."""
    import matplotlib.pyplot as plt

    part = table[(table["measure"] == measure) & table["estimate"].notna()].sort_values("estimate")
    fig, ax = plt.subplots(figsize=(6.5, 0.3 * len(part) + 1.2))
    y = range(len(part))
    colors = ["0.55" if role == "baseline" else "C0" for role in part["role"]]
    ax.errorbar(part["estimate"], y, xerr=[part["estimate"] - part["low"], part["high"] - part["estimate"]], fmt="none",
                ecolor=colors, elinewidth=1.5)
    ax.scatter(part["estimate"], y, c=colors, zorder=3, s=18)
    ax.set_yticks(
        list(y), [f"{r} (baseline)" if role == "baseline" else r for r, role in zip(part["ranker"], part["role"])]
    )
    ax.axvline(0.0, color="0.8", lw=0.8)
    ax.set_xlabel(f"mean {MEASURE_LABELS[measure]} (95% bootstrap interval)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _markdown(table, seconds: dict[str, str], partial: bool) -> str:
    """One comparison as a markdown table: every measure with its interval, the gain in Spearman over the best
    baseline, and the metric's cost."""
    import numpy as np

    measures = ["spearman", "pearson", "kendall", "weighted_kendall", "top1_relative_accuracy"] + (
        ["partial_spearman"] if partial else []
    )
    head = ["ranker", *[MEASURE_LABELS[m] for m in measures], "Spearman gain over best baseline", "seconds"]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    cell = {(r.ranker, r.measure): r for r in table.itertuples()}
    order = table[table["measure"] == "spearman"].sort_values("estimate", ascending=False)["ranker"].tolist()
    for ranker in order:
        row = [f"**{ranker}**" if cell[(ranker, "spearman")].role == "baseline" else ranker]
        for measure in measures:
            r = cell.get((ranker, measure))
            row.append(
                "" if r is None or not np.isfinite(r.estimate) else f"{r.estimate:+.2f} [{r.low:+.2f}, {r.high:+.2f}]"
            )
        r = cell[(ranker, "spearman")]
        gain = getattr(r, "gain", np.nan)
        row.append(f"{gain:+.2f} [{r.gain_low:+.2f}, {r.gain_high:+.2f}] vs {r.best_baseline}"
                   if isinstance(gain, float) and np.isfinite(gain) else "")
        row.append(seconds.get(ranker, ""))
        lines.append("| " + " | ".join(row) + " |")
    spear = table[table["measure"] == "spearman"]
    lines.append("")
    fewer = [f"{r} {g}" for r, g in zip(spear["ranker"], spear["groups"]) if g != spear["groups"].max()]
    lines.append(f"Units: {spear['units'].iloc[0]}" + (f"; groups per metric: {', '.join(fewer)} (the others: all "
                                                        f"{int(spear['groups'].max())})" if fewer else "") + ".")
    return "\n".join(lines)


def complete_encoders(source):
    """The rows of the encoders scored on every binary target (a run stopped at a deadline leaves the last
    encoder part-scored), and HIV's rows only when every one of those has them; the encoders left out are printed."""
    binary = source[source["target"].isin(BINARY_TARGETS)]
    counts = binary.groupby("encoder")["target"].nunique()
    kept = sorted(counts[counts == len(BINARY_TARGETS)].index)
    if len(kept) < len(counts):
        print(f"left out, not scored on every target: {sorted(set(counts.index) - set(kept))}")
    source = source[source["encoder"].isin(kept)]
    hiv = source["target"] == "ogbg-molhiv"
    if hiv.any() and source.loc[hiv, "encoder"].nunique() < len(kept):
        print(f"HIV left out: scored for {source.loc[hiv, 'encoder'].nunique()} of {len(kept)} encoders")
        source = source[~hiv]
    return source.reset_index(drop=True)


def _compact(table, seconds: dict[str, str], title: str) -> str:
    """The page's form of one comparison: Spearman and top-1 with intervals, the gain in Spearman over the best
    baseline, the partial Spearman given H(Y) where computed, and seconds per (encoder, target)."""
    import numpy as np

    cell = {(r.ranker, r.measure): r for r in table.itertuples()}
    partial = "partial_spearman" in set(table["measure"])
    head = [
        "ranker",
        "Spearman",
        "top-1 rel.",
        "gain in Spearman over the best baseline",
        *(["partial Spearman given H(Y)"] if partial else []),
        "seconds",
    ]
    lines = [f"**{title}**", "", "| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]

    def fmt(r) -> str:
        return (
            ""
            if r is None or not np.isfinite(getattr(r, "estimate", np.nan))
            else f"{r.estimate:+.2f} [{r.low:+.2f}, {r.high:+.2f}]"
        )

    spear = table[table["measure"] == "spearman"].sort_values("estimate", ascending=False)
    for r in spear.itertuples():
        gain = getattr(r, "gain", np.nan)
        row = [
            f"**{r.ranker}** (baseline)" if r.role == "baseline" else r.ranker,
            fmt(r),
            fmt(cell.get((r.ranker, "top1_relative_accuracy"))),
            f"{gain:+.2f} [{r.gain_low:+.2f}, {r.gain_high:+.2f}] over {r.best_baseline}"
            if isinstance(gain, float) and np.isfinite(gain)
            else "",
        ]
        if partial:
            row.append(fmt(cell.get((r.ranker, "partial_spearman"))))
        row.append(seconds.get(r.ranker, ""))
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", f"Units: {spear['units'].iloc[0]}."]
    return "\n".join(lines)


def analyse(out: Path, n_boot: int = 2000) -> None:
    """The comparisons of the module docstring: CSV tables, forest plots and ``tables.md`` in
    docs/results/metrics-on-graphs/."""
    import json
    import time

    import pandas as pd

    from gtransfer.evaluation.baselines import per_group_measure
    from gtransfer.evaluation.comparison import compare_metrics

    start = time.perf_counter()
    found = _read_scores(out)
    (FOLDER / "plots").mkdir(parents=True, exist_ok=True)
    source = complete_encoders(found["source"])
    if "nleep" in found:
        source = source.merge(found["nleep"][["target", "encoder", "nleep"]], on=["target", "encoder"], how="left")
    probe = pd.read_csv(RESULTS / "source-selection-medium-n1000" / "scores_and_truth.csv")
    finetune = pd.read_csv(RESULTS / "source-selection-medium-finetune" / "scores_and_truth.csv")
    chosen = pd.read_csv(RESULTS / "target-selection-medium" / "scores_and_truth.csv")
    checks = {
        "source vs source-selection-medium-n1000": _agreement(source, probe, ["target", "encoder"], CHECKED),
        "target vs target-selection-medium": _agreement(found["target"], chosen, ["target"], [*CHECKED, "nce", "leep"]),
    }

    metrics = [m for m in [*FEATURE_METRICS, "nleep"] if m in source.columns]
    source_probe = source.merge(probe[["target", "encoder", "test_roc_auc"]], on=["target", "encoder"])
    source_finetune = source.merge(finetune[["target", "encoder", "test_roc_auc"]], on=["target", "encoder"])
    comparisons = {
        "source_probe": (source_probe, compare_metrics(source_probe, metrics, "test_roc_auc", n_boot=n_boot),
                         "Source selection, linear-probe truth (test ROC-AUC)"),
        "source_finetune": (source_finetune, compare_metrics(source_finetune, metrics, "test_roc_auc", n_boot=n_boot),
                            "Source selection, fine-tuning truth (test ROC-AUC, 8 targets)"),
    }
    target = (
        found["target"]
        .drop(columns=["encoder"])
        .merge(chosen[["family", "target", "test_accuracy", "relative_accuracy"]], on="target")
    )
    target_metrics = [
        m for m in [*FEATURE_METRICS, "nleep", *SOURCE_METRICS] if m in target.columns and m not in ("ncti", "etran")
    ]
    for kind, families in (
        ("molecules", target["family"].isin(MOLECULE_FAMILIES)),
        ("tu", ~target["family"].isin(MOLECULE_FAMILIES)),
    ):
        for truth in ("relative_accuracy", "test_accuracy"):
            part = target[families]
            table = compare_metrics(
                part,
                target_metrics,
                truth,
                group="family",
                candidate="target",
                resample="candidates",
                label_entropy="label_entropy",
                control="label_entropy",
                n_boot=max(100, n_boot // 10),
            )
            comparisons[f"target_{kind}_{truth}"] = (
                part,
                table,
                f"Target selection, {'molecule tasks' if kind == 'molecules' else 'TU class subsets'}"
                f", truth: fine-tuned {truth.replace('_', ' ')}",
            )
    per_family = []
    for family, part in target.groupby("family"):
        for truth in ("relative_accuracy", "test_accuracy"):
            for metric in [*target_metrics, "label_entropy"]:
                if part[metric].notna().all():
                    value = per_group_measure(part.assign(family=family), metric, truth, group="family").iloc[0]
                    per_family.append(
                        {"family": family, "truth": truth, "metric": metric, "spearman": value, "targets": len(part)}
                    )
    pd.DataFrame(per_family).to_csv(FOLDER / "target_per_family.csv", index=False)

    timing = found["timing"]
    seconds: dict[str, dict[str, str]] = {"molecules": {}, "tu": {}}
    rows = []
    for column in [c for c in timing.columns if c.startswith("seconds_")]:
        name = column.removeprefix("seconds_")
        for kind, mask in (
            ("molecules", timing["target"].str.startswith("ogbg-")),
            ("tu", ~timing["target"].str.startswith("ogbg-")),
        ):
            values = timing.loc[mask, column].dropna()
            if len(values):
                rows.append(
                    {
                        "metric": name,
                        "targets": kind,
                        "pairs": len(values),
                        "median_seconds": float(values.median()),
                        "max_seconds": float(values.max()),
                    }
                )
                seconds[kind][name] = f"{values.median():.3g}"
    timing_table = pd.DataFrame(rows)
    timing_table.to_csv(FOLDER / "timing.csv", index=False)
    timing_lines = ["| metric | molecules: median s (max) | TU (ENZYMES, k = 6): s |", "| --- | --- | --- |"]
    for metric, part in timing_table.groupby("metric", sort=False) if len(timing_table) else []:
        mol = part[part["targets"] == "molecules"]
        tu = part[part["targets"] == "tu"]
        timing_lines.append(
            f"| {metric} | "
            + (
                f"{mol['median_seconds'].iloc[0]:.3f} ({mol['max_seconds'].iloc[0]:.3f}) over "
                f"{int(mol['pairs'].iloc[0])} pairs"
                if len(mol)
                else "-"
            )
            + " | "
            + (f"{tu['median_seconds'].iloc[0]:.3f}" if len(tu) else "-")
            + " |"
        )

    sections = []
    for name, (_, table, title) in comparisons.items():
        table.to_csv(FOLDER / f"{name}.csv", index=False)
        _forest(table, title, FOLDER / "plots" / f"{name}_spearman.png")
        kind = "tu" if "_tu_" in name else "molecules"
        sections.append(f"### {title}\n\n![forest plot](plots/{name}_spearman.png)\n\n"
                        + _markdown(table, seconds[kind], partial="partial_spearman" in set(table["measure"])))
    (FOLDER / "summary.md").write_text(
        "\n\n".join(
            _compact(table, seconds["tu" if "_tu_" in name else "molecules"], title)
            for name, (_, table, title) in comparisons.items()
        )
        + "\n\n"
        + "\n".join(timing_lines)
        + "\n"
    )
    source_probe.to_csv(FOLDER / "source_scores_and_truth.csv", index=False)
    target.to_csv(FOLDER / "target_scores_and_truth.csv", index=False)
    (FOLDER / "checks.json").write_text(json.dumps(checks, indent=1) + "\n")
    (FOLDER / "tables.md").write_text(
        "# Metrics on graphs: the tables\n\nWritten by `python experiments/metrics_on_graphs.py "
        f"analyse` ({n_boot:,} resamples per source-selection interval, {max(100, n_boot // 10):,} per "
        "target-selection one). Seconds: median per (encoder, target) of the timing study. Baselines "
        "in bold.\n\n" + "\n\n".join(sections) + "\n"
    )
    print(json.dumps(checks, indent=1))
    print(f"analysis: {time.perf_counter() - start:.0f} s -> {FOLDER / 'tables.md'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("spec", "run", "analyse"))
    parser.add_argument(
        "--out", type=Path, default=Path("results/metrics-on-graphs"), help="run folder: store, zoo, cache"
    )
    parser.add_argument("--specs", nargs="*", default=list(specs()), help="which specs to run")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--n-boot", type=int, default=2000, help="resamples of each interval (target selection: a tenth)"
    )
    args = parser.parse_args()
    if args.command == "spec":
        print("\n".join(map(str, write_specs())))
    elif args.command == "run":
        run(args.out, args.specs, args.workers)
    else:
        analyse(args.out, n_boot=args.n_boot)


if __name__ == "__main__":
    main()
