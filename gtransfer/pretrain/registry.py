"""Strategy names -> classes."""

from __future__ import annotations

from typing import Any

from gtransfer.models.encoder import GNNEncoder
from gtransfer.pretrain.attribute_masking import AttributeMasking
from gtransfer.pretrain.base import PretrainStrategy
from gtransfer.pretrain.context_prediction import ContextPrediction
from gtransfer.pretrain.edge_prediction import EdgePrediction
from gtransfer.pretrain.graphcl import GraphCL
from gtransfer.pretrain.infomax import DeepGraphInfomax
from gtransfer.pretrain.supervised import SupervisedMultiTask

STRATEGIES: dict[str, type[PretrainStrategy]] = {
    cls.name: cls
    for cls in (AttributeMasking, ContextPrediction, EdgePrediction, DeepGraphInfomax, GraphCL, SupervisedMultiTask)
}


def make_strategy(name: str, encoder: GNNEncoder, **options: Any) -> PretrainStrategy:
    """Build the strategy called ``name`` around ``encoder``."""
    if name not in STRATEGIES:
        raise ValueError(f"unknown pretraining strategy {name!r}; choose one of {sorted(STRATEGIES)}")
    try:
        return STRATEGIES[name](encoder, **options)
    except TypeError as err:
        raise ValueError(f"bad options for strategy {name!r}: {err}") from None
