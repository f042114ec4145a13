"""Fine-tune GIN without pretraining on ogbg-molbbbp (scaffold split) and MUTAG (10-fold CV).

Checks that :func:`gtransfer.training.finetune.finetune` lands in the published ranges (Hu et al. 2020,
Table 1, GIN without pretraining: BBBP test ROC-AUC 65.8 +- 4.5; Xu et al. 2019, GIN on MUTAG:
89.4 +- 5.6 10-fold accuracy). Each finished run is appended to a JSON-lines file under experiments/results/,
so an interrupted run resumes where it stopped. The runs and the MUTAG protocols (``--protocol heldout``:
early stopping on a held-out tenth of the training folds; ``xu2019``: the published protocol, best epoch of
the fold-averaged test curve): :mod:`gtransfer.studies.designs.finetune_reference`.

    python experiments/finetune_reference.py bbbp --seeds 0 1 2 --epochs 100
    python experiments/finetune_reference.py mutag --seeds 0 1 2 --epochs 100
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from gtransfer.studies.designs.finetune_reference import PROTOCOLS, run_bbbp, run_mutag, summarise

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=["bbbp", "mutag"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--patience", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--protocol", choices=PROTOCOLS, default="heldout", help="MUTAG protocol")
    parser.add_argument("--data", default=None, help="data root (default: GTRANSFER_DATA / ../shared/data)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    options = {"seeds": args.seeds, "epochs": args.epochs, "patience": args.patience, "data_root": args.data}
    if args.task == "bbbp":
        path = run_bbbp(RESULTS, **options)
    else:
        path = run_mutag(RESULTS, protocol=args.protocol, **options)
    print(json.dumps(summarise(path), indent=1))


if __name__ == "__main__":
    main()
