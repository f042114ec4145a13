"""Node classification in the one-model loop: the reference the packed engine's ``level="node"`` is checked against.

This was ``gtransfer.training.node_tasks``. Nothing in the package fine-tunes a node-level target through
the one-model loop (``graph_finetune`` refuses node-level targets and points to ``graph_probe``, and the
packed engine trains node level itself), so the adapter lives here, with the one test that needs it.

A transductive split is one graph with three node masks. :func:`node_split_loaders` turns it into
three one-graph "loaders" whose graph carries ``target_mask`` (the split's nodes);
:class:`NodeLevelEncoder` makes ``embed`` return the embeddings of those nodes, and
:func:`node_batch_to` returns their labels, so ``finetune(NodeLevelEncoder(enc), *node_split_loaders(data),
task=TaskSpec("multiclass", C), batch_to=node_batch_to)`` trains and evaluates node classification.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from torch_geometric.data import Data

__all__ = ["NodeLevelEncoder", "node_split_loaders", "node_batch_to"]


class NodeLevelEncoder(nn.Module):
    """``embed(data)`` = node embeddings of ``data.target_mask`` (optionally of one ``layer``)."""

    def __init__(self, encoder: nn.Module, layer: int | None = None) -> None:
        super().__init__()
        self.encoder, self.layer = encoder, layer
        self.embedding_dim = encoder.hidden_dim if layer is not None else encoder.embedding_dim

    def embed(self, data: Data) -> Tensor:
        return self.encoder.embed(data, level="node", layer=self.layer)[data.target_mask]


def node_split_loaders(data: Data, masks: tuple[str, str, str] = ("train_mask", "val_mask", "test_mask")) -> list[list]:
    """Three single-graph loaders (train, valid, test), each graph with ``target_mask`` set."""
    loaders = []
    for name in masks:
        mask = getattr(data, name, None)
        if mask is None or mask.dtype != torch.bool or mask.numel() != data.num_nodes:
            raise ValueError(f"the graph needs a boolean node mask {name!r} of length {data.num_nodes}")
        if not mask.any():
            raise ValueError(f"node mask {name!r} selects no node")
        view = data.clone()
        view.target_mask = mask
        loaders.append([view])
    return loaders


def node_batch_to(data: Data, device: torch.device | str) -> tuple[Data, Tensor]:
    """One masked graph -> (graph on ``device``, labels of its ``target_mask`` nodes)."""
    data = data.to(device)
    return data, data.y[data.target_mask]
