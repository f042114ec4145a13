r"""K encoders of one architecture as one set of stacked tensors, run together on the same batch.

Every parameter and buffer of the K members' :class:`~gtransfer.models.encoder.GNNEncoder` state
dicts is stacked along a new first axis, so ``params["convs.0.mlp.0.weight"]`` is (K, 2d, d). Node
states are (K, N, d). The forward pass is the member encoders' own computation
(:mod:`gtransfer.models.convs`, :func:`gtransfer.models.encoder.run_layer_stack`), written for K at once:

* linear maps are batched matrix products, :math:`H_k W_k^\top + b_k` for all k in one ``baddbmm``;
* neighbourhood aggregation is linear and the same for every member, so the (K, E, d) messages are
  scattered to their targets in one operation along the node axis, for all K members;
* batch norm keeps per-member statistics; dropout draws per-member masks from a counter-based hash
  of (member key, step, layer, element), so a member's masks do not depend on which pack it is in.

A member either trains its encoder (``"full"``) or keeps it frozen in evaluation mode (``"linear"``,
the linear probe): per-member training flags select batch or running statistics and switch dropout.

A bias added right before batch norm (GIN's last MLP bias, GAT's output bias) shifts every node of a
channel by the same amount, which batch norm in training mode removes: its gradient is exactly zero.
Autograd returns rounding noise instead (about 1e-16 of the activations' scale) and Adam, which divides
by the gradient's own magnitude, turns that noise into steps of up to the learning rate. Here such a
bias enters the training graph detached, so its gradient is the exact zero and it moves only by weight
decay; a model trained by ``torch.optim.Adam`` alone drifts there by noise (see ``tests/training/test_packed.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.utils import scatter, softmax

from gtransfer.models.encoder import GNNEncoder, build_encoder
from gtransfer.models.inputs import molecule_specs

__all__ = ["StackedEncoder", "stack_members", "stack_state_dicts", "hashed_dropout_keep"]

_M31 = 0x7FFFFFFF
_BN_EPS, _BN_MOMENTUM = 1e-5, 0.1


def stack_state_dicts(
    modules: Sequence[nn.Module], dtype: torch.dtype, device: torch.device
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """(parameters, buffers) of ``modules`` stacked along a new first axis; float tensors cast to ``dtype``."""
    states = [m.state_dict() for m in modules]
    names = list(states[0])
    param_names = {name for name, _ in modules[0].named_parameters()}
    params, buffers = {}, {}
    for name in names:
        stacked = torch.stack([s[name].detach() for s in states]).to(device)
        if stacked.is_floating_point():
            stacked = stacked.to(dtype)
        (params if name in param_names else buffers)[name] = stacked
    return params, buffers


def hashed_dropout_keep(
    keys: Tensor, step: int, layer: int, shape: tuple[int, int], p: float, *, dtype: torch.dtype | None = None
) -> Tensor:
    """(K, N, d) mask of ``dtype`` (default: torch's), 0 for dropped and ``1/(1-p)`` for kept elements, from a
    counter hash.

    ``keys`` (K,) int64 in [0, 2^31). Element (n, j) of member k at ``step`` and ``layer`` is kept when
    ``hash(k, step, layer, n*d + j) / 2^31 >= p``; the hash mixes with multiply-xorshift rounds kept in
    31 bits (no integer overflow), the same on every device.
    """
    n, d = shape
    index = torch.arange(n * d, device=keys.device, dtype=torch.int64)
    x = (index.unsqueeze(0) * 0x9E37 + keys.unsqueeze(1) * 0x85EB + (step % 1_000_003) * 0xC2B3 + layer * 0x27D5) & _M31
    for multiplier in (0x2C1B3C6D, 0x297A2D39, 0x1B873593):
        x = x ^ (x >> 15)
        x = (x * multiplier) & _M31
    x = x ^ (x >> 16)
    keep = (x.to(torch.float64) * (1.0 / 2**31)) >= p
    return keep.view(keys.numel(), n, d).to(dtype or torch.get_default_dtype()) / (1.0 - p)


def _linear(h: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """:math:`h_k W_k^\top + b_k` for every member k: h (K, N, i), weight (K, o, i), bias (K, o) -> (K, N, o)."""
    return torch.baddbmm(bias.unsqueeze(1), h, weight.transpose(1, 2))


class _BatchGraph:
    """What every layer of one forward pass shares: edge endpoints and, per architecture, normalisers."""

    def __init__(self, edge_index: Tensor, num_nodes: int, arch: str, dtype: torch.dtype) -> None:
        device = edge_index.device
        self.src, self.dst = edge_index[0], edge_index[1]
        if arch == "gat":
            loops = torch.arange(num_nodes, device=device)
            self.src_loops, self.dst_loops = torch.cat([self.src, loops]), torch.cat([self.dst, loops])
        if arch in ("gcn", "graphsage"):
            # in-degree counting the self-loop
            deg = torch.ones(num_nodes, dtype=dtype, device=device).index_add_(
                0, self.dst, torch.ones_like(self.dst, dtype=dtype)
            )
            if arch == "gcn":
                inv_sqrt = deg.pow(-0.5)
                self.edge_norm = (inv_sqrt.index_select(0, self.dst) * inv_sqrt.index_select(0, self.src)).view(
                    1, -1, 1
                )
                self.self_norm = (inv_sqrt * inv_sqrt).view(1, -1, 1)
            else:
                self.inv_count = (1.0 / deg).view(1, -1, 1)


def stack_members(
    encoders: Sequence[nn.Module], dtype: torch.dtype, device: torch.device
) -> tuple[StackedEncoder, dict[str, Tensor]]:
    """The K members as a :class:`StackedEncoder` (holding their stacked buffers) and their stacked parameters.

    The parameters are returned, not kept: the caller stores them (in a
    :class:`~gtransfer.training.packed.flat.FlatParameters`) and passes views of them to every forward.

    Raises:
        ValueError: no members, a member that is not a GNNEncoder, or configs that differ (the message
            names the first differing field).
    """
    if not encoders:
        raise ValueError("StackedEncoder needs at least one encoder")
    for i, enc in enumerate(encoders):
        if not isinstance(enc, GNNEncoder):
            raise ValueError(f"packed training runs GNNEncoder members; member {i} is {type(enc).__name__}")
    config: dict[str, Any] = dict(encoders[0].config)
    for i, enc in enumerate(encoders[1:], start=1):
        for key, value in config.items():
            if enc.config[key] != value:
                raise ValueError(
                    f"members of a pack share one architecture; member {i} has {key}={enc.config[key]!r}, member 0 "
                    f"{value!r}"
                )
    params, buffers = stack_state_dicts(encoders, dtype, device)
    return StackedEncoder(config, encoders[0].embedding_dim, buffers, dtype, device), params


class StackedEncoder:
    """K encoders of one configuration, stacked (see the module docstring); made by :func:`stack_members`.

    Args:
        config: the members' common ``GNNEncoder.config``.
        embedding_dim: their embedding width.
        buffers: stacked batch-norm buffers by state-dict name, (K, ...) each.
        dtype, device: of the stacked tensors.
    """

    def __init__(self, config: dict[str, Any], embedding_dim: int, buffers: dict[str, Tensor], dtype: torch.dtype,
                 device: torch.device) -> None:
        self.config, self.embedding_dim, self.buffers = config, embedding_dim, buffers
        self.arch, self.layers, self.dim = config["arch"], config["num_layers"], config["hidden_dim"]
        self.heads, self.jk, self.pooling = config["heads"], config["jk"], config["pooling"]
        self.dropout = float(config["dropout"])
        node_features, edge_features = config["node_features"], config["edge_features"]
        self.node_spec = molecule_specs(node_features)[0] if isinstance(node_features, str) else None
        self.edge_spec = molecule_specs(edge_features)[1] if isinstance(edge_features, str) else None
        self.has_edges = edge_features is not None
        self.dtype, self.device = dtype, torch.device(device)
        self._mask_key: tuple[bool, ...] | None = None
        self._mask_value: Tensor | None = None

    def set_buffers(self, buffers: dict[str, Tensor]) -> None:
        """Replace the stacked buffers (after members left the pack, or with the best epochs' ones)."""
        self.buffers = buffers
        self._mask_key = None

    # -- inputs -------------------------------------------------------------------------------------
    def check_inputs(self, x: Tensor, edge_attr: Tensor | None, where: str) -> None:
        """Refuse integer features outside the members' vocabularies once, before training starts."""
        for spec, values, what in ((self.node_spec, x, "node"), (self.edge_spec, edge_attr, "edge")):
            if spec is None or values is None or values.numel() == 0:
                continue
            if values.is_floating_point() or values.dim() != 2 or values.size(1) != len(spec.cardinalities):
                raise ValueError(
                    f"{where}: {what} features must be (rows, {len(spec.cardinalities)}) integers for this encoder, "
                    "got "
                    f"{values.dtype} {tuple(values.shape)} (wrong featurizer?)"
                )
            low, high = values.min(0).values.tolist(), values.max(0).values.tolist()
            for column, (size, fallback) in enumerate(zip(spec.cardinalities, spec.fallback)):
                if low[column] < 0 or (fallback is None and high[column] >= size):
                    raise ValueError(
                        f"{where}: {what} feature column {column} holds indices {low[column]}..{high[column]}, "
                        f"outside the encoder's vocabulary 0..{size - 1} (wrong featurizer?)"
                    )

    def _categorical(self, p: dict[str, Tensor], prefix: str, spec: Any, values: Tensor) -> Tensor:
        out = None
        for column, (size, fallback) in enumerate(zip(spec.cardinalities, spec.fallback)):
            index = values[:, column]
            if fallback is not None:
                index = torch.where(index >= size, torch.full_like(index, fallback), index)
            rows = p[f"{prefix}.embeddings.{column}.weight"].index_select(1, index)
            out = rows if out is None else out + rows
        return out

    def _node_input(self, p: dict[str, Tensor], x: Tensor) -> Tensor:
        if self.node_spec is not None:
            return self._categorical(p, "node_encoder", self.node_spec, x)
        weight = p["node_encoder.linear.weight"]
        return _linear(
            x.to(weight.dtype).unsqueeze(0).expand(weight.size(0), -1, -1), weight, p["node_encoder.linear.bias"]
        )

    def _edge_embeddings(
        self, p: dict[str, Tensor], layer: int, edge_attr: Tensor | None
    ) -> tuple[Tensor, Tensor] | None:
        """((K, E, width) edge embeddings, (K, 1, width) self-loop embedding) of a layer, or None without edge
        features."""
        if not self.has_edges:
            return None
        prefix = f"convs.{layer}.edge_encoder"
        if self.edge_spec is not None:
            loop_attr = torch.tensor([self.edge_spec.self_loop], dtype=torch.long, device=edge_attr.device)
            return self._categorical(p, prefix, self.edge_spec, edge_attr), self._categorical(
                p, prefix, self.edge_spec, loop_attr
            )
        weight = p[f"{prefix}.linear.weight"]
        attr = edge_attr.unsqueeze(-1) if edge_attr.dim() == 1 else edge_attr
        edges = _linear(
            attr.to(weight.dtype).unsqueeze(0).expand(weight.size(0), -1, -1), weight, p[f"{prefix}.linear.bias"]
        )
        return edges, p[f"{prefix}.self_loop_vector"].unsqueeze(1)

    # -- layers -------------------------------------------------------------------------------------
    # Every layer adds a self-loop to each node (models/convs.py). The loops are not materialised as
    # edges: a node's own term is added to the aggregate of its in-edges, which is the same sum.
    def _conv(
        self, p: dict[str, Tensor], layer: int, h: Tensor, graph: _BatchGraph, edges: tuple[Tensor, Tensor] | None
    ) -> Tensor:
        prefix = f"convs.{layer}"
        if self.arch == "gin":
            msg = h.index_select(1, graph.src)
            own = h
            if edges is not None:
                msg, own = msg + edges[0], h + edges[1]
            agg = own.index_add(1, graph.dst, msg)
            hidden = F.relu(_linear(agg, p[f"{prefix}.mlp.0.weight"], p[f"{prefix}.mlp.0.bias"]))
            return _linear(hidden, p[f"{prefix}.mlp.2.weight"], p[f"{prefix}.mlp.2.bias"].detach())
        if self.arch in ("gcn", "graphsage"):
            hl = _linear(h, p[f"{prefix}.linear.weight"], p[f"{prefix}.linear.bias"])
            msg = hl.index_select(1, graph.src)
            own = hl
            if edges is not None:
                msg, own = msg + edges[0], hl + edges[1]
            if self.arch == "gcn":
                return (own * graph.self_norm).index_add(1, graph.dst, msg * graph.edge_norm)
            return F.normalize(own.index_add(1, graph.dst, msg) * graph.inv_count, p=2, dim=-1)
        return self._gat(p, layer, h, graph, edges)

    def _gat(
        self, p: dict[str, Tensor], layer: int, h: Tensor, graph: _BatchGraph, edges: tuple[Tensor, Tensor] | None
    ) -> Tensor:
        prefix = f"convs.{layer}"
        k, n, heads, dim = h.size(0), h.size(1), self.heads, self.dim
        hw = _linear(h, p[f"{prefix}.weight_linear.weight"], p[f"{prefix}.weight_linear.bias"]).view(k, n, heads, dim)
        msg = hw.index_select(1, graph.src_loops)
        if edges is not None:
            msg = msg + torch.cat([edges[0], edges[1].expand(-1, n, -1)], dim=1).view(k, -1, heads, dim)
        att = p[f"{prefix}.att"][:, 0]  # (K, H, 2d)
        score_i = torch.einsum("knhd,khd->knh", hw, att[..., :dim])
        score = F.leaky_relu(
            score_i.index_select(1, graph.dst_loops) + torch.einsum("kehd,khd->keh", msg, att[..., dim:]), 0.2
        )
        alpha = softmax(score, graph.dst_loops, num_nodes=n, dim=1)
        out = torch.zeros_like(hw).index_add_(1, graph.dst_loops, alpha.unsqueeze(-1) * msg)
        return out.mean(dim=2) + p[f"{prefix}.bias"].detach().unsqueeze(1)

    def _batch_norm(
        self, p: dict[str, Tensor], layer: int, h: Tensor, training: Tensor | None, all_training: bool
    ) -> Tensor:
        b, prefix = self.buffers, f"batch_norms.{layer}"
        weight, bias = p[f"{prefix}.weight"].unsqueeze(1), p[f"{prefix}.bias"].unsqueeze(1)
        running_mean, running_var = b[f"{prefix}.running_mean"], b[f"{prefix}.running_var"]

        def normalise(mean: Tensor, var: Tensor) -> Tensor:
            return (h - mean.unsqueeze(1)) * torch.rsqrt(var.unsqueeze(1) + _BN_EPS) * weight + bias

        if training is None:
            return normalise(running_mean, running_var)
        n = h.size(1)
        if n < 2:
            raise ValueError(
                "batch norm in training mode needs more than one node per batch (a batch of one single-atom graph?)"
            )
        mean, var = h.mean(dim=1), h.var(dim=1, unbiased=False)
        with torch.no_grad():
            keep = training.unsqueeze(1)
            new_mean = (1 - _BN_MOMENTUM) * running_mean + _BN_MOMENTUM * mean
            new_var = (1 - _BN_MOMENTUM) * running_var + _BN_MOMENTUM * var * (n / (n - 1))
            running_mean.copy_(torch.where(keep, new_mean, running_mean))
            running_var.copy_(torch.where(keep, new_var, running_var))
            b[f"{prefix}.num_batches_tracked"].add_(training.to(torch.int64))
        trained = normalise(mean, var)
        if all_training:
            return trained
        return torch.where(training.view(-1, 1, 1), trained, normalise(running_mean.detach(), running_var.detach()))

    def _mask(self, training: Sequence[bool]) -> Tensor:
        key = tuple(bool(t) for t in training)
        if self._mask_key != key:
            self._mask_key, self._mask_value = key, torch.tensor(key, device=self.device)
        return self._mask_value

    # -- the whole encoder ------------------------------------------------------------------------------
    def embed(
        self,
        params: dict[str, Tensor],
        x: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor | None,
        batch: Tensor,
        num_graphs: int,
        *,
        training: Sequence[bool] | None = None,
        dropout_keys: Tensor | None = None,
        step: int = 0,
        level: str = "graph",
    ) -> Tensor:
        """(K, B, embedding_dim) graph embeddings (``level="node"``: (K, N, embedding_dim)).

        Args:
            params: the stacked parameters by state-dict name (views of a
                :class:`~gtransfer.training.packed.flat.FlatParameters`).
            training: per member, whether its encoder runs in training mode (batch statistics,
                dropout, running-statistics updates); ``None``: all in evaluation mode.
            dropout_keys: (K,) int64 dropout keys (needed when a member trains and dropout > 0).
            step: the training step, an input of the dropout hash.
        """
        graph = _BatchGraph(edge_index, x.size(0), self.arch, self.dtype)
        any_training = training is not None and any(training)
        all_training = any_training and all(training)
        training_mask = self._mask(training) if any_training else None
        h = self._node_input(params, x)
        outputs = [h]
        for layer in range(self.layers):
            h = self._conv(params, layer, h, graph, self._edge_embeddings(params, layer, edge_attr))
            h = self._batch_norm(params, layer, h, training_mask, all_training)
            if layer < self.layers - 1:
                h = F.relu(h)
            if any_training and self.dropout > 0:
                keep = hashed_dropout_keep(
                    dropout_keys, step, layer, (h.size(1), h.size(2)), self.dropout, dtype=h.dtype
                )
                if not all_training:
                    keep = torch.where(training_mask.view(-1, 1, 1), keep, torch.ones_like(keep))
                h = h * keep
            outputs.append(h)
        if self.jk == "last":
            nodes = outputs[-1]
        elif self.jk == "concat":
            nodes = torch.cat(outputs, dim=-1)
        else:
            stacked = torch.stack(outputs, dim=0)
            nodes = stacked.max(dim=0).values if self.jk == "max" else stacked.sum(dim=0)
        if level == "node":
            return nodes
        if self.pooling == "max":
            return scatter(nodes, batch, dim=1, dim_size=num_graphs, reduce="max")
        pooled = nodes.new_zeros(nodes.size(0), num_graphs, nodes.size(2)).index_add_(1, batch, nodes)
        if self.pooling == "mean":
            counts = torch.zeros(num_graphs, dtype=nodes.dtype, device=nodes.device).index_add_(
                0, batch, torch.ones_like(batch, dtype=nodes.dtype)
            )
            pooled = pooled / counts.clamp(min=1).view(1, -1, 1)
        return pooled

    # -- members out ----------------------------------------------------------------------------------
    def member_encoder(self, params: dict[str, Tensor], buffers: dict[str, Tensor], k: int) -> GNNEncoder:
        """Member ``k`` of stacked ``params``/``buffers`` as a standalone :class:`GNNEncoder` (stacked dtype and
        device)."""
        state = {
            name: t[k].detach().clone() for name, t in {**params, **buffers}.items() if not name.startswith("head.")
        }
        encoder = build_encoder(self.config).to(device=self.device, dtype=self.dtype)
        encoder.load_state_dict(state)
        return encoder
