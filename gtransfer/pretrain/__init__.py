"""Pretraining strategies (attribute masking, context prediction, edge prediction, Deep Graph Infomax, GraphCL,
supervised multi-task), a resumable runner, and the one entry point :func:`pretrain_encoder`."""

from gtransfer.pretrain.attribute_masking import AttributeMasking
from gtransfer.pretrain.base import PretrainStrategy
from gtransfer.pretrain.context_prediction import ContextPrediction
from gtransfer.pretrain.edge_prediction import EdgePrediction
from gtransfer.pretrain.entry import pretrain_encoder
from gtransfer.pretrain.graphcl import GraphCL
from gtransfer.pretrain.infomax import DeepGraphInfomax
from gtransfer.pretrain.registry import STRATEGIES, make_strategy
from gtransfer.pretrain.runner import pretrain
from gtransfer.pretrain.supervised import SupervisedMultiTask

__all__ = ["PretrainStrategy", "AttributeMasking", "ContextPrediction", "EdgePrediction", "DeepGraphInfomax", "GraphCL",
           "SupervisedMultiTask", "STRATEGIES", "make_strategy", "pretrain", "pretrain_encoder"]
