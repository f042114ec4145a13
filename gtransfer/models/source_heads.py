"""Source heads: the classifier a source model was trained with, stored beside its encoder.

NCE (Tran et al. 2019) and LEEP (Nguyen et al. 2020) score a *source model* -- encoder and the head
it was trained with on a source task -- by its predictions on the target's inputs. Both source zoos,
graph (:mod:`gtransfer.pretrain.source_zoo`) and image (:mod:`gtransfer.vision.zoo`), store that head in
one format, written by :func:`source_head_entries` and read by :func:`read_source_head`: the checkpoint's
state dict holds ``source_head.weight`` (K, D) and ``source_head.bias`` (K,) beside the encoder's tensors,
and its metadata has a ``source_head`` section: ``kind`` (``multiclass`` or ``multilabel``), ``labels``
(the K class or task names), ``task`` (the source task) and ``input`` (what the encoder reads: molecule
features, a TU dataset's float features, or an image shape). The head is linear on the encoder's
(pooled) embedding, so its outputs on a target are ``features @ W.T + b`` of the target's (cached)
embeddings -- no second pass through the encoder.

Vision zoo checkpoints written before this format (``gtransfer-vision-source/1``: ``head.weight`` /
``head.bias`` and the class names in ``source_class_names``) are migrated on read: the same tensors and
names, so the same theta.

The source-label distribution theta (n, Z) that NCE and LEEP read (docs/design.md, "Source heads"):

* multiclass head, K classes: ``theta = softmax(logits)``, Z = K (the paper's definition);
* multilabel head, T binary tasks with logits l_t (sigmoid p_t): the 2^T joint labels are too many to
  estimate P(y | z) from a target's few hundred samples, so theta is the model's own independent-Bernoulli
  joint restricted to the T + 1 outcomes with at most one positive task -- "no task positive" and "only
  task t positive": P(none) is proportional to prod_t (1 - p_t) and P(only t) to p_t prod_{s != t} (1 - p_s);
  dividing by prod_t (1 - p_t) gives ``theta = softmax([0, l_1, ..., l_T])``, Z = T + 1. For T = 1 this is
  exactly the binary head's [1 - p, p]; NCE's hard label is "none" when every l_t < 0, else argmax_t l_t.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = ["SOURCE_HEAD_PREFIX", "SourceHead", "read_source_head", "source_head_of", "source_head_entries"]

#: state-dict prefix of the head's tensors in a source checkpoint
SOURCE_HEAD_PREFIX = "source_head."
HEAD_KINDS = ("multiclass", "multilabel")
#: the vision zoo's format before the one source-head format: ``head.weight``/``head.bias``, ``source_class_names``
LEGACY_VISION_FORMAT = "gtransfer-vision-source/1"


@dataclass(frozen=True)
class SourceHead:
    """A linear source classifier on an encoder's graph embeddings.

    Attributes:
        weight: (K, D) float64; bias: (K,) float64.
        kind: ``"multiclass"`` (K classes, softmax) or ``"multilabel"`` (K binary tasks, sigmoids).
        labels: the K class or task names.
        task: the source task (e.g. ``ENZYMES:k=3,ratio=1,seed=0`` or ``ogbg-moltox21``).
        input: what the encoder reads: ``{"kind": "molecule", "featurizer": ...}``,
            ``{"kind": "float", "dataset": ..., "node_features": width}`` or
            ``{"kind": "image", "input_shape": [C, H, W]}``.
        origin: the checkpoint the head was read from (for messages and reports).
    """

    weight: np.ndarray
    bias: np.ndarray
    kind: str
    labels: tuple[str, ...]
    task: str
    input: dict[str, Any] = field(default_factory=dict)
    origin: str = ""

    def __post_init__(self) -> None:
        if self.kind not in HEAD_KINDS:
            raise ValueError(f"{self.origin}: source head kind must be one of {HEAD_KINDS}, got {self.kind!r}")
        if (
            self.weight.ndim != 2
            or self.bias.shape != (self.weight.shape[0],)
            or len(self.labels) != self.weight.shape[0]
        ):
            raise ValueError(
                f"{self.origin}: source head of shape {self.weight.shape} / {self.bias.shape} does not match "
                f"its {len(self.labels)} labels"
            )
        if self.kind == "multiclass" and self.weight.shape[0] < 2:
            raise ValueError(f"{self.origin}: a multiclass source head needs at least 2 classes")

    @property
    def num_source_labels(self) -> int:
        """Z, the number of source labels theta ranges over (K classes, or T + 1 for T binary tasks)."""
        return self.weight.shape[0] + (1 if self.kind == "multilabel" else 0)

    def describe(self) -> str:
        """One line for reports: which head, trained on what, over which source labels."""
        how = (
            "softmax"
            if self.kind == "multiclass"
            else f"softmax([0, logits]) over none + {self.weight.shape[0]} task(s)"
        )
        return f"source head: {self.origin} (trained on {self.task}; {self.kind}, Z={self.num_source_labels}, {how})"

    def logits(self, features: np.ndarray) -> np.ndarray:
        """(n, K) head outputs on (n, D) graph embeddings of the encoder the head belongs to."""
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2 or features.shape[1] != self.weight.shape[1]:
            raise ValueError(
                f"{self.origin}: the source head reads ({self.weight.shape[1]},)-wide embeddings, got {features.shape}"
            )
        return features @ self.weight.T + self.bias

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """theta (n, Z), row-stochastic, float64 (see the module docstring)."""
        logits = self.logits(features)
        if self.kind == "multilabel":
            logits = np.hstack([np.zeros((logits.shape[0], 1)), logits])
        logits = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        return probs / probs.sum(axis=1, keepdims=True)

    def check_input(self, dataset: str, node_input: str | int) -> None:
        """Refuse a target whose inputs the source model was not trained on.

        Args:
            dataset: the target's dataset name. node_input: its node input (a featuriser name for
                molecules, the float feature width otherwise).
        """
        kind = self.input.get("kind")
        if kind == "molecule":
            if node_input != self.input.get("featurizer"):
                raise ValueError(
                    f"{self.origin}: the source model reads {self.input.get('featurizer')} molecule features; "
                    f"target {dataset} gives {node_input!r}: its source head cannot score this target"
                )
            return
        if kind == "float":
            if dataset != self.input.get("dataset") or node_input != self.input.get("node_features"):
                raise ValueError(f"{self.origin}: the source model reads {self.input.get('dataset')} graphs "
                                 f"({self.input.get('node_features')} float node features); target {dataset} "
                                 f"({node_input} features) has other inputs, so its source head cannot score it "
                                 "(NCE/LEEP need the source model applied to the target's own inputs)")
            return
        if kind == "image":
            raise ValueError(f"{self.origin}: the source model reads images of shape {self.input.get('input_shape')}; "
                             f"graph target {dataset} cannot be scored by its source head")
        raise ValueError(f"{self.origin}: source head metadata has no valid 'input' section: {self.input!r}")


def source_head_entries(weight: torch.Tensor, bias: torch.Tensor, *, kind: str, labels: Sequence[str], task: str,
                        input: Mapping[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The state-dict entries and the metadata ``source_head`` section that store a source head.

    Args:
        weight, bias: the trained linear head, (K, D) and (K,).
        kind, labels, task, input: as :class:`SourceHead` (checked the same way).

    Returns:
        ``({"source_head.weight": ..., "source_head.bias": ...}, section)``: add the first to the checkpoint's
        state dict and put the second under its metadata's ``"source_head"``.
    """
    weight, bias = weight.detach().cpu().clone(), bias.detach().cpu().clone()
    names, inputs = [str(label) for label in labels], dict(input)
    SourceHead(weight.double().numpy(), bias.double().numpy(), kind, tuple(names), task, inputs)  # the checks
    section: dict[str, Any] = {"kind": kind, "labels": names, "task": task, "input": inputs}
    return {SOURCE_HEAD_PREFIX + "weight": weight, SOURCE_HEAD_PREFIX + "bias": bias}, section


def source_head_of(state: Mapping[str, torch.Tensor], metadata: Mapping[str, Any],
                   *, origin: str = "") -> SourceHead | None:
    """The source head of a checkpoint's ``(state, metadata)``, or None when it has none.

    A vision zoo checkpoint of the earlier layout (:data:`LEGACY_VISION_FORMAT`) is migrated: its ``head.*``
    tensors and ``source_class_names`` become a multiclass head over those classes.

    Raises:
        ValueError: a ``source_head`` section (or a legacy vision checkpoint) without its tensors.
    """
    section = metadata.get("source_head")
    prefix = SOURCE_HEAD_PREFIX
    if section is None and metadata.get("format") == LEGACY_VISION_FORMAT:
        prefix = "head."
        section = {"kind": "multiclass", "labels": list(metadata.get("source_class_names", ())),
                   "task": str(metadata.get("source_task", {}).get("name", "?")),
                   "input": {"kind": "image", "input_shape": list(metadata.get("input_shape", ()))}}
    if section is None:
        return None
    try:
        weight, bias = state[prefix + "weight"], state[prefix + "bias"]
    except KeyError:
        raise ValueError(f"{origin}: metadata describes a source head but the state dict has no "
                         f"{prefix}weight/bias tensors") from None
    return SourceHead(
        weight=weight.double().numpy(), bias=bias.double().numpy(), kind=str(section.get("kind")),
        labels=tuple(str(label) for label in section.get("labels", ())), task=str(section.get("task", "?")),
        input=dict(section.get("input", {})), origin=origin,
    )


def read_source_head(path: str | os.PathLike) -> SourceHead | None:
    """The source head stored in the checkpoint at ``path`` (:func:`source_head_of`), or None when it has none.

    Raises:
        FileNotFoundError, ValueError: as :func:`gtransfer.io.checkpoints.read_checkpoint`; a
            ``source_head`` section without its tensors.
    """
    from gtransfer.io.checkpoints import read_checkpoint

    ckpt = read_checkpoint(path)
    return source_head_of(ckpt["state_dict"], ckpt["metadata"], origin=os.path.basename(os.fspath(path)))
