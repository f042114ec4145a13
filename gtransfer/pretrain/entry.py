"""The one way to pretrain an encoder: on a molecule corpus or on a dataset, resumably.

``gtransfer pretrain``, the experiments' zoo builders and the source-selection study all call
:func:`pretrain_encoder`; it builds the encoder from an architecture and a seed, reads the data
(a corpus's SMILES featurised here, graphs already featurised by the caller, or any
:func:`gtransfer.data.load_dataset` name) and hands them to the resumable runner
(:func:`gtransfer.pretrain.runner.pretrain`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["pretrain_encoder"]


def pretrain_encoder(
    out: str | os.PathLike,
    strategy: str,
    *,
    arch: str = "gin",
    corpus: str | None = None,
    dataset: str | None = None,
    graphs: Sequence | None = None,
    limit: int | None = None,
    featurizer: str = "hu2020",
    num_layers: int = 5,
    hidden_dim: int = 300,
    dropout: float | None = None,
    epochs: int = 10,
    batch_size: int = 256,
    lr: float = 1e-3,
    seed: int = 0,
    strategy_options: dict[str, Any] | None = None,
    root: str | os.PathLike | None = None,
    device: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Pretrain one encoder with ``strategy`` and write it to ``out`` (resumed if ``out`` exists).

    Args:
        out: checkpoint path (written after every epoch; an interrupted run resumes from it).
        strategy: a name of :data:`gtransfer.pretrain.STRATEGIES` (``supervised`` needs ``dataset``).
        arch, num_layers, hidden_dim, dropout: the encoder (``dropout`` None keeps the encoder default).
        corpus: a pretraining corpus name (:data:`gtransfer.data.corpus.CORPORA`); its first ``limit``
            SMILES are featurised with ``featurizer`` unless ``graphs`` holds them featurised already.
        dataset: instead of a corpus, any :func:`gtransfer.data.load_dataset` name.
        seed: seeds the encoder's initialisation and the runner.

    Returns:
        the checkpoint metadata (``history``: mean loss per epoch).

    Raises:
        ValueError: neither or both of ``corpus`` and ``dataset``; ``supervised`` without a labelled
            dataset; non-positive sizes; an unknown strategy or architecture.
    """
    import torch

    from gtransfer.models import build_encoder
    from gtransfer.pretrain.registry import STRATEGIES
    from gtransfer.pretrain.runner import pretrain

    if (corpus is None) == (dataset is None):
        raise ValueError(
            "pretrain_encoder needs exactly one of corpus= (a molecule corpus) and dataset= (a dataset name)"
        )
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown pretraining strategy {strategy!r}; choose one of {sorted(STRATEGIES)}")
    if epochs < 1 or (limit is not None and limit < 1):
        raise ValueError(f"epochs and limit must be positive, got epochs={epochs}, limit={limit}")
    options = dict(strategy_options or {})
    if corpus is not None:
        if strategy == "supervised":
            raise ValueError("the supervised strategy needs labels: pass dataset= (e.g. ogbg-moltoxcast), not a corpus")
        if graphs is None:
            from gtransfer.data.corpus import read_corpus_smiles
            from gtransfer.data.featurizers import smiles_to_graphs

            graphs, _ = smiles_to_graphs(
                read_corpus_smiles(corpus, root=root, limit=limit), featurizer, on_invalid="skip"
            )
        name = f"{corpus}[:{limit}]" if limit else corpus
        node_features: str | int = featurizer
    else:
        from gtransfer.data import load_dataset

        graphs = graphs if graphs is not None else load_dataset(dataset, root=root, featurizer=featurizer)
        name = dataset
        node_features = featurizer if graphs[0].x.dtype == torch.long else int(graphs[0].x.size(1))
        if strategy == "supervised":
            if not hasattr(graphs, "num_tasks"):
                raise ValueError(
                    f"the supervised strategy needs a labelled molecule dataset (e.g. ogbg-moltoxcast); {dataset} has "
                    "no tasks"
                )
            options.setdefault("num_tasks", int(graphs.num_tasks))
    config: dict[str, Any] = {
        "arch": arch,
        "num_layers": num_layers,
        "hidden_dim": hidden_dim,
        "node_features": node_features,
    }
    if dropout is not None:
        config["dropout"] = dropout
    torch.manual_seed(seed)
    encoder = build_encoder(config)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    return pretrain(encoder, strategy, graphs, out, epochs=epochs, corpus=name, batch_size=batch_size, lr=lr,
                    seed=seed, strategy_options=options, device=device, progress=progress)
