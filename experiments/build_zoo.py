"""Pretrain a zoo of molecule encoders: architectures x strategies x corpora x seeds.

    python experiments/build_zoo.py --preset small   # 2 archs x 4 strategies x 2 corpora, CPU, minutes
    python experiments/build_zoo.py --preset full    # 4 archs x 4 strategies x 2 corpora + supervised; GPU

Every encoder is a gtransfer checkpoint (``<out>/<arch>_<strategy>_<corpus>_s<seed>.pt``) whose
metadata records architecture, featuriser, strategy, corpus, epochs, seed and code version;
``<out>/manifest.json`` lists them. Rerunning the command after an interruption resumes the unfinished
encoder from its last epoch and skips the finished ones. The presets: :mod:`gtransfer.studies.designs.pretrain_zoo`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from gtransfer.data.roots import cache_dir
from gtransfer.studies.designs.pretrain_zoo import PRESETS, build_pretrain_zoo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="small")
    parser.add_argument("--out", default=None, help="zoo folder (default <GTRANSFER_CACHE>/zoo/<preset>)")
    parser.add_argument("--data", default=None, help="data root (default GTRANSFER_DATA)")
    parser.add_argument("--workers", type=int, default=1, help="featurisation processes")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out) if args.out else cache_dir() / "zoo" / args.preset
    build_pretrain_zoo(args.preset, out, data_root=args.data, workers=args.workers, device=args.device)


if __name__ == "__main__":
    main()
