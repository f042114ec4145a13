r"""Context prediction (Hu et al. 2020, ICLR, "Strategies for Pre-training Graph Neural Networks", Sec. 3.1.1).

For every graph a centre node :math:`v` is drawn uniformly. With :math:`d(u)` the hop distance from
:math:`v`:

* the **K-hop substructure** is the subgraph induced by :math:`d(u) \le K` (K = the encoder's layers by
  default); the main encoder runs on it and its node embedding of :math:`v`, :math:`h_v`, represents it;
* the **context graph** is the ring induced by :math:`r_1 < d(u) \le r_2` (defaults :math:`r_1 = K - 1`,
  :math:`r_2 = r_1 + 3`, as the authors' code); a separate *context GNN* (same architecture,
  :math:`r_2 - r_1` layers) embeds its nodes;
* the **context anchor nodes** are the nodes shared by both, :math:`r_1 < d(u) \le K`; the context
  embedding :math:`c_v` is the mean of the context GNN's embeddings of the anchors.

Positives pair :math:`h_v` with its own :math:`c_v`; each of ``negative_samples`` negatives pairs it with
the context of another graph of the batch (the batch shifted by 1, 2, ...). With :math:`\sigma` the
logistic function the loss is binary cross-entropy on the inner product,

.. math::
    \mathcal{L} = -\overline{\log\sigma(h_v^\top c_v)}
                  - k\,\overline{\log(1 - \sigma(h_v^\top c_{v'}))},

:math:`k` = ``negative_samples`` (the authors' weighting). Graphs whose context has no anchor (small
molecules, whose every node lies within :math:`r_1` hops of the centre) are left out of the batch's
loss; :attr:`ContextPrediction.skipped` counts them and :attr:`ContextPrediction.used` the graphs used
(a batch with fewer than two usable graphs contributes a zero loss, its graphs counted as skipped).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.nn import global_mean_pool
from torch_geometric.utils import subgraph

from gtransfer.models.encoder import GNNEncoder, build_encoder
from gtransfer.pretrain.base import PretrainStrategy

if TYPE_CHECKING:
    from torch_geometric.data import Batch

__all__ = ["ContextPrediction", "hop_distances", "sample_centres"]

#: distance of a node that no path reaches from its graph's centre
UNREACHED = torch.iinfo(torch.long).max


def sample_centres(batch: Batch) -> Tensor:
    """One node per graph of ``batch``, uniformly at random (global node ids, (B,))."""
    index = batch.batch
    counts = torch.bincount(index, minlength=batch.num_graphs)
    if (counts == 0).any():
        raise ValueError("ContextPrediction: a graph of the batch has no node")
    starts = torch.cumsum(counts, 0) - counts
    return starts + (torch.rand(batch.num_graphs, device=index.device) * counts).long().clamp_max(counts - 1)


def hop_distances(edge_index: Tensor, num_nodes: int, sources: Tensor, max_hops: int) -> Tensor:
    """Hop distance of every node from the nearest of ``sources`` (breadth-first, over ``edge_index``
    as directed edges), :data:`UNREACHED` beyond ``max_hops``. (num_nodes,) long."""
    dist = torch.full((num_nodes,), UNREACHED, dtype=torch.long, device=edge_index.device)
    dist[sources] = 0
    frontier = torch.zeros(num_nodes, dtype=torch.bool, device=edge_index.device)
    frontier[sources] = True
    src, dst = edge_index
    for hop in range(1, max_hops + 1):
        reached = torch.zeros_like(frontier)
        reached[dst[frontier[src]]] = True
        frontier = reached & (dist == UNREACHED)
        if not frontier.any():
            break
        dist[frontier] = hop
    return dist


def _induced(batch: Batch, keep: Tensor) -> tuple[Data, Tensor]:
    """The subgraph of ``batch`` induced by the nodes in ``keep`` (relabelled), and old -> new ids."""
    edge_attr = getattr(batch, "edge_attr", None)
    edge_index, edge_attr = subgraph(keep, batch.edge_index, edge_attr, relabel_nodes=True, num_nodes=batch.num_nodes)
    new_id = torch.full((batch.num_nodes,), -1, dtype=torch.long, device=keep.device)
    new_id[keep] = torch.arange(int(keep.sum()), device=keep.device)
    part = Data(x=batch.x[keep], edge_index=edge_index, batch=batch.batch[keep])
    if edge_attr is not None:
        part.edge_attr = edge_attr
    return part, new_id


class ContextPrediction(PretrainStrategy):
    """Context prediction around ``encoder`` (see the module docstring for the objective).

    Args:
        encoder: the substructure GNN (the encoder being pretrained).
        k: substructure radius K (default: the encoder's number of layers).
        r1, r2: the context ring :math:`r_1 < d \\le r_2` (defaults K - 1 and r1 + 3); needs 0 <= r1 < K <= r2.
        negative_samples: negatives per positive (contexts of other graphs of the batch).
    """

    name = "contextpred"

    def __init__(self, encoder: GNNEncoder, *, k: int | None = None, r1: int | None = None, r2: int | None = None,
                 negative_samples: int = 1) -> None:
        super().__init__(encoder)
        k = encoder.num_layers if k is None else int(k)
        r1 = k - 1 if r1 is None else int(r1)
        r2 = r1 + 3 if r2 is None else int(r2)
        if not 0 <= r1 < k <= r2:
            raise ValueError(
                f"ContextPrediction: need 0 <= r1 < k <= r2 so that anchor nodes exist, got k={k}, r1={r1}, r2={r2}"
            )
        if negative_samples < 1:
            raise ValueError(f"ContextPrediction: negative_samples must be >= 1, got {negative_samples}")
        self.k, self.r1, self.r2, self.negative_samples = k, r1, r2, int(negative_samples)
        config = {**encoder.config, "num_layers": r2 - r1, "hidden_dim": encoder.embedding_dim, "jk": "last"}
        self.context_encoder = build_encoder(config)
        self.skipped = 0
        self.used = 0

    def pair_scores(self, batch: Batch) -> tuple[Tensor, Tensor]:
        r"""Logits :math:`h_v^\top c_v` of the positive pairs (G,) and :math:`h_v^\top c_{v'}` of the negative
        pairs (k G,), over the G graphs of the batch whose context has an anchor node."""
        if getattr(batch, "batch", None) is None or batch.num_graphs < 2:
            raise ValueError(
                "ContextPrediction needs at least 2 graphs per batch (negative contexts come from other graphs)"
            )
        centres = sample_centres(batch)
        dist = hop_distances(batch.edge_index, batch.num_nodes, centres, max(self.k, self.r2))
        substructure = dist <= self.k
        context = (dist > self.r1) & (dist <= self.r2)
        anchors = context & substructure
        has_anchor = torch.bincount(batch.batch[anchors], minlength=batch.num_graphs) > 0
        usable = int(has_anchor.sum())
        self.used += usable
        self.skipped += batch.num_graphs - usable
        if usable < 2:  # no negative pair can be formed: the batch contributes nothing (counted in skipped)
            self.used -= usable
            self.skipped += usable
            empty = self.encoder.node_encoder(batch.x[:0]).sum(-1)
            return empty, empty
        sub_graph, sub_id = _induced(batch, substructure)
        h = self.encoder.node_embeddings(sub_graph)[sub_id[centres[has_anchor]]]
        ctx_graph, ctx_id = _induced(batch, context)
        ctx_nodes = self.context_encoder.node_embeddings(ctx_graph)[ctx_id[anchors]]
        # mean over each graph's anchors; graphs are renumbered 0..G-1 over the usable ones
        graph_of = torch.cumsum(has_anchor.long(), 0) - 1
        c = global_mean_pool(ctx_nodes, graph_of[batch.batch[anchors]], size=usable)
        positive = (h * c).sum(-1)
        # the s-th negative pairs graph i with the context of graph i - s (s = 1, 2, ...; never i itself)
        shifts = [1 + (s - 1) % (usable - 1) for s in range(1, self.negative_samples + 1)]
        negative = torch.cat([(h * torch.roll(c, shifts=s, dims=0)).sum(-1) for s in shifts])
        return positive, negative

    def loss(self, batch: Batch) -> Tensor:
        positive, negative = self.pair_scores(batch)
        if positive.numel() == 0:  # fewer than 2 graphs with an anchor: zero loss, counted in skipped
            return sum(p.sum() * 0.0 for p in self.parameters())
        return (F.binary_cross_entropy_with_logits(positive, torch.ones_like(positive))
                + self.negative_samples * F.binary_cross_entropy_with_logits(negative, torch.zeros_like(negative)))
