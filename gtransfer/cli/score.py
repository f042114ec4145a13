"""``gtransfer score``: every transferability metric on one embedding matrix."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import TYPE_CHECKING

from gtransfer.cli.common import CommandError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["add_parser", "run", "ARRAY_FORMATS", "real_valued"]

#: gtransfer.io.arrays.ARRAY_FORMATS, spelt here so that --help imports no numpy (a test keeps them equal)
ARRAY_FORMATS = ".npy, .npz[:key], .csv/.tsv[:column], .pt/.pth[:key] (torch.save), .parquet[:column]"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    formats = ARRAY_FORMATS
    p = sub.add_parser("score", help="every transferability metric on one embedding matrix",
                       description=f"Every transferability metric on one embedding matrix. Files may be {formats}.")
    p.add_argument("--features", required=True, help="(n, d) features, e.g. F.npy, F.npz:features, F.csv, F.pt")
    p.add_argument("--labels", required=True,
                   help="(n,) integer labels 0..C-1, e.g. y.npy, y.csv:label; (n, T) multi-task labels need --task")
    p.add_argument(
        "--task",
        help="multi-task labels (n, T), as `gtransfer embed` writes for Tox21: score task K "
        "(0..T-1), a task by name (NR-AR) when the labels file names its columns (CSV header, "
        ".npz or .pt keys), 'all' for one row per task, or 'mean' for the target as a whole "
        "(each metric's mean over the tasks with both classes; LogME: logme_multilabel); "
        "samples without a label for a task are left out (with a count)",
    )
    p.add_argument(
        "--regression",
        action="store_true",
        help="the labels are real-valued targets (NaN = missing): only metrics with a regression form (logme) apply",
    )
    p.add_argument("--source-probs", help="(n, Z) source-model probabilities for LEEP/NCE, same formats")
    p.add_argument("--metrics", help="comma-separated metric names (default: all that apply)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table",
                   help="table (for reading; the default), json or csv (for programs)")
    p.add_argument(
        "--device",
        default=None,
        help="compute the covariance-based metrics on this torch device, e.g. cuda (default: cpu)",
    )
    p.set_defaults(func=run)


def real_valued(labels: np.ndarray) -> bool:
    """Whether ``labels`` are real-valued targets (floats, a finite one with a fractional part), not class labels.

    Float labels holding whole numbers only (multi-task 0/1 with NaN for "no label") are class labels.
    """
    import numpy as np

    if not np.issubdtype(labels.dtype, np.floating):
        return False
    finite = labels[np.isfinite(labels)]
    return bool(finite.size) and bool(np.any(finite != np.round(finite)))


def _label_columns(labels: np.ndarray, n: int, task: str | None) -> list[tuple[str | None, np.ndarray]]:
    """``[(task name or None, (n,) labels with NaN where missing)]`` for the chosen task(s)."""
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim == 1:
        if task not in (None, "0", "all"):
            raise CommandError(f"--task {task}: the labels have one task (shape {labels.shape})", "leave out --task")
        columns = [(None, labels)]
    elif labels.ndim == 2:
        count = labels.shape[1]
        if task is None:
            raise CommandError(
                f"the labels have shape {labels.shape}: {count} tasks (a multi-task dataset such as Tox21), "
                "and the metrics score one classification task at a time",
                f"choose a task with --task K (K in 0..{count - 1}), or score each task with --task all",
            )
        if task == "all":
            columns = [(str(k), labels[:, k]) for k in range(count)]
        elif task.isdigit() and int(task) < count:
            columns = [(task, labels[:, int(task)])]
        else:
            raise CommandError(
                f"--task {task!r}: the labels have {count} tasks",
                f"give --task K with K in 0..{count - 1}, or --task all",
            )
    else:
        raise CommandError(f"labels must be (n,) class indices or (n, T) multi-task labels, got shape {labels.shape}",
                           "save the labels as a 1-D array of integers 0..C-1")
    if labels.shape[0] != n:
        raise ValueError(f"labels must have shape ({n},) to match the features, got {labels.shape}")
    return columns


def _load_inputs(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, str | None]:
    """(features, labels, source probabilities, task) as read from the files, saying what was read from tables.

    Features and labels from one table (``--features t.csv --labels t.csv:label``): the label column is
    left out of the features. ``--task NAME`` reads the column (or .npz/.pt entry) of that name.
    """
    from gtransfer.io.arrays import load_array, split_spec

    features_path, features_key = split_spec(args.features)
    labels_path, labels_key = split_spec(args.labels)
    task = args.task
    if task is not None and task not in ("all", "mean") and not task.isdigit():
        if labels_key is not None:
            raise CommandError(
                f"--task {task}: --labels {args.labels} already names one column", "leave out --task, or the ':column'"
            )
        if labels_path.suffix.lower() in (".npy",):
            raise CommandError(
                f"--task {task}: the labels file {labels_path} is a .npy array, which names no tasks",
                "give the task's number (--task K, K from 0), or save the labels as a CSV whose header names the tasks",
            )
        labels_key, task = task, None
    same_table = (
        features_key is None
        and labels_key is not None
        and features_path.suffix.lower() in (".csv", ".tsv", ".parquet")
        and features_path.exists()
        and labels_path.exists()
        and features_path.resolve() == labels_path.resolve()
    )
    read: list[str] = []  # what was read from tables, said once every file is read
    features = load_array(
        args.features,
        default_key="features",
        what="features",
        drop_columns=(labels_key,) if same_table else (),
        on_read=read.append,
    )
    labels = load_array(
        labels_path if labels_key is None else f"{labels_path}:{labels_key}",
        default_key="labels",
        what="labels",
        on_read=read.append,
    )
    source_probs = (
        load_array(args.source_probs, default_key="source_probs", what="source probabilities", on_read=read.append)
        if args.source_probs
        else None
    )
    for line in read:
        print(line, file=sys.stderr)
    return features, labels, source_probs, task


def run(args: argparse.Namespace) -> int:
    import numpy as np

    features, labels, source_probs, task = _load_inputs(args)
    if features.ndim != 2:
        raise ValueError(f"features must be a 2-D (n, d) array, got shape {features.shape}")
    if args.regression:
        return _score_regression(args, features, labels)
    if source_probs is not None and (source_probs.ndim != 2 or source_probs.shape[0] != features.shape[0]):
        raise ValueError(f"source probabilities must have shape ({features.shape[0]}, Z), got {source_probs.shape}")
    if args.task == "mean":
        return _score_multilabel(args, features, labels, source_probs)
    columns = _label_columns(labels, features.shape[0], task)
    try:
        from gtransfer.metrics import ConstantColumnsWarning, score_all
    except ImportError as exc:
        raise CommandError(
            f"the metric core is not available: {exc}", "reinstall gtransfer (pip install -e .)"
        ) from None
    metrics = args.metrics.split(",") if args.metrics else None
    rows: list[tuple[str | None, dict[str, float]]] = []
    notes: list[str] = []
    for task, column in columns:
        keep = np.ones(len(column), dtype=bool)
        if real_valued(column):  # the metric core would advise encoding them as classes: the fix is --regression
            raise CommandError(f"{'the labels' if task is None else f'task {task}'} are real values (e.g. "
                               f"{column[np.isfinite(column)][0]:g}): regression targets, not classes",
                               "score them with --regression (LogME's regression form)")
        if np.issubdtype(column.dtype, np.floating):
            keep = np.isfinite(column)
            if not keep.any():
                raise ValueError(f"task {task}: no sample has a label")
            if not keep.all():
                print(
                    f"task {task if task is not None else 0}: {int((~keep).sum())} of {len(column)} samples have no "
                    "label; "
                    f"scored the other {int(keep.sum())}",
                    file=sys.stderr,
                )
        # features in their own dtype (no float64 copy): the metric core accumulates float32 in float64 block by block
        rows_features = features if keep.all() else features[keep]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConstantColumnsWarning)  # counted below, once
            scores = score_all(
                rows_features,
                column[keep],
                source_probs=None if source_probs is None else np.asarray(source_probs[keep], dtype=np.float64),
                metrics=metrics,
                device=args.device,
            )
        prefix = "" if task is None else f"task {task}: "
        notes += [f"{prefix}{name}: not scored: {why}" for name, why in scores.refused.items()]
        if scores.constant_columns and not any("constant" in note for note in notes):
            notes.append(
                f"features: {scores.constant_columns} of {features.shape[1]} columns hold one value each and were "
                "dropped before scoring (a constant column carries no information)"
            )
        rows.append((task, {name: float(value) for name, value in scores.items()}))
    _print(rows, args.format)
    for note in notes:  # under the table; on stderr when the output is for a program
        print(note, file=sys.stdout if args.format == "table" else sys.stderr)
    return 0


def _print(rows: list[tuple[str | None, dict[str, float]]], style: str) -> None:
    """One task: metric -> value; several (``--task all``): one row per task, one column per metric."""
    if len(rows) == 1:
        scores = rows[0][1]
        if style == "json":
            print(json.dumps(scores, indent=1))
        elif style == "csv":
            print("metric,value")
            for name, value in scores.items():
                print(f"{name},{value!r}")
        else:
            width = max(map(len, scores), default=6)
            for name, value in scores.items():
                print(f"{name:<{width}}  {value: .10g}")
        return
    if style == "json":
        print(json.dumps({task: scores for task, scores in rows}, indent=1))
        return
    names = list(
        dict.fromkeys(name for _, scores in rows for name in scores)
    )  # a metric refused for one task: blank there
    if style == "csv":
        print(",".join(["task", *names]))
        for task, scores in rows:
            print(",".join([str(task), *(repr(scores[n]) if n in scores else "" for n in names)]))
        return
    widths = [max(len(n), 11) for n in names]
    print("  ".join(["task".rjust(4), *(n.rjust(w) for n, w in zip(names, widths))]))
    for task, scores in rows:
        print(
            "  ".join(
                [
                    str(task).rjust(4),
                    *((f"{scores[n]: .4g}" if n in scores else "-").rjust(w) for n, w in zip(names, widths)),
                ]
            )
        )


def _score_multilabel(args: argparse.Namespace, features: object, labels: object, source_probs: object) -> int:
    """``--task mean``: the multi-task target as a whole, as ``rank`` and the studies score it."""
    import numpy as np

    from gtransfer.selection.task_scores import score_target

    if labels.ndim != 2 or labels.shape[0] != features.shape[0]:
        raise CommandError(
            f"--task mean needs (n, T) multi-task labels with n = {features.shape[0]}, got shape {labels.shape}",
            "leave out --task for one classification task")
    if source_probs is not None:
        raise CommandError("--task mean scores each task on its own labelled rows, which --source-probs cannot follow",
                           "leave out --source-probs, or score the tasks one by one with --task all")
    metrics = args.metrics.split(",") if args.metrics else None
    scores = score_target(np.asarray(features, dtype=np.float64), np.asarray(labels, dtype=np.float64), "multitask",
                          metrics=metrics, device=args.device)
    _print([(None, scores)], args.format)
    return 0


def _score_regression(args: argparse.Namespace, features: object, targets: object) -> int:
    """LogME's regression form on real targets; a metric without a regression form is refused in one line."""
    import numpy as np

    from gtransfer.selection.task_scores import score_target

    if targets.ndim not in (1, 2) or targets.shape[0] != features.shape[0]:
        raise ValueError(
            f"regression targets must have shape ({features.shape[0]},) or ({features.shape[0]}, T), got "
            f"{targets.shape}"
        )
    metrics = args.metrics.split(",") if args.metrics else None
    scores = score_target(
        np.asarray(features, dtype=np.float64), np.asarray(targets, dtype=np.float64), "regression", metrics=metrics
    )
    _print([(None, scores)], args.format)
    return 0
