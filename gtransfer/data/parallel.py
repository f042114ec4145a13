"""Featurise many SMILES, in worker processes when asked, in input order, counting the invalid ones.

Work is sent to workers in chunks (not one molecule at a time) so that inter-process traffic stays
small next to RDKit's cost; results come back in input order whatever the number of workers, so the
output does not depend on ``num_workers``.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Sequence

from tqdm.auto import tqdm

from .featurizers import InvalidSmilesError, get_featurizer

__all__ = ["featurize_smiles", "mp_context"]


def mp_context() -> multiprocessing.context.BaseContext:
    """Process start method: ``fork`` where available (cheap start, workers inherit the imports).

    ``GTRANSFER_MP_START`` overrides it (``spawn``, ``forkserver``).
    """
    method = os.environ.get("GTRANSFER_MP_START")
    if method is None:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def _featurize_chunk(args: tuple[str, list[str]]) -> list[dict | None]:
    featurizer_name, chunk = args
    featurize = get_featurizer(featurizer_name)
    graphs: list[dict | None] = []
    for smiles in chunk:
        try:
            graphs.append(featurize(smiles))
        except InvalidSmilesError:
            graphs.append(None)
    return graphs


def featurize_smiles(
    smiles: Sequence[str],
    featurizer: str = "ogb",
    num_workers: int = 1,
    chunk_size: int = 500,
    progress: bool = True,
    desc: str = "featurising",
) -> list[dict | None]:
    """Featurise ``smiles`` with the named featuriser; ``None`` marks a SMILES RDKit cannot parse.

    Args:
        smiles: the molecules, in order.
        featurizer: ``"ogb"`` or ``"hu2020"`` (see :mod:`gtransfer.data.featurizers`).
        num_workers: worker processes; 1 runs in this process.
        chunk_size: molecules per task sent to a worker.
        progress: show a tqdm progress bar.
        desc: the progress bar's label.

    Returns:
        one graph dict (or ``None``) per input SMILES, in input order. Callers count the ``None``s
        and report them; other featuriser errors (a bond type outside a vocabulary) propagate.
    """
    get_featurizer(featurizer)  # fail fast on an unknown name, before starting workers
    if num_workers < 1:
        raise ValueError(f"num_workers must be >= 1, got {num_workers}")
    smiles = list(smiles)
    chunks = [(featurizer, smiles[i : i + chunk_size]) for i in range(0, len(smiles), chunk_size)]
    bar = tqdm(total=len(smiles), desc=desc, unit="mol", disable=not progress)
    results: list[dict | None] = []
    try:
        if num_workers == 1 or len(chunks) <= 1:
            for chunk in chunks:
                results.extend(_featurize_chunk(chunk))
                bar.update(len(chunk[1]))
        else:
            with mp_context().Pool(num_workers) as pool:
                for graphs in pool.imap(_featurize_chunk, chunks):
                    results.extend(graphs)
                    bar.update(len(graphs))
    finally:
        bar.close()
    return results
