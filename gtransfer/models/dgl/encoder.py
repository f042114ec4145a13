r"""A DGL module as a gtransfer encoder: ``embed``, ``embedding_dim``, ``featurizer``, checkpoints.

The wrapped module follows DGL's usual signature and returns node representations::

    module(graph, node_feat) -> (N, D)                 # edge_features=False
    module(graph, node_feat, edge_feat) -> (N, D)      # edge_features=True

and may offer ``layer_outputs(graph, node_feat[, edge_feat]) -> [h0, ..., hL]`` for ``layer=``.
:class:`DGLEncoder` accepts PyG batches (what every gtransfer loader yields; converted with
:func:`~gtransfer.models.dgl.convert.pyg_structure_to_dgl`) or DGLGraphs (features read from
``ndata["feat"]``/``edata["feat"]``), and pools node representations per graph:
:math:`z_g = \mathrm{pool}_{v \in g}\, h_v` (mean, sum or max), as :class:`~gtransfer.models.GNNEncoder`
does. So ``gtransfer.training.finetune``, ``embed_loader``, ``gtransfer embed``/``rank``/``finetune`` and study
sweeps use it like any PyG encoder.

Checkpoints of such encoders (builders, saving, loading): :mod:`gtransfer.models.dgl.builders`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from torch import Tensor, nn

from gtransfer.models.dgl.convert import FEATURE_NAME, graph_index, pyg_structure_to_dgl
from gtransfer.models.dgl_requirement import require_dgl

if TYPE_CHECKING:
    from torch_geometric.data import Batch, Data

dgl = require_dgl()

__all__ = ["DGLEncoder", "FRAMEWORK"]

#: the ``architecture["framework"]`` value that marks a DGL checkpoint
FRAMEWORK = "dgl"


class DGLEncoder(nn.Module):
    """Adapter that gives a DGL module the gtransfer encoder interface.

    Args:
        module: ``module(graph, x[, e]) -> (N, embedding_dim)`` node representations.
        embedding_dim: width D of the node representations.
        featurizer: the molecule featuriser its node encoder expects (``"hu2020"``/``"ogb"``), or
            ``None`` for float node features.
        pooling: default graph pooling (``"mean"``, ``"sum"``, ``"max"``).
        edge_features: pass edge features (PyG ``edge_attr``) as the third argument.

    Shapes:
        ``embed(batch)`` -> (B, D); ``embed(batch, level="node")`` -> (N, D).
    """

    def __init__(
        self,
        module: nn.Module,
        embedding_dim: int,
        *,
        featurizer: str | None = None,
        pooling: str = "mean",
        edge_features: bool = False,
    ) -> None:
        super().__init__()
        from gtransfer.models.encoder import POOLINGS

        if not isinstance(module, nn.Module):
            raise ValueError(f"DGLEncoder wraps a torch.nn.Module, got {type(module).__name__}")
        if not isinstance(embedding_dim, int) or embedding_dim < 1:
            raise ValueError(f"DGLEncoder: embedding_dim must be a positive int, got {embedding_dim!r}")
        if pooling not in POOLINGS:
            raise ValueError(f"DGLEncoder: pooling must be one of {sorted(POOLINGS)}, got {pooling!r}")
        if featurizer not in (None, "hu2020", "ogb"):
            raise ValueError(f"DGLEncoder: featurizer must be 'hu2020', 'ogb' or None, got {featurizer!r}")
        self.module = module
        self.embedding_dim = embedding_dim
        self.featurizer = featurizer
        self.pooling = pooling
        self.edge_features = edge_features
        self.builder: str | None = None
        self.builder_config: dict[str, Any] | None = None

    def extra_repr(self) -> str:
        return f"dim={self.embedding_dim}, featurizer={self.featurizer}, pooling={self.pooling}, builder={self.builder}"

    @property
    def config(self) -> dict[str, Any]:
        """The checkpoint's ``architecture``: framework, builder and its arguments, interface fields."""
        return {
            "framework": FRAMEWORK, "builder": self.builder, "config": self.builder_config,
            "embedding_dim": self.embedding_dim, "featurizer": self.featurizer, "pooling": self.pooling,
            "edge_features": self.edge_features,
        }

    # -- inputs --------------------------------------------------------------------------------
    def _inputs(self, batch: Data | Batch | dgl.DGLGraph) -> tuple[dgl.DGLGraph, Tensor, Tensor | None]:
        if isinstance(batch, dgl.DGLGraph):
            if FEATURE_NAME not in batch.ndata:
                raise ValueError(f"the DGLGraph has no node features ndata[{FEATURE_NAME!r}]")
            edge = batch.edata.get(FEATURE_NAME) if self.edge_features else None
            if self.edge_features and edge is None:
                raise ValueError(f"this encoder uses edge features but the DGLGraph has no edata[{FEATURE_NAME!r}]")
            return batch, batch.ndata[FEATURE_NAME], edge
        x = getattr(batch, "x", None)
        if x is None:
            raise ValueError("the PyG graph has no node features x")
        edge = getattr(batch, "edge_attr", None) if self.edge_features else None
        if self.edge_features and edge is None:
            raise ValueError("this encoder uses edge features but the PyG graph has no edge_attr")
        return pyg_structure_to_dgl(batch), x, edge

    def _call(self, fn: Callable, graph: dgl.DGLGraph, x: Tensor, edge: Tensor | None):
        return fn(graph, x, edge) if self.edge_features else fn(graph, x)

    # -- computation ---------------------------------------------------------------------------
    def node_embeddings(self, batch: Data | Batch | dgl.DGLGraph, *, layer: int | None = None) -> Tensor:
        """Node representations (N, D): the module's output, or its layer ``layer`` (0..L)."""
        graph, x, edge = self._inputs(batch)
        if layer is None:
            out = self._call(self.module, graph, x, edge)
        else:
            if not hasattr(self.module, "layer_outputs"):
                raise ValueError(f"{type(self.module).__name__} has no layer_outputs(graph, x); embed without layer=")
            from gtransfer.models.encoder import pick_layer

            out = pick_layer(self._call(self.module.layer_outputs, graph, x, edge), layer)
        if out.dim() != 2 or out.shape != (graph.num_nodes(), self.embedding_dim):
            raise ValueError(
                f"{type(self.module).__name__} returned shape {tuple(out.shape)}; expected "
                f"({graph.num_nodes()}, {self.embedding_dim}) node representations"
            )
        return out

    def embed(
        self,
        batch: Data | Batch | dgl.DGLGraph,
        *,
        level: str = "graph",
        layer: int | None = None,
        pooling: str | None = None,
    ) -> Tensor:
        """Graph embeddings (B, D) (``level="graph"``) or node embeddings (N, D) (``level="node"``)."""
        from gtransfer.models.encoder import pool_nodes

        nodes = self.node_embeddings(batch, layer=layer)
        if isinstance(batch, dgl.DGLGraph):
            index, size = graph_index(batch).to(nodes.device), batch.batch_size
        else:
            index, size = getattr(batch, "batch", None), getattr(batch, "num_graphs", None)
        return pool_nodes(nodes, index, size, level, pooling or self.pooling)

    def forward(self, batch: Data | Batch | dgl.DGLGraph) -> Tensor:
        return self.embed(batch)


# -- builders and checkpoints -------------------------------------------------------------------------
