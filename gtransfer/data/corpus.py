"""The molecule pretraining corpus: MOSES and ZINC-250k subsets, featurised into on-disk shards.

``featurize_corpus`` cuts the SMILES list into fixed shards, featurises the missing shards in worker
processes (each worker writes its shard itself, atomically: temporary file then rename) and shows
a progress bar. A run that is interrupted (Ctrl-C, a killed job) resumes where it stopped: shards on
disk are complete by construction and are not redone. ``manifest.json`` records the corpus, the
featuriser and the shard size; resuming with different settings is refused.

Command line::

    gtransfer corpus moses-test --out shards/moses-test --workers 2 [--limit N]

STATS (molecules; ../shared/data/pretrain_corpus/PROVENANCE.md)

======================  =========  =============================================
Name                    SMILES     Source
======================  =========  =============================================
moses-train             1,584,663  MOSES (molsets 0.3.1) train.csv.gz
moses-test                176,074  MOSES test.csv.gz
moses-test-scaffolds      176,225  MOSES test_scaffolds.csv.gz
zinc250k-jtnn-valid        24,445  JT-VAE ZINC-250k valid.txt
zinc250k-jtnn-test          5,000  JT-VAE ZINC-250k test.txt
zinc250k-3small             9,329  ZINC-250k subset (Gomez-Bombarelli et al.)
======================  =========  =============================================
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Data
from tqdm.auto import tqdm

from gtransfer.io.atomic import atomic_write, write_json

from .errors import SkippedMoleculesWarning
from .parallel import _featurize_chunk, ignore_interrupt, mp_context
from .roots import data_roots, find_data_path

__all__ = ["CORPORA", "CorpusSpec", "ShardedCorpus", "featurize_corpus", "read_corpus_smiles"]

SHARD_FORMAT = 2


@dataclass(frozen=True)
class CorpusSpec:
    """One SMILES list: where it lives under a data root and how it is read."""

    name: str
    path: str
    smiles_column: str | None  # None: one SMILES per line, no header
    num_molecules: int
    source: str


MOSES = "MOSES benchmark data (molsets==0.3.1 wheel, moses/dataset/data/), https://github.com/molecularsets/moses"
JTNN = "https://github.com/wengong-jin/icml18-jtnn data/zinc/"
CORPORA: dict[str, CorpusSpec] = {
    spec.name: spec
    for spec in (
        CorpusSpec("moses-train", "pretrain_corpus/moses_zinc_clean_leads/train.csv.gz", "SMILES", 1_584_663, MOSES),
        CorpusSpec("moses-test", "pretrain_corpus/moses_zinc_clean_leads/test.csv.gz", "SMILES", 176_074, MOSES),
        CorpusSpec(
            "moses-test-scaffolds", "pretrain_corpus/moses_zinc_clean_leads/test_scaffolds.csv.gz", "SMILES", 176_225,
            MOSES,
        ),
        CorpusSpec("zinc250k-jtnn-valid", "pretrain_corpus/zinc250k_subsets/jtnn_zinc_valid.txt", None, 24_445, JTNN),
        CorpusSpec("zinc250k-jtnn-test", "pretrain_corpus/zinc250k_subsets/jtnn_zinc_test.txt", None, 5_000, JTNN),
        CorpusSpec(
            "zinc250k-3small", "pretrain_corpus/zinc250k_subsets/250k_rndm_zinc_drugs_clean_3small.csv", "smiles",
            9_329, "https://github.com/aspuru-guzik-group/chemical_vae (250k_rndm_zinc_drugs_clean_3.csv subset)",
        ),
    )
}


def read_corpus_smiles(name: str, *, root: str | os.PathLike | None = None, limit: int | None = None) -> list[str]:
    """The SMILES of a corpus (stripped of whitespace), optionally only the first ``limit``."""
    if name not in CORPORA:
        raise ValueError(f"unknown corpus {name!r}; available: {sorted(CORPORA)}")
    spec = CORPORA[name]
    path = find_data_path([spec.path], data_roots(root), what=f"corpus {name}", source=spec.source)
    if spec.smiles_column is None:
        frame = pd.read_csv(path, header=None, names=["smiles"], nrows=limit, dtype=str, skip_blank_lines=True)
        column = "smiles"
    else:
        frame = pd.read_csv(path, nrows=limit, dtype=str)
        column = spec.smiles_column
        if column not in frame.columns:
            raise ValueError(f"{path}: SMILES column {column!r} missing; columns are {list(frame.columns)}")
    return [s.strip() if isinstance(s, str) else "" for s in frame[column]]


def _shard_name(index: int) -> str:
    return f"shard_{index:05d}.pt"


def _pack_shard(graphs: list[dict | str], smiles: list[str], offset: int) -> dict:
    """Concatenate a shard's graphs into flat tensors (a few big arrays, not thousands of objects)."""
    kept = [(i, g) for i, g in enumerate(graphs) if isinstance(g, dict)]
    node_feat = np.concatenate([g["node_feat"] for _, g in kept]) if kept else np.zeros((0, 0), np.int64)
    edge_feat = np.concatenate([g["edge_feat"] for _, g in kept]) if kept else np.zeros((0, 0), np.int64)
    edge_index = np.concatenate([g["edge_index"] for _, g in kept], axis=1) if kept else np.zeros((2, 0), np.int64)
    return {
        "format": SHARD_FORMAT,
        "node_feat": torch.from_numpy(np.ascontiguousarray(node_feat, dtype=np.int64)),
        "edge_feat": torch.from_numpy(np.ascontiguousarray(edge_feat, dtype=np.int64)),
        "edge_index": torch.from_numpy(np.ascontiguousarray(edge_index, dtype=np.int64)),
        "num_nodes": torch.tensor([g["num_nodes"] for _, g in kept], dtype=torch.long),
        "num_edges": torch.tensor([g["edge_index"].shape[1] for _, g in kept], dtype=torch.long),
        "smiles": [smiles[i] for i, _ in kept],
        "skipped": [[offset + i, smiles[i], g] for i, g in enumerate(graphs) if not isinstance(g, dict)],
    }


def _build_shard(task: tuple[int, int, list[str], str, str]) -> tuple[int, int, int]:
    """Worker: featurise one shard and write it atomically. Returns (index, molecules, skipped)."""
    index, offset, smiles, featurizer, out_dir = task
    graphs = _featurize_chunk((featurizer, smiles))
    shard = _pack_shard(graphs, smiles, offset)
    target = Path(out_dir) / _shard_name(index)
    atomic_write(target, lambda handle: torch.save(shard, handle))
    return index, len(smiles), len(shard["skipped"])


def featurize_corpus(
    corpus: str | Sequence[str],
    out_dir: str | os.PathLike,
    *,
    featurizer: str = "ogb",
    num_workers: int = 1,
    shard_size: int = 10_000,
    limit: int | None = None,
    root: str | os.PathLike | None = None,
    progress: bool = True,
) -> dict:
    """Featurise a corpus into ``out_dir/shard_*.pt``, resuming any earlier partial run.

    Args:
        corpus: a name from :data:`CORPORA` or a list of SMILES.
        out_dir: the shard folder (created; may hold an earlier partial run of the same settings).
        featurizer: ``"ogb"`` or ``"hu2020"``.
        num_workers: worker processes; 1 featurises in this process.
        shard_size: molecules per shard (the unit of work and of resumption).
        limit: only the first ``limit`` molecules.
        root: data root (see :func:`gtransfer.data.roots.data_roots`).
        progress: tqdm progress bar over molecules.

    Returns:
        the manifest dict: settings, ``num_shards``, ``num_molecules``, ``num_skipped``,
        ``complete``, plus ``shards_built`` (shards made by this call) and ``seconds``.
    """
    if num_workers < 1 or shard_size < 1:
        raise ValueError(f"num_workers and shard_size must be >= 1, got {num_workers}, {shard_size}")
    if isinstance(corpus, str):
        name, smiles = corpus, read_corpus_smiles(corpus, root=root, limit=limit)
    else:
        name, smiles = "custom", [s.strip() for s in corpus][:limit]
    if not smiles:
        raise ValueError(f"corpus {name!r} is empty")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = {"format": SHARD_FORMAT, "corpus": name, "featurizer": featurizer, "shard_size": shard_size,
                "num_molecules": len(smiles), "num_shards": -(-len(smiles) // shard_size)}
    manifest_path = out_dir / "manifest.json"
    skipped_per_shard: dict[str, int] = {}
    if manifest_path.exists():
        previous = json.loads(manifest_path.read_text())
        clash = {k: (previous.get(k), v) for k, v in settings.items() if previous.get(k) != v}
        if clash:
            raise ValueError(f"{out_dir} holds shards made with other settings {clash} (old, new); use another out_dir")
        skipped_per_shard = dict(previous.get("skipped_per_shard", {}))
    for stale in out_dir.glob(".shard_*"):  # leftovers of a run killed while writing
        stale.unlink()
    todo = [i for i in range(settings["num_shards"]) if not (out_dir / _shard_name(i)).is_file()]
    for i in range(settings["num_shards"]):
        # a shard written just before a kill may lack its count in the manifest: read it back
        if i not in todo and str(i) not in skipped_per_shard:
            skipped_per_shard[str(i)] = len(torch.load(out_dir / _shard_name(i), weights_only=True)["skipped"])

    def record(index: int, skipped: int) -> None:
        skipped_per_shard[str(index)] = skipped
        write_json(manifest_path, {**settings, "complete": False, "skipped_per_shard": skipped_per_shard})

    write_json(manifest_path, {**settings, "complete": False, "skipped_per_shard": skipped_per_shard})
    tasks = [(i, i * shard_size, smiles[i * shard_size : (i + 1) * shard_size], featurizer, str(out_dir)) for i in todo]
    done_before = len(smiles) - sum(len(t[2]) for t in tasks)
    bar = tqdm(total=len(smiles), initial=done_before, desc=f"{name} ({featurizer})", unit="mol", disable=not progress)
    start = time.perf_counter()
    try:
        if num_workers == 1 or len(tasks) <= 1:
            for task in tasks:
                index, count, skipped = _build_shard(task)
                record(index, skipped)
                bar.update(count)
        else:
            with mp_context().Pool(min(num_workers, len(tasks)), initializer=ignore_interrupt) as pool:
                for index, count, skipped in pool.imap_unordered(_build_shard, tasks):
                    record(index, skipped)
                    bar.update(count)
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    skipped = sum(skipped_per_shard.values())
    manifest = {**settings, "complete": True, "num_skipped": skipped, "num_kept": len(smiles) - skipped,
                "skipped_per_shard": skipped_per_shard}
    write_json(manifest_path, manifest)
    if skipped:
        warnings.warn(f"corpus {name}: skipped {skipped} of {len(smiles)} molecules that could not be featurised "
                      f"(listed with the reason per shard under 'skipped')", SkippedMoleculesWarning, stacklevel=2)
    return {**manifest, "shards_built": len(tasks), "seconds": seconds}


class ShardedCorpus:
    """Read-only view of a featurised corpus: ``len``, iteration over ``Data`` graphs, one shard at a time."""

    def __init__(self, out_dir: str | os.PathLike) -> None:
        self.out_dir = Path(out_dir)
        manifest_path = self.out_dir / "manifest.json"
        if not manifest_path.is_file():
            raise FileNotFoundError(f"{manifest_path} missing: featurise the corpus first (featurize_corpus)")
        self.manifest = json.loads(manifest_path.read_text())
        if not self.manifest.get("complete"):
            raise ValueError(f"{self.out_dir} holds an unfinished run; rerun featurize_corpus to complete it")

    def __len__(self) -> int:
        return int(self.manifest["num_kept"])

    def shard(self, index: int) -> list[Data]:
        """The graphs of one shard, in corpus order."""
        packed = torch.load(self.out_dir / _shard_name(index), weights_only=True)
        node_end = packed["num_nodes"].cumsum(0).tolist()
        edge_end = packed["num_edges"].cumsum(0).tolist()
        graphs, node_start, edge_start = [], 0, 0
        for n_end, e_end, smiles in zip(node_end, edge_end, packed["smiles"]):
            graphs.append(
                Data(
                    x=packed["node_feat"][node_start:n_end],
                    edge_index=packed["edge_index"][:, edge_start:e_end],
                    edge_attr=packed["edge_feat"][edge_start:e_end],
                    num_nodes=n_end - node_start,
                    smiles=smiles,
                )
            )
            node_start, edge_start = n_end, e_end
        return graphs

    def __iter__(self) -> Iterator[Data]:
        for index in range(int(self.manifest["num_shards"])):
            yield from self.shard(index)
