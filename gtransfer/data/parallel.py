"""Featurise many SMILES, in worker processes when asked, in input order, counting the invalid ones.

Work is sent to workers in chunks (not one molecule at a time) so that inter-process traffic stays
small next to RDKit's cost; results come back in input order whatever the number of workers, so the
output does not depend on ``num_workers``.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Sequence

from tqdm.auto import tqdm

from .featurizers import InvalidSmilesError, get_featurizer

__all__ = ["UNPARSABLE", "featurize_smiles", "ignore_interrupt", "mp_context"]


def ignore_interrupt() -> None:
    """Pool initializer: workers ignore Ctrl-C; the parent handles it and terminates them (no worker tracebacks)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def mp_context() -> multiprocessing.context.BaseContext:
    """Process start method: ``fork`` where available (cheap start, workers inherit the imports).

    ``GTRANSFER_MP_START`` overrides it (``spawn``, ``forkserver``).
    """
    method = os.environ.get("GTRANSFER_MP_START")
    if method is None:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


UNPARSABLE = "RDKit cannot parse the SMILES"


def _featurize_chunk(args: tuple[str, list[str]]) -> list[dict | str]:
    featurizer_name, chunk = args
    featurize = get_featurizer(featurizer_name)
    graphs: list[dict | str] = []
    for smiles in chunk:
        try:
            graphs.append(featurize(smiles))
        except InvalidSmilesError:
            graphs.append(UNPARSABLE)
        except ValueError as error:  # e.g. a bond type outside the hu2020 vocabulary
            message = str(error)
            graphs.append(message.split(": ", 1)[-1] if message.startswith("SMILES") else message)
    return graphs


def featurize_smiles(
    smiles: Sequence[str],
    *,
    featurizer: str = "ogb",
    num_workers: int = 1,
    chunk_size: int = 500,
    progress: bool = True,
    desc: str = "featurising",
) -> list[dict | str]:
    """Featurise ``smiles`` with the named featuriser; a string marks a molecule that failed, and why.

    Args:
        smiles: the molecules, in order.
        featurizer: ``"ogb"`` or ``"hu2020"`` (see :mod:`gtransfer.data.featurizers`).
        num_workers: worker processes; 1 runs in this process.
        chunk_size: molecules per task sent to a worker.
        progress: show a tqdm progress bar.
        desc: the progress bar's label.

    Returns:
        one graph dict per input SMILES, in input order, or the reason it failed: :data:`UNPARSABLE`
        when RDKit cannot parse it, the featuriser's message when the molecule is outside its
        vocabulary (a dative bond for ``hu2020``). Callers count the failures and report them.
    """
    get_featurizer(featurizer)  # fail fast on an unknown name, before starting workers
    if num_workers < 1:
        raise ValueError(f"num_workers must be >= 1, got {num_workers}")
    smiles = list(smiles)
    chunks = [(featurizer, smiles[i : i + chunk_size]) for i in range(0, len(smiles), chunk_size)]
    bar = tqdm(total=len(smiles), desc=desc, unit="mol", disable=not progress)
    results: list[dict | str] = []
    try:
        if num_workers == 1 or len(chunks) <= 1:
            for chunk in chunks:
                results.extend(_featurize_chunk(chunk))
                bar.update(len(chunk[1]))
        else:
            with mp_context().Pool(num_workers, initializer=ignore_interrupt) as pool:
                for graphs in pool.imap(_featurize_chunk, chunks):
                    results.extend(graphs)
                    bar.update(len(graphs))
    finally:
        bar.close()
    return results
