"""Each self-supervised pretraining strategy, pretrained on ZINC molecules, against random weights:
linear-probe ROC-AUC on BBBP and Tox21 (scaffold split).

Every strategy but ``supervised`` pretrains the same encoder (``--arch``, ``--layers``, ``--dim``, seed 0) on
the first ``--limit`` molecules of ``--corpus`` for ``--epochs`` epochs (checkpoints under ``--workdir``,
resumed when present), against ``--random-seeds`` random-weight draws of the same architecture, each probed
on frozen embeddings. With ``--probe-each-epoch`` the run is a curve: one probe per epoch, ``--out`` rewritten
after every probe. The run: :mod:`gtransfer.studies.designs.pretrain_strategies`.

    python experiments/pretrain_strategies_probe.py --limit 5000 --epochs 3 \\
        --out experiments/results/pretrain_strategies_probe.json
    python experiments/pretrain_strategies_probe.py --strategies contextpred --corpus moses-train --limit 400000 \\
        --epochs 4 --probe-each-epoch --out experiments/results/pretrain_contextpred_moses400k_curve.json
"""

from __future__ import annotations

import argparse

import torch

from gtransfer.pretrain import STRATEGIES
from gtransfer.studies.designs.pretrain_strategies import probe_strategies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="zinc250k-jtnn-valid")
    parser.add_argument("--limit", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--arch", default="gin", choices=["gin", "gcn", "graphsage", "gat"])
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--strategies", nargs="+", default=[s for s in STRATEGIES if s != "supervised"])
    parser.add_argument("--datasets", nargs="+", default=["ogbg-molbbbp", "ogbg-moltox21"])
    parser.add_argument("--random-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--workdir", default=".cache/pretrain_strategies", help="checkpoints (resumed when present)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None)
    parser.add_argument("--probe-each-epoch", action="store_true",
                        help="probe after every epoch (a curve over pretraining); --out is rewritten after each probe")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    probe_strategies(strategies=args.strategies, datasets=args.datasets, corpus=args.corpus, limit=args.limit,
                     epochs=args.epochs, arch=args.arch, layers=args.layers, dim=args.dim, batch_size=args.batch_size,
                     random_seeds=args.random_seeds, data_root=args.data_root, workdir=args.workdir, out=args.out,
                     probe_each_epoch=args.probe_each_epoch, settings=vars(args))


if __name__ == "__main__":
    main()
