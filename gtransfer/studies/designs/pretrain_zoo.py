"""A zoo of molecule encoders pretrained here: architectures x strategies x corpora x seeds, per preset.

``small``: 2 architectures x 4 strategies x 2 corpora (1,500 molecules each), CPU, minutes; ``full``:
4 architectures x 4 strategies x 2 whole corpora x 2 seeds, plus supervised multi-task pretraining on
ToxCast's 617 tasks; GPU. Every encoder is a gtransfer checkpoint (``<out>/<arch>_<strategy>_<corpus>_s<seed>.pt``)
whose metadata records architecture, featuriser, strategy, corpus, epochs, seed and code version;
``<out>/manifest.json`` lists them. Corpora are featurised once into resumable shards
(:func:`gtransfer.data.corpus.featurize_corpus`). Building again after an interruption resumes the
unfinished encoder from its last epoch and skips the finished ones. Front end: ``experiments/build_zoo.py``.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

from gtransfer.data.corpus import ShardedCorpus, featurize_corpus
from gtransfer.io.atomic import write_json
from gtransfer.pretrain import pretrain_encoder

__all__ = ["PRESETS", "zoo_jobs", "build_pretrain_zoo"]

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


def zoo_jobs(preset: str) -> list[tuple[str, int | None, str, str, int]]:
    """The preset's encoders in build order: (corpus or dataset, molecule limit, arch, strategy, seed)."""
    config = PRESETS[preset]
    jobs = [(corpus, limit, arch, strategy, seed) for (corpus, limit), arch, strategy, seed in itertools.product(
        config["corpora"].items(), config["archs"], config["strategies"], config["seeds"])]
    if config["supervised"]:
        jobs += [(config["supervised"], None, arch, "supervised", seed)
                 for arch, seed in itertools.product(config["archs"], config["seeds"])]
    return jobs


def _corpus_graphs(name: str, limit: int | None, out: Path, data_root: str | None, workers: int) -> list:
    shards = out / "corpora" / f"{name}_{limit or 'all'}_hu2020"
    featurize_corpus(name, shards, featurizer="hu2020", num_workers=workers, limit=limit, root=data_root,
                     progress=True)
    return list(ShardedCorpus(shards))


def build_pretrain_zoo(preset: str, out: Path, *, data_root: str | None = None, workers: int = 1,
                       device: str | None = None) -> list[dict]:
    """Pretrain every encoder of ``preset`` into ``out`` (resumed), rewriting ``out/manifest.json`` after each
    and printing its entry; the manifest."""
    config = PRESETS[preset]
    out.mkdir(parents=True, exist_ok=True)
    manifest: list[dict] = []
    start = time.perf_counter()
    jobs = zoo_jobs(preset)
    loaded: dict[str, list] = {}
    for k, (corpus, limit, arch, strategy, seed) in enumerate(jobs, 1):
        if corpus not in loaded:
            if strategy == "supervised":
                from gtransfer.data import load_dataset

                loaded[corpus] = load_dataset(corpus, root=data_root, featurizer="hu2020")
            else:
                loaded[corpus] = _corpus_graphs(corpus, limit, out, data_root, workers)
        graphs = loaded[corpus]
        path = out / f"{arch}_{strategy}_{corpus}_s{seed}.pt"
        tic = time.perf_counter()
        source = {"dataset": corpus} if strategy == "supervised" else {"corpus": corpus, "limit": limit}
        meta = pretrain_encoder(path, strategy, arch=arch, graphs=graphs, featurizer="hu2020",
                                num_layers=config["num_layers"], hidden_dim=config["hidden_dim"], dropout=0.0,
                                epochs=config["epochs"], batch_size=config["batch_size"], lr=config["lr"], seed=seed,
                                root=data_root, device=device, progress=True, **source)
        entry = {"path": path.name, "arch": arch, "strategy": strategy, "corpus": meta["corpus"], "seed": seed,
                 "epochs": meta["epochs_done"], "final_loss": meta["history"][-1],
                 "seconds": time.perf_counter() - tic}
        manifest.append(entry)
        write_json(out / "manifest.json", manifest)
        print(f"[{k}/{len(jobs)}] {json.dumps(entry)}", flush=True)
    print(f"zoo of {len(manifest)} encoders in {out} ({time.perf_counter() - start:.0f} s)")
    return manifest
