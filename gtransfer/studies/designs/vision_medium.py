"""The vision medium preset (issue 25): the image claims' studies, sized for 2 CPU cores, resumable in one store.

**Source selection** (claims (a), (a') and (b) on images): the ``medium`` zoo (:data:`gtransfer.vision.zoo.PRESETS`:
16 trained sources of varied architecture, width, depth, source classes and training length, and one random
control) ranked on :data:`SOURCE_TARGETS`, eight class-subset targets of three image datasets (CIFAR-10 and MNIST
test splits and scikit-learn's digits; the dataset is the bootstrap's outer unit, as on graphs), with 2 to 10
classes, imbalance 1 to 4 and 225 to 900 training images. Each (encoder, target) is scored from n = 50, 100, 300,
600 and all training images (:data:`SIZES`; one study per size, ``vision-source-selection-medium-n<size>``): with
d = 32 to 512 the small sizes put the wide encoders at n < d, and the three targets with 900 training images give
two cells with n above every encoder's d (600 and all). The truth is full fine-tuning on the whole training part
(3 epochs, lr 1e-3, batch 32) with seeds 0, 1 and 2; its trials have the same key in the five studies, so they run
once.

**Target selection** (claim (d) on images): :data:`FAMILIES`, six d = 512 encoders with their own source heads
(NCE and LEEP read them), each ranking its own twelve targets: strata of label count k = 2, 3, 5, 10 and imbalance
ratio 1, 2, 5 (largest over smallest class), at most 80 images a class, drawn with the family's own seed, so no two
families share a target. The family is the ranking group and its own unit, as on graphs. Truth: full fine-tuning,
5 epochs, seeds 0, 1, 2. Targets come from the test splits and every source from the training splits, so no
source model saw a target image.

**Compute** (:func:`project_medium`): fine-tuning dominates; its work is counted in training image-epochs per
encoder (epochs x training images, every trial running all its epochs) and turned into CPU-hours at each zoo
encoder's own source-training rate (its checkpoint's ``train_seconds`` over its image-epochs, measured when the zoo
is built on the same machine). Front end: ``experiments/vision_medium.py``; every trial is stored as it finishes
and skipped when the command is rerun.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gtransfer.vision.targets import target_name

__all__ = ["SIZES", "SCORE_METRICS", "SOURCE_TARGETS", "FAMILIES", "SOURCE_FINETUNE", "TARGET_FINETUNE",
           "source_selection_specs", "target_selection_spec", "medium_specs", "study_name", "train_images",
           "VisionProjection", "project_medium", "zoo_rates", "projection_lines", "run_vision_medium"]

PRESET = "medium"
#: scores from this many training images per target (None: all of the training part)
SIZES: tuple[int | None, ...] = (50, 100, 300, 600, None)
#: the metrics scored (the claims' metrics, the comparison metrics of the claims pages, NCE and LEEP on the heads)
SCORE_METRICS = ["h_score", "shrinkage_h_score", "logme", "gbc", "transrate", "knn_accuracy", "nce", "leep"]
#: source-selection targets: three datasets, k = 2..10, imbalance 1..4, 225-900 training images (60% of each)
SOURCE_TARGETS = [
    target_name("cifar10", "test", num_classes=10, max_per_class=150, seed=0),
    target_name("cifar10", "test", classes=[3, 5], max_per_class=250, seed=0),
    target_name("cifar10", "test", num_classes=5, imbalance_ratio=4, max_per_class=250, seed=1),
    target_name("cifar10", "test", classes=[0, 1, 8, 9], max_per_class=125, seed=0),
    target_name("mnist", "test", num_classes=10, max_per_class=150, seed=0),
    target_name("mnist", "test", num_classes=4, imbalance_ratio=4, max_per_class=250, seed=1),
    target_name("digits", None, num_classes=10, max_per_class=150, seed=0),
    target_name("digits", None, num_classes=3, imbalance_ratio=2, max_per_class=170, seed=1),
]
#: target-selection families: (encoder with d = 512, the dataset its targets are drawn from)
FAMILIES = (("c10-resnet512-e2", "cifar10"), ("c10-cnn512-e4", "cifar10"), ("c10-cnn512w8-e4", "cifar10"),
            ("animals-cnn512-e4", "cifar10"), ("vehicles-cnn512-e4", "cifar10"), ("mnist-cnn512-e2", "mnist"))
#: target-selection strata: label counts, imbalance ratios, images a class at most
STRATA: dict[str, Any] = {"k": (2, 3, 5, 10), "ratio": (1, 2, 5), "max": 80}
SEEDS = [0, 1, 2]
SOURCE_FINETUNE = {"mode": "full", "epochs": 3, "lr": 1e-3, "batch_size": 32}
TARGET_FINETUNE = {"mode": "full", "epochs": 5, "lr": 1e-3, "batch_size": 32}
#: the reports' per-group bootstrap resamples (the claims pages resample 10,000 times; 100 as in the graph medium
#: preset's reports, whose 1,000 took over 10 minutes a report)
REPORT_BOOT = 100
#: the share of a target's images in its training part (the 60/20/20 stratified split)
TRAIN_SHARE = 0.6


def study_name(size: int | None) -> str:
    """The source-selection study of one score size: ``vision-source-selection-medium-n50`` ... ``-nall``."""
    return f"vision-source-selection-{PRESET}-n{size or 'all'}"


def _report(candidate: str, group: str) -> dict:
    return {"candidate": candidate, "group": group, "scores": "vision_score", "truth": "vision_finetune",
            "truth_aggregate": "mean", "n_boot": REPORT_BOOT}


def _params(zoo: str, cache: str, data_root: str | None) -> dict:
    return {"zoo": zoo, "cache": cache, **({"data_root": data_root} if data_root else {})}


def source_selection_specs(zoo: str, cache: str, *, data_root: str | None = None) -> list[dict]:
    """One study per score size (:data:`SIZES`): every zoo encoder x every target, scored from that many training
    images, with the fine-tuning truth (the same trials in every study)."""
    from gtransfer.vision.zoo import PRESETS

    specs = []
    for size in SIZES:
        score = {"metrics": SCORE_METRICS, **({"train_samples": size} if size else {})}
        specs.append({
            "name": study_name(size),
            "description": f"Vision source selection, medium preset: {len(PRESETS[PRESET])} encoders ranked on "
                           f"{len(SOURCE_TARGETS)} CIFAR-10/MNIST/digits targets, scores from {size or 'all'} training "
                           "images; truth: full fine-tuning on the whole training part, seeds 0-2.",
            "encoders": [s.name for s in PRESETS[PRESET]],
            "targets": list(SOURCE_TARGETS),
            "params": _params(zoo, cache, data_root),
            "stages": [{"kind": "vision_score", "params": score},
                       {"kind": "vision_finetune", "seeds": list(SEEDS), "params": dict(SOURCE_FINETUNE)}],
            "report": _report("encoder", "target"),
        })
    return specs


def family_targets(index: int, dataset: str) -> list[str]:
    """The twelve targets of family ``index``: every (k, ratio) stratum once, drawn with seed 100 + ``index``."""
    split = None if dataset == "digits" else "test"  # digits has one split
    return [target_name(dataset, split, num_classes=k, imbalance_ratio=ratio, max_per_class=STRATA["max"],
                        seed=100 + index) for k in STRATA["k"] for ratio in STRATA["ratio"]]


def target_selection_spec(zoo: str, cache: str, *, data_root: str | None = None) -> dict:
    """Each family's encoder scores and fine-tunes its own targets (two stages per family); targets are ranked
    within each encoder."""
    stages: list[dict] = []
    for index, (encoder, dataset) in enumerate(FAMILIES):
        targets = family_targets(index, dataset)
        stages += [{"kind": "vision_score", "encoders": [encoder], "targets": targets,
                    "params": {"metrics": SCORE_METRICS}},
                   {"kind": "vision_finetune", "encoders": [encoder], "targets": targets, "seeds": list(SEEDS),
                    "params": dict(TARGET_FINETUNE)}]
    return {
        "name": f"vision-target-selection-{PRESET}",
        "description": f"Vision target selection, medium preset: {len(FAMILIES)} families, each a d = 512 encoder "
                       "with its source head ranking its own 12 targets (k = 2, 3, 5, 10; imbalance 1, 2, 5; at most "
                       "80 images a class); truth: full fine-tuning, seeds 0-2.",
        "params": _params(zoo, cache, data_root),
        "stages": stages,
        "report": _report("target", "encoder"),
    }


def medium_specs(zoo: str, cache: str, *, data_root: str | None = None) -> list[dict]:
    """The preset's studies in the order they run: the source-selection sizes, then target selection."""
    return [*source_selection_specs(zoo, cache, data_root=data_root),
            target_selection_spec(zoo, cache, data_root=data_root)]


# -- compute --------------------------------------------------------------------------------------------------------
def train_images(target: str) -> int:
    """Training images of a class-subset image target: 60% of its class sizes
    (:func:`gtransfer.data.class_subsets.class_sizes` of ``max`` images a class; an upper bound where a class has
    fewer images than ``max``).

    Raises:
        ValueError: a target without ``max`` (its size depends on the dataset's class counts).
    """
    from gtransfer.data.class_subsets import class_sizes
    from gtransfer.vision.targets import parse_target

    ref = parse_target(target)
    if ref.max_per_class is None:
        raise ValueError(f"train_images: target {target!r} has no max=; give one to size it")
    k = ref.num_classes or len(ref.classes or ())
    return round(TRAIN_SHARE * int(class_sizes(int(ref.max_per_class), k, imbalance_ratio=ref.imbalance_ratio).sum()))


@dataclass(frozen=True)
class VisionProjection:
    """Trials per kind (each key once) and the fine-tuning work in training image-epochs per encoder."""

    trials: dict[str, int]
    image_epochs: dict[str, float]

    def cpu_hours(self, seconds_per_image_epoch: Mapping[str, float]) -> float:
        """Hours on one core at each encoder's rate (seconds per training image-epoch).

        Raises:
            KeyError: an encoder without a rate (named).
        """
        missing = sorted(set(self.image_epochs) - set(seconds_per_image_epoch))
        if missing:
            raise KeyError(f"no rate for encoders {missing}")
        return sum(work * seconds_per_image_epoch[e] for e, work in self.image_epochs.items()) / 3600.0


def project_medium(specs: Iterable[Any]) -> VisionProjection:
    """The projection of parsed study specs (:class:`gtransfer.studies.spec.StudySpec`): trials shared between
    studies are counted once."""
    from gtransfer.studies.projection import unique_trials

    kinds: Counter[str] = Counter()
    work: Counter[str] = Counter()
    for trial in unique_trials(specs):
        kinds[trial.kind] += 1
        if trial.kind == "vision_finetune":
            epochs = int(trial.params.get("epochs", 5))
            work[trial.params["encoder"]] += epochs * train_images(trial.params["target"])
    return VisionProjection(dict(kinds), {e: float(w) for e, w in work.items()})


def zoo_rates(zoo: str | os.PathLike, sources: Iterable[Any]) -> dict[str, float]:
    """Seconds per training image-epoch of each built zoo encoder: its checkpoint's ``train_seconds`` over its source
    training (epochs x 80% of classes x images a class). An untrained control (epochs 0: only its head was fit) takes
    the rate of a trained encoder of the same architecture and config, else the slowest rate."""
    from gtransfer.io.checkpoints import load_checkpoint

    sources = list(sources)
    rates: dict[str, float] = {}
    for spec in sources:
        if spec.epochs:
            _, metadata = load_checkpoint(Path(zoo) / f"{spec.name}.pt")
            images = 0.8 * len(spec.classes) * spec.max_per_class
            rates[spec.name] = float(metadata["train_seconds"]) / (spec.epochs * images)
    for spec in sources:
        if not spec.epochs:
            same = [rates[s.name] for s in sources if s.epochs and (s.arch, s.config) == (spec.arch, spec.config)]
            rates[spec.name] = same[0] if same else max(rates.values())
    return rates


def projection_lines(projection: VisionProjection, *, rates: Mapping[str, float] | None = None) -> list[str]:
    """What the preset prints before its sweeps: trials, fine-tuning work, and CPU-hours once the zoo's rates are
    known."""
    counts = ", ".join(f"{count:,} {kind}" for kind, count in sorted(projection.trials.items()))
    total = sum(projection.image_epochs.values())
    lines = [f"trials: {counts}",
             f"fine-tuning: {total:,.0f} training image-epochs over {len(projection.image_epochs)} encoders (every "
             "trial running all its epochs: an upper bound)"]
    if rates is None:
        lines.append("  CPU-hours follow once the zoo is built (each encoder's own training rate)")
    else:
        lines.append(f"  {projection.cpu_hours(rates):.2f} CPU-hours on one core at the zoo encoders' own training "
                     "rates (embedding and scoring not counted); divide by the workers that have a core each")
    return lines


def _relative(path: Path, start: Path) -> str:
    return os.path.relpath(path.resolve(), start.resolve())


def run_vision_medium(*, out: str | os.PathLike, zoo: str | os.PathLike, cache: str | os.PathLike, workers: int = 1,
                      project_only: bool = False, data_root: str | None = None, progress: bool = True,
                      reports: bool = True) -> dict[str, Any]:
    """Print the projection; unless ``project_only``, build the zoo (resumable), print the projection in CPU-hours,
    sweep every study into ``out/results.db`` (spec files ``out/<study>.yaml``, zoo and cache paths relative to
    ``out``) and, with ``reports``, write each study's report into ``out/<study>/`` once every trial is done; the
    zoo's table goes into ``out/zoo.md``.

    Returns:
        ``{"projection": VisionProjection, "hours": CPU-hours or None, "summaries": per study}``.
    """
    import yaml

    from gtransfer.io.atomic import write_text
    from gtransfer.io.names import safe_name
    from gtransfer.studies.report import write_report
    from gtransfer.studies.runner import run_sweep
    from gtransfer.studies.spec import load_spec, parse_spec
    from gtransfer.studies.store import TrialStore
    from gtransfer.vision.zoo import PRESETS, build_zoo, zoo_table_lines

    out = Path(out).resolve()
    specs = medium_specs(_relative(Path(zoo), out), _relative(Path(cache), out), data_root=data_root)
    projection = project_medium(parse_spec(spec, base_dir=out, source=spec["name"]) for spec in specs)
    print("\n".join(["vision medium preset, before it starts:", *projection_lines(projection)]), flush=True)
    report: dict[str, Any] = {"projection": projection, "hours": None, "summaries": {}}
    if project_only:
        return report
    out.mkdir(parents=True, exist_ok=True)
    paths = build_zoo(PRESETS[PRESET], zoo, root=data_root, progress=progress)
    table = zoo_table_lines(paths)
    write_text(out / "zoo.md", "\n".join(table) + "\n")
    rates = zoo_rates(zoo, PRESETS[PRESET])
    report["hours"] = projection.cpu_hours(rates)
    print("\n".join([*table, "with the zoo built:", *projection_lines(projection, rates=rates)]), flush=True)
    store_path = out / "results.db"
    with TrialStore(store_path) as store:
        for spec in specs:
            spec_path = out / f"{safe_name(spec['name'])}.yaml"
            write_text(spec_path, yaml.safe_dump(spec, sort_keys=False, width=120))
            summary = run_sweep(load_spec(spec_path), store, workers=workers, progress=progress)
            report["summaries"][spec["name"]] = summary
            print(f"{spec['name']}: {summary}", flush=True)
    unfinished = [name for name, summary in report["summaries"].items() if not summary.complete]
    if unfinished:
        print(f"not every trial finished ({', '.join(unfinished)}); rerun the same command to retry them, then the "
              "reports are written", flush=True)
        return report
    for spec in specs if reports else ():
        write_report(store_path, out, study=spec["name"])
    return report
