"""Message-passing layers with edge features, in the form of Hu et al. 2020 (ICLR), "Strategies for
Pre-training Graph Neural Networks", so that their published encoders load exactly.

Every layer first adds a self-loop to each node (with the encoder's self-loop edge attribute) and
embeds each edge as :math:`e_{ij}` with its own per-layer edge encoder. :math:`i` aggregates,
:math:`j` ranges over its in-neighbours (``edge_index[0]`` = source j, ``edge_index[1]`` = target i,
the modern PyG convention), self included. Without an edge encoder :math:`e_{ij} = 0`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.utils import scatter, softmax

from gtransfer.models.inputs import make_edge_encoder

__all__ = ["GINLayer", "GCNLayer", "SAGELayer", "GATLayer", "CONV_LAYERS"]


class _EdgeConv(nn.Module):
    """Shared plumbing: self-loops and per-layer edge embeddings."""

    def __init__(self, edge_features: str | int | None, edge_dim: int) -> None:
        super().__init__()
        self.edge_encoder = make_edge_encoder(edge_features, edge_dim)

    def _edges(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None) -> tuple[Tensor, Tensor, Tensor | None]:
        num_nodes = x.size(0)
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise ValueError(f"edge_index must have shape (2, E), got {tuple(edge_index.shape)}")
        loops = torch.arange(num_nodes, device=x.device)
        src = torch.cat([edge_index[0], loops])
        dst = torch.cat([edge_index[1], loops])
        if self.edge_encoder is None:
            return src, dst, None
        if edge_attr is None:
            raise ValueError(f"{type(self).__name__} was built with edge features but the graph has no edge_attr")
        if edge_attr.size(0) != edge_index.size(1):
            raise ValueError(f"edge_attr has {edge_attr.size(0)} rows for {edge_index.size(1)} edges")
        emb = torch.cat([self.edge_encoder(edge_attr), self.edge_encoder.self_loop(num_nodes, x.device)])
        return src, dst, emb


class GINLayer(_EdgeConv):
    r"""GIN with edge features (Xu et al. 2019; Hu et al. 2020):
    :math:`h_i' = \mathrm{MLP}\big(\sum_{j \in N(i) \cup \{i\}} (h_j + e_{ij})\big)`,
    MLP = Linear(d, 2d), ReLU, Linear(2d, d).

    Shapes: x (N, d), edge_index (2, E), edge_attr (E, F_e) -> (N, d).
    """

    def __init__(self, dim: int, edge_features: str | int | None) -> None:
        super().__init__(edge_features, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.ReLU(), nn.Linear(2 * dim, dim))

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None) -> Tensor:
        src, dst, e = self._edges(x, edge_index, edge_attr)
        msg = x[src] if e is None else x[src] + e
        return self.mlp(scatter(msg, dst, dim=0, dim_size=x.size(0), reduce="sum"))


class _LinearEdgeConv(_EdgeConv):
    """A linear map of the node states plus edge embeddings: the parameters GCN and GraphSAGE share
    (their published state dicts have identical keys)."""

    def __init__(self, dim: int, edge_features: str | int | None) -> None:
        super().__init__(edge_features, dim)
        self.linear = nn.Linear(dim, dim)


class GCNLayer(_LinearEdgeConv):
    r"""GCN with edge features (Kipf & Welling 2017; Hu et al. 2020):
    :math:`h_i' = \sum_{j} \deg_i^{-1/2} \deg_j^{-1/2} (W h_j + b + e_{ij})`, degrees counting the
    self-loop. No extra bias.
    """

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None) -> Tensor:
        src, dst, e = self._edges(x, edge_index, edge_attr)
        h = self.linear(x)
        deg = scatter(torch.ones_like(dst, dtype=h.dtype), dst, dim=0, dim_size=x.size(0), reduce="sum")
        inv_sqrt = deg.pow(-0.5)
        norm = (inv_sqrt[dst] * inv_sqrt[src]).unsqueeze(-1)
        msg = h[src] if e is None else h[src] + e
        return scatter(norm * msg, dst, dim=0, dim_size=x.size(0), reduce="sum")


class SAGELayer(_LinearEdgeConv):
    r"""GraphSAGE-mean with edge features (Hamilton et al. 2017; Hu et al. 2020):
    :math:`h_i' = \mathrm{normalize}_2\big(\mathrm{mean}_{j} (W h_j + b + e_{ij})\big)`.
    """

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None) -> Tensor:
        src, dst, e = self._edges(x, edge_index, edge_attr)
        h = self.linear(x)
        msg = h[src] if e is None else h[src] + e
        return F.normalize(scatter(msg, dst, dim=0, dim_size=x.size(0), reduce="mean"), p=2, dim=-1)


class GATLayer(_EdgeConv):
    r"""GAT with edge features (Velickovic et al. 2018; Hu et al. 2020), H heads averaged:

    .. math::
        m_{ij} = W h_j + e_{ij},\quad
        a_{ij} = \mathrm{softmax}_{j \in N(i)}\, \mathrm{LeakyReLU}_{0.2}(a^\top [W h_i \,\|\, m_{ij}]),\quad
        h_i' = \tfrac{1}{H} \sum_{heads} \sum_j a_{ij} m_{ij} + b.

    The softmax is normalised over the neighbours of the aggregating node i.
    """

    def __init__(self, dim: int, edge_features: str | int | None, *, heads: int = 2) -> None:
        super().__init__(edge_features, heads * dim)
        if heads < 1:
            raise ValueError(f"GATLayer: heads must be >= 1, got {heads}")
        self.heads, self.dim = heads, dim
        self.weight_linear = nn.Linear(dim, heads * dim)
        self.att = nn.Parameter(torch.empty(1, heads, 2 * dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        nn.init.xavier_uniform_(self.att)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None) -> Tensor:
        src, dst, e = self._edges(x, edge_index, edge_attr)
        n = x.size(0)
        h = self.weight_linear(x).view(n, self.heads, self.dim)
        msg = h[src] if e is None else h[src] + e.view(-1, self.heads, self.dim)
        # a^T [W h_i || m_ij] split into its two halves: the h_i half is computed once per node
        att_i, att_j = self.att[..., : self.dim], self.att[..., self.dim :]
        score_i = torch.einsum("nhd,hd->nh", h, att_i[0])
        score = F.leaky_relu(score_i[dst] + torch.einsum("ehd,hd->eh", msg, att_j[0]), 0.2)
        alpha = softmax(score, dst, num_nodes=n)
        out = scatter(alpha.unsqueeze(-1) * msg, dst, dim=0, dim_size=n, reduce="sum")
        return out.mean(dim=1) + self.bias


CONV_LAYERS: dict[str, type[_EdgeConv]] = {"gin": GINLayer, "gcn": GCNLayer, "graphsage": SAGELayer, "gat": GATLayer}
