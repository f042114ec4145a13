"""How long a study's fine-tuning will take on a device, printed before a full preset starts.

Fine-tuning dominates every preset's cost, and its cost is proportional to the training graphs it
passes through: a ``graph_finetune`` trial of E epochs on a target whose training split has G graphs
is E x G graph-passes (early stopping only shortens it, so the projection is an upper bound). The
unit is the BBBP training epoch (1,631 graphs, the unit of ``python -m gtransfer.bench training``),
so a rate measured by that benchmark converts straight into hours:

    hours = sum over trials (E x G / 1631) / (BBBP epochs per second of the device) / 3600

A target's training graphs are 80% (the scaffold and stratified splits' share) of its samples: the
dataset's graph count (OGB's, :data:`gtransfer.data.molecules.MOLECULE_SPECS`; the TU counts below),
halved for a ``part=`` target, capped by the trial's ``max_samples`` and a class subset's ``k x max``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from gtransfer.studies.spec import StudySpec, Trial, expand_trials

__all__ = ["REFERENCE_RATES", "FinetuneProjection", "project_finetuning", "projection_lines", "unique_trials"]

#: graphs of the TU datasets the presets use (TUDataset's counts)
TU_GRAPHS = {"ENZYMES": 600, "PROTEINS": 1113, "NCI1": 4110, "IMDB-MULTI": 1500, "IMDB-BINARY": 1000, "MUTAG": 188,
             "REDDIT-BINARY": 2000, "COLLAB": 5000, "DD": 1178}
#: training graphs of the unit, a BBBP epoch (scaffold split of 2,039 molecules)
BBBP_TRAIN_GRAPHS = 1631
TRAIN_SHARE = 0.8
#: rates to project with until one is measured on the device at hand, BBBP training epochs per second
#: (all trials of the device together): what the issues record for one H200 before packing
#: (16 processes), and the packing target (50x that)
REFERENCE_RATES = {
    "H200, 16 processes, before packing (measured)": 0.74,
    "H200, packed, the issue's target (50x)": 37.0,
}


@dataclass(frozen=True)
class FinetuneProjection:
    """What a set of studies asks of a device: trials per kind and the fine-tuning work in BBBP epochs."""

    trials: dict[str, int]
    finetune_trials: int
    bbbp_epochs: float

    def hours(self, bbbp_epochs_per_second: float) -> float:
        """Device hours at a rate of ``bbbp_epochs_per_second`` (BBBP training epochs per second, all trials
        together)."""
        if bbbp_epochs_per_second <= 0:
            raise ValueError(f"a rate must be positive, got {bbbp_epochs_per_second}")
        return self.bbbp_epochs / bbbp_epochs_per_second / 3600.0


def target_graphs(target: str, *, max_samples: int | None = None) -> int:
    """Samples of a graph target (before its split): the dataset's graphs, capped as the target and ``max_samples`` say.

    Raises:
        ValueError: a dataset whose size this module does not know (add it to ``TU_GRAPHS``).
    """
    from gtransfer.data.molecules import MOLECULE_SPECS
    from gtransfer.data.targets import parse_target

    dataset, _, options = parse_target(target)
    if dataset in MOLECULE_SPECS:
        graphs = MOLECULE_SPECS[dataset].ogb_graphs
    elif dataset in TU_GRAPHS:
        graphs = TU_GRAPHS[dataset]
    else:
        raise ValueError(f"projection: no graph count for dataset {dataset!r} of target {target!r}; "
                         f"known: the molecule datasets and {', '.join(sorted(TU_GRAPHS))}")
    if "part" in options:
        graphs = (graphs + 1) // 2  # one half of the dataset (gtransfer.data.targets.disjoint_parts)
    if "max" in options:
        graphs = min(graphs, int(options["max"]) * int(options.get("k", 2)))
    return min(graphs, int(max_samples)) if max_samples else graphs


def unique_trials(specs: Iterable[StudySpec]) -> Iterator[Trial]:
    """Each trial of ``specs`` once, in the specs' order: a trial whose key an earlier spec already expanded to is
    skipped (a store runs a trial shared between studies once, so a projection counts it once)."""
    seen: set[str] = set()
    for spec in specs:
        for trial in expand_trials(spec):
            if trial.key not in seen:
                seen.add(trial.key)
                yield trial


def project_finetuning(specs: Iterable[StudySpec]) -> FinetuneProjection:
    """Trials per kind over ``specs`` (each key once: stores share trials between studies) and the
    fine-tuning trials' work in BBBP training epochs (``epochs`` x training graphs / 1631)."""
    kinds: Counter[str] = Counter()
    finetune = 0
    bbbp_epochs = 0.0
    for trial in unique_trials(specs):
        kinds[trial.kind] += 1
        if trial.kind == "graph_finetune":
            finetune += 1
            graphs = TRAIN_SHARE * target_graphs(trial.params["target"], max_samples=trial.params.get("max_samples"))
            bbbp_epochs += int(trial.params.get("epochs", 100)) * graphs / BBBP_TRAIN_GRAPHS
    return FinetuneProjection(dict(kinds), finetune, bbbp_epochs)


def projection_lines(projection: FinetuneProjection, *, measured_rate: float | None = None) -> list[str]:
    """The lines a full preset prints before it starts."""
    counts = ", ".join(f"{count:,} {kind}" for kind, count in sorted(projection.trials.items()))
    lines = [
        f"trials: {counts}",
        f"fine-tuning: {projection.finetune_trials:,} trials, {projection.bbbp_epochs:,.0f} BBBP training epochs of "
        "work (every trial running all its epochs: an upper bound)",
    ]
    rates = dict(REFERENCE_RATES)
    if measured_rate is not None:
        rates = {"measured here (--device-rate)": measured_rate, **rates}
    for name, rate in rates.items():
        lines.append(f"  {projection.hours(rate):,.1f} device-hours at {rate:g} BBBP epochs/s ({name})")
    if measured_rate is None:
        lines.append("  measure this device's rate with `python -m gtransfer.bench training --device cuda --pack 64` "
                     "and pass it as --device-rate")
    return lines
