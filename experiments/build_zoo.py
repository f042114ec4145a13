"""Pretrain a zoo of molecule encoders: architectures x strategies x corpora x seeds.

    python experiments/build_zoo.py --preset small   # 2 archs x 4 strategies x 2 corpora, CPU, minutes
    python experiments/build_zoo.py --preset full    # 4 archs x 4 strategies x 2 corpora + supervised; GPU

Every encoder is a gtransfer checkpoint (``<out>/<arch>_<strategy>_<corpus>_s<seed>.pt``) whose
metadata records architecture, featuriser, strategy, corpus, epochs, seed and code version;
``<out>/manifest.json`` lists them. Corpora are featurised once into resumable shards
(:func:`gtransfer.data.corpus.featurize_corpus`). Rerunning the command after an interruption
resumes the unfinished encoder from its last epoch and skips the finished ones.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import torch

from gtransfer.data.corpus import ShardedCorpus, featurize_corpus
from gtransfer.io.atomic import write_json
from gtransfer.pretrain import pretrain_encoder

PRESETS = {
    "small": {
        "archs": ["gin", "gcn"], "strategies": ["attrmask", "edgepred", "infomax", "graphcl"],
        "corpora": {"zinc250k-jtnn-test": 1500, "moses-test": 1500}, "seeds": [0],
        "num_layers": 3, "hidden_dim": 64, "epochs": 3, "batch_size": 64, "lr": 1e-3, "supervised": None,
    },
    "full": {
        "archs": ["gin", "gcn", "graphsage", "gat"], "strategies": ["attrmask", "edgepred", "infomax", "graphcl"],
        "corpora": {"moses-train": None, "zinc250k-jtnn-valid": None}, "seeds": [0, 1],
        "num_layers": 5, "hidden_dim": 300, "epochs": 100, "batch_size": 256, "lr": 1e-3,
        "supervised": "ogbg-moltoxcast",  # plus supervised multi-task pretraining on ToxCast's 617 tasks
    },
}


def _corpus_graphs(name: str, limit: int | None, out: Path, args) -> list:
    shards = out / "corpora" / f"{name}_{limit or 'all'}_hu2020"
    featurize_corpus(name, shards, featurizer="hu2020", num_workers=args.workers, limit=limit, root=args.data,
                     progress=True)
    return list(ShardedCorpus(shards))


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
    preset = PRESETS[args.preset]
    from gtransfer.data.roots import cache_dir

    out = Path(args.out) if args.out else cache_dir() / "zoo" / args.preset
    out.mkdir(parents=True, exist_ok=True)
    manifest: list[dict] = []
    start = time.perf_counter()
    jobs = [(corpus, limit, arch, strategy, seed) for (corpus, limit), arch, strategy, seed in itertools.product(
        preset["corpora"].items(), preset["archs"], preset["strategies"], preset["seeds"])]
    if preset["supervised"]:
        jobs += [(preset["supervised"], None, arch, "supervised", seed)
                 for arch, seed in itertools.product(preset["archs"], preset["seeds"])]
    loaded: dict[str, list] = {}
    for k, (corpus, limit, arch, strategy, seed) in enumerate(jobs, 1):
        if corpus not in loaded:
            if strategy == "supervised":
                from gtransfer.data import load_dataset

                loaded[corpus] = load_dataset(corpus, root=args.data, featurizer="hu2020")
            else:
                loaded[corpus] = _corpus_graphs(corpus, limit, out, args)
        graphs = loaded[corpus]
        path = out / f"{arch}_{strategy}_{corpus}_s{seed}.pt"
        tic = time.perf_counter()
        source = {"dataset": corpus} if strategy == "supervised" else {"corpus": corpus, "limit": limit}
        meta = pretrain_encoder(path, strategy, arch=arch, graphs=graphs, featurizer="hu2020", num_layers=preset["num_layers"],
                                hidden_dim=preset["hidden_dim"], dropout=0.0, epochs=preset["epochs"],
                                batch_size=preset["batch_size"], lr=preset["lr"], seed=seed, root=args.data,
                                device=args.device, progress=True, **source)
        entry = {"path": path.name, "arch": arch, "strategy": strategy, "corpus": meta["corpus"], "seed": seed,
                 "epochs": meta["epochs_done"], "final_loss": meta["history"][-1], "seconds": time.perf_counter() - tic}
        manifest.append(entry)
        write_json(out / "manifest.json", manifest)
        print(f"[{k}/{len(jobs)}] {json.dumps(entry)}", flush=True)
    print(f"zoo of {len(manifest)} encoders in {out} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
