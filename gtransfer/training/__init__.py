"""Training on a target: fine-tuning (full or linear probe) in one loop for every modality, packed training,
one early-stopping tracker and one evaluation step shared by both loops, batching adapters, linear probes,
and the task metrics of predictions (OGB conventions)."""

from gtransfer.training.finetune import FinetuneResult, TaskSpec, finetune

__all__ = ["finetune", "TaskSpec", "FinetuneResult"]
