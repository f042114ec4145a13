"""``gtransfer finetune``: fine-tune encoders on a target's split, every combination as one pack.

Several ``--encoder``, ``--seed``, ``--lr``, ``--weight-decay`` and ``--mode`` values give their product of
trials; they train together (:func:`gtransfer.selection.finetuning.finetune_pack`: the packed engine, split by
encoder architecture), each with the result it would have alone. One trial prints its result as JSON; several
print a table and the JSON list. Every result names what was run: its ``params`` (encoder, target, lr, seed, ...),
the ``code_version`` and the UTC ``date``; the table and a line on stderr name the measure (RMSE: lower is better).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys

from gtransfer.cli.common import add_data_root_argument, check_output_file

__all__ = ["add_parser", "run", "trial_params"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("finetune", help="fine-tune encoders on a target, as one pack (gtransfer.training.packed)",
                       description="Fine-tune each encoder on the target's training split, with early stopping on its "
                                   "validation split, and report the test measure (ROC-AUC, accuracy or RMSE: the one "
                                   "OGB uses for the dataset). Several --encoder, --seed, --lr, --weight-decay and "
                                   "--mode values give their product of trials, trained together as one pack, each "
                                   "with the result it would have alone.")
    p.add_argument("--encoder", "--encoders", dest="encoders", nargs="+", required=True,
                   help="encoders: checkpoint files, published:NAME or random:ARCH (several train as one pack)")
    p.add_argument(
        "--target", required=True, help="DATASET[:TASK] or DATASET:k=3,ratio=2, e.g. ogbg-molbace, ENZYMES:k=3"
    )
    add_data_root_argument(p)
    p.add_argument("--max-samples", type=int, default=None, help="use at most this many target graphs")
    p.add_argument("--mode", "--modes", dest="modes", nargs="+", choices=("full", "linear"), default=["full"],
                   help="full: train the encoder and the head (default); linear: the head alone, on frozen embeddings")
    p.add_argument("--epochs", type=int, default=20, help="most epochs per trial (default 20)")
    p.add_argument(
        "--lr", "--lrs", dest="lrs", type=float, nargs="+", default=[1e-3], help="Adam learning rates (default 1e-3)"
    )
    p.add_argument(
        "--weight-decay",
        dest="weight_decays",
        type=float,
        nargs="+",
        default=[0.0],
        help="L2 weight decays (default 0)",
    )
    p.add_argument(
        "--patience", type=int, default=5, help="epochs without validation gain before a trial stops (default 5)"
    )
    p.add_argument(
        "--seed",
        "--seeds",
        dest="seeds",
        type=int,
        nargs="+",
        default=[0],
        help="head initialisation and dropout seeds",
    )
    p.add_argument("--batch-size", type=int, default=64, help="graphs per batch (default 64)")
    p.add_argument("--order-seed", type=int, default=0, help="seed of the data order, shared by the pack (default 0)")
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: a GPU when there is one, else cpu)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="floating-point precision of training (default float32)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--out", help="also write the result (a list for several trials) as JSON here")
    p.set_defaults(func=run)


def trial_params(args: argparse.Namespace) -> list[dict]:
    """The params of every combination the arguments name, in a stable order (as a ``graph_finetune`` trial
    would hold them; the JSON output lists them beside each result)."""
    shared = {
        "target": args.target,
        "epochs": args.epochs,
        "patience": args.patience,
        "batch_size": args.batch_size,
        "order_seed": args.order_seed,
        "dtype": args.dtype,
        "max_samples": args.max_samples,
        "data_root": args.data_root,
    }
    if args.device is not None:
        shared["device"] = args.device
    return [
        {**shared, "encoder": encoder, "seed": seed, "lr": lr, "weight_decay": wd, "mode": mode}
        for encoder, seed, lr, wd, mode in itertools.product(
            args.encoders, args.seeds, args.lrs, args.weight_decays, args.modes
        )
    ]


#: how each measure of a fine-tuning result reads, as said under its numbers
_MEASURES = {"rmse": "RMSE, lower is better", "mae": "MAE, lower is better", "rocauc": "ROC-AUC, higher is better",
             "accuracy": "accuracy, higher is better", "average_precision": "average precision, higher is better"}


def _measure(results: list[dict | Exception]) -> str | None:
    """The measure every successful result shares (``None`` when none succeeded or they differ)."""
    names = {r["metric"] for r in results if not isinstance(r, Exception)}
    return names.pop() if len(names) == 1 else None


def _table(params: list[dict], results: list[dict | Exception]) -> str:
    from gtransfer.io.errors import describe_error

    measure = _measure(results)
    named = f" {measure}" if measure else ""
    rows = [("encoder", "seed", "lr", "wd", "mode", f"valid{named}", f"test{named}", "best epoch", "epochs")]
    for p, r in zip(params, results):
        head = (p["encoder"], str(p["seed"]), f"{p['lr']:g}", f"{p['weight_decay']:g}", p["mode"])
        if isinstance(r, Exception):
            rows.append((*head, f"failed: {describe_error(r)}", "", "", ""))
        else:
            rows.append(
                (
                    *head,
                    f"{r['valid_metric']:.4f}",
                    f"{r['test_metric']:.4f}",
                    str(r["best_epoch"]),
                    str(r["epochs_run"]),
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def run(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from gtransfer.io.atomic import write_text
    from gtransfer.io.errors import describe_error
    from gtransfer.io.provenance import code_version
    from gtransfer.selection.finetuning import FinetuneMember, FinetuneSetup, finetune_pack

    if args.out:
        check_output_file(args.out)  # before any training, not after it
    params = trial_params(args)
    setup = FinetuneSetup(target=args.target, epochs=args.epochs, batch_size=args.batch_size,
                          order_seed=args.order_seed, max_samples=args.max_samples, device=args.device,
                          dtype=args.dtype, data_root=args.data_root)
    members = [FinetuneMember(p["encoder"], seed=p["seed"], mode=p["mode"], lr=p["lr"], weight_decay=p["weight_decay"],
                              patience=args.patience) for p in params]
    # a device torch cannot use fails first, in one line, before any data loads
    results = finetune_pack(setup, members, progress=not args.no_progress)
    if len(params) == 1 and isinstance(results[0], Exception):
        raise results[0]
    ran = {"code_version": code_version(), "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    listed = [
        {
            "params": {k: v for k, v in p.items() if v is not None},
            **({"error": describe_error(r)} if isinstance(r, Exception) else r),
            **ran,
        }
        for p, r in zip(params, results)
    ]
    text = json.dumps(listed[0] if len(params) == 1 else listed, indent=1)
    if len(params) > 1:
        print(_table(params, results))
    if args.out:
        write_text(args.out, text)
    measure = _measure(results)
    if len(params) == 1:
        print(text)
        result = results[0]
        print(f"{args.target}: test {measure} {result['test_metric']:.4g}, valid {measure} "
              f"{result['valid_metric']:.4g} ({_MEASURES.get(measure, measure)}), best epoch {result['best_epoch']} of "
              f"{result['epochs_run']}", file=sys.stderr)
    elif measure:
        print(f"valid and test are {_MEASURES.get(measure, measure)}", file=sys.stderr)
    failed = sum(isinstance(r, Exception) for r in results)
    if failed and len(params) > 1:
        print(f"{failed} of {len(params)} trials failed (their errors are in the table)")
        return 1
    return 0
