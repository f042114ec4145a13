"""Supervised multi-task pretraining (Hu et al. 2020, Sec. 3.2): a linear head on the pooled graph
embedding predicts every label of the pretraining set (binary tasks with NaN = missing, masked out;
or one class label per graph)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import Tensor, nn

from gtransfer.models.encoder import GNNEncoder
from gtransfer.pretrain.base import PretrainStrategy
from gtransfer.training.finetune import TaskSpec, task_loss

if TYPE_CHECKING:
    from torch_geometric.data import Batch


class SupervisedMultiTask(PretrainStrategy):
    name = "supervised"

    def __init__(self, encoder: GNNEncoder, num_tasks: int, *, kind: str = "multilabel") -> None:
        super().__init__(encoder)
        self.task = TaskSpec(kind, num_tasks)
        self.head = nn.Linear(encoder.embedding_dim, num_tasks)

    def loss(self, batch: Batch) -> Tensor:
        if getattr(batch, "y", None) is None:
            raise ValueError("SupervisedMultiTask needs labelled graphs (batch.y)")
        loss = task_loss(self.task, self.head(self.encoder.embed(batch)), batch.y)
        if loss is None:  # every label of this batch is missing: contributes nothing
            return self.head.weight.sum() * 0.0
        return loss
