"""Ranking source datasets or pretraining corpora for a target dataset by a label-free graph estimator.

``gtransfer rank-sources`` is its command line. The estimators (:mod:`gtransfer.metrics.graph_egi`,
:mod:`gtransfer.metrics.graph_graphon`) compare graph *structure* only: no labels, no node features, no
encoder; they say which data looks like the target's, not which model will transfer.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ESTIMATORS", "CORPUS_ALIASES", "SourceGraphs", "load_graph_sample", "rank_source_datasets"]

#: estimator name -> what it computes (the functions: :func:`rank_source_datasets`)
ESTIMATORS = {
    "egi": "EGI ego-graph gap, -Delta (Zhu et al. 2021)",
    "graphon": "EXPERIMENTAL W2PGNN-style graphon distance, -GW^2 (Cao et al. 2023)",
}
#: short corpus names: ``zinc`` is the largest ZINC-250k subset available offline, ``moses`` the MOSES training set
CORPUS_ALIASES = {"zinc": "zinc250k-jtnn-valid", "moses": "moses-train"}


@dataclass
class SourceGraphs:
    """A sample of a dataset's (or corpus's) graphs as ``(num_nodes, edge_index)`` arrays."""

    name: str
    graphs: list[tuple[int, np.ndarray]]
    available: int  # graphs (or SMILES) the dataset holds
    skipped: int = 0  # SMILES that could not be featurised, or graphs without nodes, left out
    self_loops: int = 0  # self-loops dropped (the estimators are defined on simple graphs)

    @property
    def nodes(self) -> int:
        return sum(n for n, _ in self.graphs)


def _sample(count: int, max_graphs: int | None, seed: int) -> np.ndarray:
    """Indices of the graphs used: all of them, or ``max_graphs`` drawn without replacement by
    ``numpy.random.default_rng(seed)``, sorted."""
    if max_graphs is None or max_graphs >= count:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size=max_graphs, replace=False))


def _structure(name: str, pairs: list[tuple[int, np.ndarray]], available: int, skipped: int) -> SourceGraphs:
    graphs, loops, empty = [], 0, 0
    for num_nodes, edges in pairs:
        if num_nodes == 0:
            empty += 1
            continue
        simple = edges[0] != edges[1]
        loops += int(edges.shape[1] - simple.sum())
        graphs.append((int(num_nodes), edges[:, simple]))
    if not graphs:
        raise ValueError(f"{name}: none of the {len(pairs)} sampled graphs has a node; nothing to compare")
    return SourceGraphs(name, graphs, available, skipped + empty, loops)


def load_graph_sample(
    name: str,
    *,
    max_graphs: int | None = 500,
    seed: int = 0,
    data_root: str | os.PathLike | None = None,
    progress: bool = False,
) -> SourceGraphs:
    """The structure of ``max_graphs`` graphs of a dataset or a pretraining corpus, drawn with ``seed``.

    Args:
        name: a dataset :func:`gtransfer.data.loading.load_dataset` reads (``ogbg-molbbbp``, ``MUTAG``,
            ``Cora``, ...) or a pretraining corpus of :data:`gtransfer.data.corpus.CORPORA` (``moses-test``,
            ``zinc250k-jtnn-valid``, ...; ``zinc`` and ``moses`` are short names, see ``CORPUS_ALIASES``).
            Every graph of the dataset is eligible (labels and splits are not read).
        max_graphs: graphs drawn without replacement by ``numpy.random.default_rng(seed)`` (None: all).
            A corpus is featurised only for the drawn SMILES (OGB featuriser); those RDKit rejects are
            left out and counted in ``skipped``.
        seed: the draw's seed. data_root: see :func:`gtransfer.data.roots.data_roots`.
        progress: show the featuriser's progress bar when a molecule dataset is processed the first time.
    """
    from gtransfer.data.corpus import CORPORA, read_corpus_smiles

    corpus = CORPUS_ALIASES.get(name.lower(), name.lower())
    if corpus in CORPORA:
        import warnings

        from gtransfer.data.featurizers import smiles_to_graphs

        smiles = read_corpus_smiles(corpus, root=data_root)
        chosen = [smiles[i] for i in _sample(len(smiles), max_graphs, seed)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the count of rejected SMILES is reported as `skipped`
            graphs, invalid = smiles_to_graphs(chosen, "ogb", on_invalid="skip")
        pairs = [(int(g.num_nodes), g.edge_index.numpy()) for g in graphs]
        return _structure(name, pairs, len(smiles), len(invalid))
    from gtransfer.data.loading import dataset_kind, load_dataset
    from gtransfer.data.roots import MissingDataError

    try:
        if dataset_kind(name) == "molecule":
            dataset = load_dataset(name, root=data_root, progress=progress)
        else:
            dataset = load_dataset(name, root=data_root)
    except MissingDataError as exc:
        names = ", ".join([*sorted(CORPORA), *(f"{alias} (= {full})" for alias, full in CORPUS_ALIASES.items())])
        raise MissingDataError(f"{exc}\nPretraining corpora (when their files are in the data root): {names}") from None
    pairs = []
    for index in _sample(len(dataset), max_graphs, seed).tolist():
        graph = dataset[index]
        pairs.append((int(graph.num_nodes), graph.edge_index.numpy()))
    return _structure(name, pairs, len(dataset), 0)


def rank_source_datasets(
    target: str,
    sources: list[str],
    *,
    estimator: str = "egi",
    max_graphs: int | None = 500,
    seed: int = 0,
    data_root: str | os.PathLike | None = None,
    num_pairs: int = 1000,
    resolution: int = 32,
    progress: bool = False,
) -> pd.DataFrame:
    """Rank source datasets (or pretraining corpora) for a target dataset by a label-free graph estimator.

    Each dataset contributes ``max_graphs`` graphs drawn by :func:`load_graph_sample` with ``seed`` (the
    same seed for every dataset); each source is scored against the target, higher is better:

    - ``egi``: :func:`gtransfer.metrics.graph_egi.egi_score`, -Delta over ``num_pairs`` node pairs drawn
      with ``seed`` (2-hop ego-graphs, fan-out 10);
    - ``graphon`` (experimental): :func:`gtransfer.metrics.graph_graphon.graphon_score`, -GW^2 between the
      collections' K x K graphons, K = ``resolution``.

    Returns:
        a DataFrame, best first, with columns ``rank``, ``source``, ``score``, ``std_error`` (EGI: the
        Monte-Carlo standard error of the pair draws, about 0.01 at 1000 pairs on molecules, as large as
        the gaps between molecule datasets: raise ``num_pairs`` for close calls; graphon: 0, it draws
        nothing beyond the graph sample), ``graphs`` (used),
        ``nodes``, ``available`` (graphs or SMILES the source holds), ``skipped`` (left out: SMILES
        RDKit rejects, graphs without nodes), ``self_loops`` (dropped), ``load_seconds`` (reading and
        sampling the source), ``seconds`` (scoring it);
        ``attrs`` holds the target's sample (``target``, ``target_graphs``, ``target_nodes``) and the
        settings.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    from gtransfer.metrics.graph_egi import ego_graph_gap_with_error
    from gtransfer.metrics.graph_graphon import graphon_score

    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; choose from {sorted(ESTIMATORS)}")
    if not sources:
        raise ValueError("no source dataset given; name at least one (a dataset or a pretraining corpus)")
    duplicates = sorted({s for s in sources if sources.count(s) > 1})
    if duplicates:
        raise ValueError(f"sources named more than once: {duplicates}; name each source once")
    if max_graphs is not None and max_graphs < 1:
        raise ValueError(f"max_graphs must be at least 1 (or None for every graph), got {max_graphs}")
    bar = tqdm(total=2 * len(sources) + 1, desc=f"rank-sources for {target}", unit="step", disable=not progress,
               dynamic_ncols=True)
    bar.set_postfix_str(f"load {target}")
    loaded = time.perf_counter()
    target_sample = load_graph_sample(target, max_graphs=max_graphs, seed=seed, data_root=data_root, progress=progress)
    target_load_seconds = time.perf_counter() - loaded
    bar.update(1)
    rows = []
    for source in sources:
        bar.set_postfix_str(f"load {source}")
        loaded = time.perf_counter()
        sample = load_graph_sample(source, max_graphs=max_graphs, seed=seed, data_root=data_root, progress=progress)
        bar.update(1)
        bar.set_postfix_str(f"score {source}")
        start = time.perf_counter()
        if estimator == "egi":
            gap, error = ego_graph_gap_with_error(sample.graphs, target_sample.graphs, num_pairs=num_pairs, seed=seed)
            score = 0.0 - gap
        else:
            score, error = graphon_score(sample.graphs, target_sample.graphs, resolution=resolution), 0.0
        rows.append(
            {
                "source": source,
                "score": score,
                "std_error": error,
                "graphs": len(sample.graphs),
                "nodes": sample.nodes,
                "available": sample.available,
                "skipped": sample.skipped,
                "self_loops": sample.self_loops,
                "load_seconds": start - loaded,
                "seconds": time.perf_counter() - start,
            }
        )
        bar.update(1)
    bar.close()
    table = pd.DataFrame(rows).sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table.attrs.update({"target": target, "estimator": estimator, "description": ESTIMATORS[estimator],
                        "target_graphs": len(target_sample.graphs), "target_nodes": target_sample.nodes,
                        "target_skipped": target_sample.skipped, "target_self_loops": target_sample.self_loops,
                        "target_load_seconds": target_load_seconds,
                        "max_graphs": max_graphs, "seed": seed,
                        **({"num_pairs": num_pairs} if estimator == "egi" else {"resolution": resolution})})
    return table
