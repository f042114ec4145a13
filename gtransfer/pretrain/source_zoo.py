"""The graph source zoo: encoders trained on a labelled source task, kept with their heads.

NCE and LEEP score a source model by its head's predictions on the target's inputs
(:mod:`gtransfer.models.source_heads`). A member of this zoo is a small GNN trained, with a linear
head, by :func:`gtransfer.training.finetune.finetune` (the loop every fine-tuning uses) on one source
task, and written as an ordinary gtransfer encoder checkpoint -- usable wherever an encoder file is
(``gtransfer rank``, sweeps, fine-tuning) -- whose state dict and metadata also hold the head, in the
one source-head format of both zoos (:func:`gtransfer.models.source_heads.source_head_entries`):

* a **multi-class graph task**: a TU dataset, or a class subset of one, named in the target grammar
  (``ENZYMES``, ``ENZYMES:k=3,ratio=1,seed=0``): a softmax head over its classes, stratified split;
* a **molecule task**: a MoleculeNet dataset with every one of its binary tasks (``ogbg-moltox21``:
  12 tasks, missing labels masked; ``ogbg-molhiv``: 1), ``hu2020`` features, scaffold split: a
  sigmoid head per task.

``max_graphs`` keeps training to a seeded subsample (every split shrunk alike), so a member trains
in seconds to a minute on a laptop CPU. A checkpoint whose metadata already records the same spec is
kept (the zoo is its own cache), so a killed build resumes where it stopped.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["SOURCE_ZOO_FORMAT", "GraphSourceSpec", "SMALL_SOURCE_ZOO", "train_graph_source", "build_graph_source_zoo"]

SOURCE_ZOO_FORMAT = "gtransfer-graph-source/1"


@dataclass(frozen=True)
class GraphSourceSpec:
    """One member of the graph source zoo.

    Args:
        name: file stem (``<zoo>/<name>.pt``).
        task: a TU target string (multi-class: ``ENZYMES``, ``PROTEINS:k=2,ratio=1,seed=0``) or a
            molecule dataset name (every binary task of it: ``ogbg-moltox21``, ``ogbg-molhiv``).
        arch, layers, dim: the encoder (GIN, GCN, GraphSAGE or GAT).
        epochs, lr, batch_size, patience: training (early stopping on the validation metric).
        max_graphs: train on a seeded subsample of at most this many graphs (None: all).
        seed: initialisation, subsample and batch order.
        featurizer: molecule features (the published encoders' ``hu2020`` by default).
    """

    name: str
    task: str
    arch: str = "gin"
    layers: int = 3
    dim: int = 64
    epochs: int = 20
    lr: float = 1e-3
    batch_size: int = 64
    patience: int = 10
    max_graphs: int | None = 2000
    seed: int = 0
    featurizer: str = "hu2020"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: a zoo that trains on two CPU cores in a few minutes: multi-class TU tasks and molecule tasks
SMALL_SOURCE_ZOO: tuple[GraphSourceSpec, ...] = (
    # ENZYMES (6 classes, 600 graphs): all classes or a 3-class subset, four architectures
    GraphSourceSpec("enzymes-gin", "ENZYMES", epochs=60, lr=5e-3, patience=20),
    GraphSourceSpec("enzymes-gcn", "ENZYMES", arch="gcn", epochs=60, lr=5e-3, patience=20),
    GraphSourceSpec("enzymes-graphsage", "ENZYMES", arch="graphsage", epochs=60, lr=5e-3, patience=20),
    GraphSourceSpec("enzymes-k3-gin", "ENZYMES:k=3,ratio=1,seed=0", epochs=60, lr=5e-3, patience=20),
    GraphSourceSpec("enzymes-k3-gcn", "ENZYMES:k=3,ratio=1,seed=0", arch="gcn", epochs=60, lr=5e-3, patience=20),
    # other multi-class TU tasks
    GraphSourceSpec("proteins-gin", "PROTEINS"),
    GraphSourceSpec("nci1-gin", "NCI1"),
    GraphSourceSpec("imdb-multi-gin", "IMDB-MULTI"),
    # molecule tasks (hu2020 features): 12, 1, 1 and 2 binary tasks
    GraphSourceSpec("tox21-gin", "ogbg-moltox21"),
    GraphSourceSpec("tox21-gcn", "ogbg-moltox21", arch="gcn"),
    GraphSourceSpec("hiv-gin", "ogbg-molhiv"),
    GraphSourceSpec("bbbp-gin", "ogbg-molbbbp"),
    GraphSourceSpec("clintox-gin", "ogbg-molclintox", max_graphs=None),
)


def _subsample(splits: dict[str, np.ndarray], max_graphs: int | None, seed: int) -> dict[str, np.ndarray]:
    """Every split shrunk by the same fraction (seeded), so that at most ``max_graphs`` remain."""
    total = sum(len(v) for v in splits.values())
    if max_graphs is None or total <= max_graphs:
        return splits
    rng = np.random.default_rng(seed)
    fraction = max_graphs / total
    return {k: np.sort(rng.choice(v, size=max(1, int(fraction * len(v))), replace=False)) for k, v in splits.items()}


def _source_data(spec: GraphSourceSpec, root: str | os.PathLike | None) -> tuple[dict[str, list], dict[str, Any], Any]:
    """``(graphs per split with y set, head section of the metadata, TaskSpec)`` of the source task."""
    import torch

    from gtransfer.data import load_dataset
    from gtransfer.data.loading import dataset_kind
    from gtransfer.data.targets import load_target, parse_target
    from gtransfer.training.finetune import TaskSpec

    dataset_name = parse_target(spec.task)[0]
    if dataset_kind(dataset_name) == "molecule":
        if spec.task != dataset_name:
            raise ValueError(
                f"source task {spec.task!r}: a molecule source trains on every task of its dataset; write "
                f"{dataset_name!r}"
            )
        dataset = load_dataset(dataset_name, root=root, featurizer=spec.featurizer, progress=False)
        if getattr(dataset, "task_type", "binary classification") != "binary classification":
            raise ValueError(
                f"source task {spec.task!r}: {dataset_name} is a {dataset.task_type} dataset; a source head "
                "needs classes (binary tasks or a multi-class TU dataset)"
            )
        splits = _subsample({k: v.numpy() for k, v in dataset.get_idx_split().items()}, spec.max_graphs, spec.seed)
        graphs = {k: [dataset[int(i)] for i in v] for k, v in splits.items()}
        head = {"kind": "multilabel", "labels": list(dataset.task_names), "task": spec.task,
                "input": {"kind": "molecule", "featurizer": spec.featurizer}}
        return graphs, head, TaskSpec("multilabel", int(dataset.num_tasks))
    target = load_target(spec.task, root=root, seed=spec.seed)
    if target.level != "graph":
        raise ValueError(f"source task {spec.task!r} is node-level; the source zoo trains graph classifiers")
    splits = _subsample(target.splits, spec.max_graphs, spec.seed)
    graphs = {}
    for split, positions in splits.items():
        graphs[split] = []
        for position in positions:
            data = target.dataset[int(target.indices[position])].clone()
            data.y = torch.tensor([int(target.labels[position])])
            graphs[split].append(data)
    classes = int(target.labels.max()) + 1
    head = {"kind": "multiclass", "labels": [f"class {c}" for c in range(classes)], "task": spec.task,
            "input": {"kind": "float", "dataset": dataset_name, "node_features": int(target.dataset.num_features)}}
    return graphs, head, TaskSpec("multiclass", classes)


def _is_built(path: Path, spec: GraphSourceSpec) -> bool:
    from gtransfer.io.checkpoints import load_checkpoint

    if not path.is_file():
        return False
    try:
        _, metadata = load_checkpoint(path)
    except ValueError:
        return False
    zoo = metadata.get("source_zoo", {})
    return zoo.get("format") == SOURCE_ZOO_FORMAT and zoo.get("spec") == spec.to_dict()


def train_graph_source(spec: GraphSourceSpec, zoo_dir: str | os.PathLike, *, root: str | os.PathLike | None = None,
                       device: str = "cpu") -> Path:
    """Train one source model and write ``<zoo_dir>/<spec.name>.pt`` atomically; kept when already built.

    Returns:
        the checkpoint path (an encoder file with a ``source_head``; see the module docstring).
    """
    import torch
    from torch_geometric.loader import DataLoader

    from gtransfer.io.checkpoints import save_checkpoint
    from gtransfer.io.provenance import code_version
    from gtransfer.models.encoder import build_encoder
    from gtransfer.models.source_heads import source_head_entries
    from gtransfer.training.finetune import finetune

    path = Path(zoo_dir) / f"{spec.name}.pt"
    if _is_built(path, spec):
        return path
    graphs, head_section, task = _source_data(spec, root)
    molecule = head_section["input"]["kind"] == "molecule"
    node_features = spec.featurizer if molecule else head_section["input"]["node_features"]
    torch.manual_seed(spec.seed)
    encoder = build_encoder({"arch": spec.arch, "num_layers": spec.layers, "hidden_dim": spec.dim,
                             "node_features": node_features, "edge_features": spec.featurizer if molecule else None})
    generator = torch.Generator().manual_seed(spec.seed)
    started = time.perf_counter()
    result = finetune(
        encoder,
        DataLoader(graphs["train"], batch_size=spec.batch_size, shuffle=True, generator=generator),
        DataLoader(graphs["valid"], batch_size=256), DataLoader(graphs["test"], batch_size=256),
        task=task, mode="full", epochs=spec.epochs, lr=spec.lr, patience=spec.patience, seed=spec.seed,
        device=device, return_model=True,
    )
    trained, head = result.model.encoder.cpu().eval(), result.model.head.cpu().eval()
    head_state, head_section = source_head_entries(head.weight, head.bias, **head_section)
    state = {**trained.state_dict(), **head_state}
    metadata = {
        "architecture": trained.config,
        "featurizer": trained.featurizer,
        "strategy": "source-task",
        "source_head": head_section,
        "source_zoo": {
            "format": SOURCE_ZOO_FORMAT,
            "spec": spec.to_dict(),
            "graphs": {k: len(v) for k, v in graphs.items()},
            "metric": result.metric,
            "valid_metric": result.valid_metric,
            "test_metric": result.test_metric,
            "finetune": result.to_dict(),
            "train_seconds": time.perf_counter() - started,
        },
        "code_version": code_version(),
    }
    return save_checkpoint(path, state, metadata)


def build_graph_source_zoo(
    zoo_dir: str | os.PathLike,
    specs: tuple[GraphSourceSpec, ...],
    *,
    root: str | os.PathLike | None = None,
    device: str = "cpu",
    progress: bool = True,
) -> list[Path]:
    """Train (or keep) every member of ``specs`` under ``zoo_dir``; their checkpoint paths, in order."""
    from tqdm.auto import tqdm

    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"source zoo member names must be unique, got {names}")
    return [
        train_graph_source(spec, zoo_dir, root=root, device=device)
        for spec in tqdm(specs, desc="graph source zoo", disable=not progress)
    ]
