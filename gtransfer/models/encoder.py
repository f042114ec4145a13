r"""Graph encoders: GIN, GCN, GraphSAGE and GAT over molecules or generic graphs.

The layer stack follows Hu et al. 2020 ("Strategies for Pre-training Graph Neural Networks"):

.. math::
    h^{(0)} = \mathrm{NodeEncoder}(x),\qquad
    h^{(l)} = \mathrm{Dropout}\big(\sigma_l(\mathrm{BN}_l(\mathrm{Conv}_l(h^{(l-1)}, E)))\big),

with :math:`\sigma_l` = ReLU for every layer but the last (identity there). Jumping knowledge
combines :math:`[h^{(0)}, \dots, h^{(L)}]` (``"last"``, ``"concat"``, ``"max"``, ``"sum"``), and a
graph embedding pools node embeddings per graph (``"mean"``, ``"sum"``, ``"max"``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool

from gtransfer.models.convs import CONV_LAYERS
from gtransfer.models.inputs import make_node_encoder

if TYPE_CHECKING:
    from torch_geometric.data import Batch, Data

__all__ = [
    "GNNEncoder", "GIN", "GCN", "GraphSAGE", "GAT", "build_encoder", "pool_nodes", "check_stack_arguments",
    "run_layer_stack", "pick_layer", "POOLINGS", "JK_MODES",
]

POOLINGS = {"mean": global_mean_pool, "sum": global_add_pool, "max": global_max_pool}
JK_MODES = ("last", "concat", "max", "sum")


def check_stack_arguments(name: str, num_layers: int, hidden_dim: int, dropout: float) -> None:
    """Refuse a layer stack with no layers, no width or a dropout outside [0, 1), naming ``name``."""
    if num_layers < 1:
        raise ValueError(f"{name}: num_layers must be >= 1, got {num_layers}")
    if hidden_dim < 1:
        raise ValueError(f"{name}: hidden_dim must be >= 1, got {hidden_dim}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout}")


def run_layer_stack(h: Tensor, convolve: Callable[[int, Tensor], Tensor], batch_norms: nn.ModuleList,
                    dropout: float, training: bool) -> list[Tensor]:
    r"""[h0, h1, ..., hL] with :math:`h^{(l)} = \mathrm{Dropout}(\sigma_l(\mathrm{BN}_l(\mathrm{convolve}(l,
    h^{(l-1)}))))`,
    :math:`\sigma_l` = ReLU except after the last layer; ``h`` is :math:`h^{(0)}`, L = ``len(batch_norms)``."""
    outputs = [h]
    last = len(batch_norms) - 1
    for layer, bn in enumerate(batch_norms):
        h = bn(convolve(layer, h))
        if layer < last:
            h = F.relu(h)
        h = F.dropout(h, p=dropout, training=training)
        outputs.append(h)
    return outputs


def pick_layer(outputs: list[Tensor], layer: int) -> Tensor:
    """``outputs[layer]`` of [h0, ..., hL], refusing an index outside 0..L (negative ones count from the end)."""
    if not -len(outputs) <= layer < len(outputs):
        raise ValueError(f"layer must be in 0..{len(outputs) - 1} (or negative), got {layer}")
    return outputs[layer]


def pool_nodes(nodes: Tensor, index: Tensor | None, size: int | None, level: str, pooling: str) -> Tensor:
    r"""Node embeddings (N, D) as they are (``level="node"``) or pooled per graph (``level="graph"``):
    :math:`z_g = \mathrm{pool}_{v:\,index_v = g}\, h_v`, (size, D); ``index=None`` means one graph."""
    if level == "node":
        return nodes
    if level != "graph":
        raise ValueError(f"level must be 'graph' or 'node', got {level!r}")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {sorted(POOLINGS)}, got {pooling!r}")
    if index is None:
        index = torch.zeros(nodes.size(0), dtype=torch.long, device=nodes.device)
    return POOLINGS[pooling](nodes, index, size=size)


class GNNEncoder(nn.Module):
    """A stack of message-passing layers with batch norm, jumping knowledge and graph pooling.

    Args:
        arch: ``"gin"``, ``"gcn"``, ``"graphsage"`` or ``"gat"``.
        num_layers: message-passing layers L (>= 1).
        hidden_dim: width d of every layer.
        dropout: dropout after each layer (training only).
        jk: jumping knowledge over h0..hL: ``"last"`` (width d), ``"concat"`` ((L+1) d), ``"max"``, ``"sum"``.
        pooling: default graph pooling: ``"mean"``, ``"sum"`` or ``"max"``.
        node_features: ``"hu2020"`` / ``"ogb"`` (integer molecule features) or the float feature width.
        edge_features: same choices as ``node_features`` or ``None`` (no edge term); ``"same"`` copies
            ``node_features`` when it names a featuriser, else ``None``.
        heads: attention heads (GAT only).

    Shapes:
        ``embed(batch)``: a PyG ``Batch``/``Data`` with ``x`` (N, F), ``edge_index`` (2, E),
        ``edge_attr`` (E, F_e), ``batch`` (N,) -> (B, embedding_dim), or (N, ...) with ``level="node"``.
    """

    def __init__(
        self,
        arch: str,
        *,
        num_layers: int = 5,
        hidden_dim: int = 300,
        dropout: float = 0.0,
        jk: str = "last",
        pooling: str = "mean",
        node_features: str | int = "hu2020",
        edge_features: str | int | None = "same",
        heads: int = 2,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if arch not in CONV_LAYERS:
            raise ValueError(f"{name}: arch must be one of {sorted(CONV_LAYERS)}, got {arch!r}")
        check_stack_arguments(name, num_layers, hidden_dim, dropout)
        if jk not in JK_MODES:
            raise ValueError(f"{name}: jk must be one of {JK_MODES}, got {jk!r}")
        if pooling not in POOLINGS:
            raise ValueError(f"{name}: pooling must be one of {sorted(POOLINGS)}, got {pooling!r}")
        if edge_features == "same":
            edge_features = node_features if isinstance(node_features, str) else None
        self.arch, self.num_layers, self.hidden_dim = arch, num_layers, hidden_dim
        self.dropout, self.jk, self.pooling = dropout, jk, pooling
        self.node_features, self.edge_features, self.heads = node_features, edge_features, heads
        self.node_encoder = make_node_encoder(node_features, hidden_dim)
        conv_cls = CONV_LAYERS[arch]
        extra = {"heads": heads} if arch == "gat" else {}
        self.convs = nn.ModuleList(conv_cls(hidden_dim, edge_features, **extra) for _ in range(num_layers))
        self.batch_norms = nn.ModuleList(nn.BatchNorm1d(hidden_dim) for _ in range(num_layers))

    # -- description -------------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments: ``build_encoder(enc.config)`` rebuilds the architecture."""
        return {
            "arch": self.arch,
            "num_layers": self.num_layers,
            "hidden_dim": self.hidden_dim,
            "dropout": self.dropout,
            "jk": self.jk,
            "pooling": self.pooling,
            "node_features": self.node_features,
            "edge_features": self.edge_features,
            "heads": self.heads,
        }

    @property
    def featurizer(self) -> str | None:
        """The molecule featuriser the encoder expects, or ``None`` for float features."""
        return self.node_features if isinstance(self.node_features, str) else None

    @property
    def embedding_dim(self) -> int:
        """Width of ``embed(batch)`` (jumping-knowledge output)."""
        return self.hidden_dim * (self.num_layers + 1) if self.jk == "concat" else self.hidden_dim

    def extra_repr(self) -> str:
        return (
            f"arch={self.arch}, layers={self.num_layers}, dim={self.hidden_dim}, jk={self.jk}, pooling={self.pooling}"
        )

    # -- computation -------------------------------------------------------------------------
    def layer_outputs(self, batch: Data | Batch) -> list[Tensor]:
        """Node representations [h0, h1, ..., hL], each (N, hidden_dim)."""
        x, edge_index = batch.x, batch.edge_index
        edge_attr = getattr(batch, "edge_attr", None)
        if x is None:
            raise ValueError(f"{type(self).__name__}: the graph has no node features x")
        return run_layer_stack(self.node_encoder(x), lambda layer, h: self.convs[layer](h, edge_index, edge_attr),
                               self.batch_norms, self.dropout, self.training)

    def node_embeddings(self, batch: Data | Batch, *, layer: int | None = None) -> Tensor:
        """Node embeddings: the jumping-knowledge output (``layer=None``) or layer ``layer`` (0..L)."""
        outputs = self.layer_outputs(batch)
        if layer is not None:
            return pick_layer(outputs, layer)
        if self.jk == "last":
            return outputs[-1]
        if self.jk == "concat":
            return torch.cat(outputs, dim=-1)
        stacked = torch.stack(outputs, dim=0)
        return stacked.max(dim=0).values if self.jk == "max" else stacked.sum(dim=0)

    def embed(
        self, batch: Data | Batch, *, level: str = "graph", layer: int | None = None, pooling: str | None = None
    ) -> Tensor:
        """Graph embeddings (B, D) (``level="graph"``) or node embeddings (N, D) (``level="node"``)."""
        nodes = self.node_embeddings(batch, layer=layer)
        index = getattr(batch, "batch", None)
        return pool_nodes(nodes, index, getattr(batch, "num_graphs", None), level, pooling or self.pooling)

    def forward(self, batch: Data | Batch) -> Tensor:
        return self.embed(batch)


class GIN(GNNEncoder):
    """GIN encoder (Xu et al. 2019, ICLR) with edge features as in Hu et al. 2020; see :class:`GNNEncoder`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("gin", **kwargs)


class GCN(GNNEncoder):
    """GCN encoder (Kipf & Welling 2017, ICLR) with edge features as in Hu et al. 2020; see :class:`GNNEncoder`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("gcn", **kwargs)


class GraphSAGE(GNNEncoder):
    """GraphSAGE-mean encoder (Hamilton et al. 2017, NeurIPS), outputs L2-normalised; see :class:`GNNEncoder`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("graphsage", **kwargs)


class GAT(GNNEncoder):
    """GAT encoder (Velickovic et al. 2018, ICLR), heads averaged; see :class:`GNNEncoder`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("gat", **kwargs)


_BY_ARCH = {"gin": GIN, "gcn": GCN, "graphsage": GraphSAGE, "gat": GAT}


def build_encoder(config: dict[str, Any]) -> GNNEncoder:
    """Rebuild an encoder from its ``config`` dict (as stored in checkpoint metadata)."""
    config = dict(config)
    arch = config.pop("arch", None)
    if arch not in _BY_ARCH:
        raise ValueError(f"encoder config needs 'arch' in {sorted(_BY_ARCH)}, got {arch!r}")
    return _BY_ARCH[arch](**config)
