r"""GIN and GCN encoders built from ``dgl.nn`` layers, registered as DGL builders ``"gin"`` and ``"gcn"``.

Both follow the layer stack of :class:`gtransfer.models.GNNEncoder` without edge features:

.. math::
    h^{(0)} = \mathrm{NodeEncoder}(x),\qquad
    h^{(l)} = \mathrm{Dropout}\big(\sigma_l(\mathrm{BN}_l(\mathrm{Conv}_l(h^{(l-1)})))\big),

:math:`\sigma_l` = ReLU except after the last layer; the output is :math:`h^{(L)}` (jumping knowledge
"last"). The convolutions:

* GIN (Xu et al. 2019): ``dgl.nn.GINConv`` with sum aggregation and :math:`\epsilon = 0`,
  :math:`h_i' = \mathrm{MLP}(h_i + \sum_{j \in N(i)} h_j)`, MLP = Linear(d, 2d), ReLU, Linear(2d, d).
* GCN (Kipf & Welling 2017): a Linear layer, then ``dgl.nn.GraphConv(norm="both", weight=False,
  bias=False)`` on the graph with self-loops, :math:`h_i' = \sum_{j \in N(i) \cup \{i\}}
  (W h_j + b) / \sqrt{d_i d_j}` (the bias inside the sum, as in Hu et al. 2020's GCN).

With the same weights they compute what :class:`gtransfer.models.GIN`/:class:`~gtransfer.models.GCN`
with ``edge_features=None`` compute (:func:`copy_pyg_weights` copies them over). GraphConv normalises
by the source's out-degree and the destination's in-degree, PyG-style GCN by in-degrees only: the
two GCNs agree on undirected graphs (molecules, TU), not on directed ones.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from gtransfer.models.dgl.encoder import DGLEncoder
from gtransfer.models.dgl_requirement import require_dgl
from gtransfer.models.encoder import check_stack_arguments, run_layer_stack
from gtransfer.models.inputs import make_node_encoder

dgl = require_dgl()
from dgl.nn import GINConv, GraphConv  # noqa: E402 - after the requirement check

__all__ = ["DGLGIN", "DGLGCN", "build_dgl_gin", "build_dgl_gcn", "copy_pyg_weights"]


class _DGLStack(nn.Module):
    """Node encoder, per-layer batch norm, ReLU and dropout around the convolutions of a subclass."""

    def __init__(self, num_layers: int, hidden_dim: int, node_features: str | int, dropout: float) -> None:
        super().__init__()
        check_stack_arguments(type(self).__name__, num_layers, hidden_dim, dropout)
        self.num_layers, self.hidden_dim, self.dropout = num_layers, hidden_dim, dropout
        self.node_encoder = make_node_encoder(node_features, hidden_dim)
        self.batch_norms = nn.ModuleList(nn.BatchNorm1d(hidden_dim) for _ in range(num_layers))

    def convolve(self, layer: int, graph: dgl.DGLGraph, h: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def prepare(self, graph: dgl.DGLGraph) -> dgl.DGLGraph:
        """The graph the convolutions run on (the GCN adds self-loops here)."""
        return graph

    def layer_outputs(self, graph: dgl.DGLGraph, x: Tensor) -> list[Tensor]:
        """Node representations [h0, h1, ..., hL], each (N, hidden_dim)."""
        graph = self.prepare(graph)
        return run_layer_stack(self.node_encoder(x), lambda layer, h: self.convolve(layer, graph, h),
                               self.batch_norms, self.dropout, self.training)

    def forward(self, graph: dgl.DGLGraph, x: Tensor) -> Tensor:
        return self.layer_outputs(graph, x)[-1]


class DGLGIN(_DGLStack):
    """GIN from ``dgl.nn.GINConv`` layers; see the module docstring."""

    def __init__(
        self, *, num_layers: int = 5, hidden_dim: int = 300, node_features: str | int = "hu2020", dropout: float = 0.0
    ) -> None:
        super().__init__(num_layers, hidden_dim, node_features, dropout)
        d = hidden_dim
        self.convs = nn.ModuleList(
            GINConv(nn.Sequential(nn.Linear(d, 2 * d), nn.ReLU(), nn.Linear(2 * d, d)), aggregator_type="sum",
                    init_eps=0.0, learn_eps=False)
            for _ in range(num_layers)
        )

    def convolve(self, layer: int, graph: dgl.DGLGraph, h: Tensor) -> Tensor:
        return self.convs[layer](graph, h)


class DGLGCN(_DGLStack):
    """GCN from a Linear layer and ``dgl.nn.GraphConv(norm="both")`` on the self-looped graph."""

    def __init__(
        self, *, num_layers: int = 5, hidden_dim: int = 300, node_features: str | int = "hu2020", dropout: float = 0.0
    ) -> None:
        super().__init__(num_layers, hidden_dim, node_features, dropout)
        self.linears = nn.ModuleList(nn.Linear(hidden_dim, hidden_dim) for _ in range(num_layers))
        self.convs = nn.ModuleList(GraphConv(hidden_dim, hidden_dim, norm="both", weight=False, bias=False)
                                   for _ in range(num_layers))

    def prepare(self, graph: dgl.DGLGraph) -> dgl.DGLGraph:
        return dgl.add_self_loop(graph)

    def convolve(self, layer: int, graph: dgl.DGLGraph, h: Tensor) -> Tensor:
        return self.convs[layer](graph, self.linears[layer](h))


def _wrap(module: _DGLStack, node_features: str | int, pooling: str) -> DGLEncoder:
    featurizer = node_features if isinstance(node_features, str) else None
    return DGLEncoder(module, embedding_dim=module.hidden_dim, featurizer=featurizer, pooling=pooling)


def build_dgl_gin(*, num_layers: int = 5, hidden_dim: int = 300, node_features: str | int = "hu2020",
                  dropout: float = 0.0, pooling: str = "mean") -> DGLEncoder:
    """A :class:`DGLGIN` wrapped as a :class:`DGLEncoder` (``node_features``: ``"hu2020"``, ``"ogb"`` or a float
    width)."""
    return _wrap(
        DGLGIN(num_layers=num_layers, hidden_dim=hidden_dim, node_features=node_features, dropout=dropout),
        node_features,
        pooling,
    )


def build_dgl_gcn(*, num_layers: int = 5, hidden_dim: int = 300, node_features: str | int = "hu2020",
                  dropout: float = 0.0, pooling: str = "mean") -> DGLEncoder:
    """A :class:`DGLGCN` wrapped as a :class:`DGLEncoder`."""
    return _wrap(
        DGLGCN(num_layers=num_layers, hidden_dim=hidden_dim, node_features=node_features, dropout=dropout),
        node_features,
        pooling,
    )


def _pyg_to_dgl_key(key: str, arch: str) -> str:
    """``convs.2.mlp.0.weight`` -> ``module.convs.2.apply_func.0.weight`` (GIN); ``convs.2.linear.bias`` ->
    ``module.linears.2.bias`` (GCN); node encoder and batch norms keep their names."""
    parts = key.split(".")
    if parts[0] == "convs" and arch == "gin" and parts[2] == "mlp":
        parts[2] = "apply_func"
    elif parts[0] == "convs" and arch == "gcn" and parts[2] == "linear":
        parts = ["linears", parts[1], *parts[3:]]
    return "module." + ".".join(parts)


def copy_pyg_weights(dgl_encoder: DGLEncoder, pyg_encoder: nn.Module) -> DGLEncoder:
    """Load the weights (and batch-norm statistics) of a PyG :class:`~gtransfer.models.GIN` or
    :class:`~gtransfer.models.GCN` into the matching DGL example, strictly.

    Raises:
        ValueError: the architectures differ (kind, depth, width, node features), or the PyG
            encoder has edge features or a jumping knowledge other than ``"last"``.
    """
    config: dict[str, Any] = dict(getattr(pyg_encoder, "config", {}))
    kinds = {"gin": DGLGIN, "gcn": DGLGCN}
    module = dgl_encoder.module
    arch = config.get("arch")
    if arch not in kinds or not isinstance(module, kinds[arch]):
        raise ValueError(f"copy_pyg_weights: a PyG {arch!r} encoder into a {type(module).__name__}; "
                         "pair gin with DGLGIN and gcn with DGLGCN")
    if config.get("edge_features") is not None or config.get("jk") != "last":
        raise ValueError("copy_pyg_weights: the DGL examples have no edge features and use jk='last'; "
                         f"the PyG encoder has edge_features={config.get('edge_features')!r}, jk={config.get('jk')!r}")
    if (config["num_layers"], config["hidden_dim"]) != (module.num_layers, module.hidden_dim):
        raise ValueError(f"copy_pyg_weights: PyG {config['num_layers']} layers x {config['hidden_dim']} vs DGL "
                         f"{module.num_layers} x {module.hidden_dim}")
    target = dgl_encoder.state_dict()
    renamed = {_pyg_to_dgl_key(key, arch): value for key, value in pyg_encoder.state_dict().items()}
    unknown = sorted(set(renamed) - set(target))
    if unknown:
        raise ValueError(f"copy_pyg_weights: PyG weights with no DGL place: {unknown[:5]}")
    missing = sorted(k for k in set(target) - set(renamed) if not k.endswith(".eps"))
    if missing:
        raise ValueError(f"copy_pyg_weights: DGL weights with no PyG source: {missing[:5]}")
    for key in target:
        if key.endswith(".eps"):  # GINConv's fixed epsilon buffer (0), not a PyG weight
            renamed[key] = target[key]
    try:
        dgl_encoder.load_state_dict(renamed, strict=True)
    except RuntimeError as err:
        raise ValueError(f"copy_pyg_weights: {str(err).splitlines()[0]}") from None
    return dgl_encoder
