"""Train the vision source zoo: ``python experiments/build_vision_zoo.py --preset small|full``.

Each source encoder (see ``gtransfer.vision.zoo.PRESETS``) is trained on a class subset of the CIFAR-10 or
MNIST training split and written atomically to ``<out>/<name>.pt`` with its metadata. The build
resumes: encoders already in the folder with the same spec are skipped. ``small`` runs in minutes
on 2 CPU cores, ``medium`` in about ten; ``full`` wants a GPU.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    from gtransfer.cli.common import add_data_root_argument
    from gtransfer.vision.zoo import PRESETS, build_zoo, zoo_table_lines

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="small")
    parser.add_argument("--out", help="zoo folder (default results/vision/zoo-<preset>)")
    add_data_root_argument(parser)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--only", nargs="+", help="build only these sources (names in the preset)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    specs = PRESETS[args.preset]
    if args.only:
        unknown = sorted(set(args.only) - {s.name for s in specs})
        if unknown:
            parser.error(f"not in preset {args.preset}: {unknown}")
        specs = [s for s in specs if s.name in args.only]
    out = Path(args.out or f"results/vision/zoo-{args.preset}")
    started = time.perf_counter()
    paths = build_zoo(specs, out, root=args.data_root, device=args.device)
    print("\n".join(zoo_table_lines(paths)))
    print(f"zoo of {len(paths)} encoders in {out} ({time.perf_counter() - started:.0f} s this run)")
    return 0


if __name__ == "__main__":
    from gtransfer.cli.experiments import run_script

    raise SystemExit(run_script(main, "build_vision_zoo.py"))
