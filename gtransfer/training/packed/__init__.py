"""Packed training: K fine-tuning trials of one encoder architecture in one process, on data
collated once onto the device (see :mod:`gtransfer.training.packed.engine`)."""

from gtransfer.training.packed.device_graphs import BatchPlan, DeviceGraphs, GraphBatch
from gtransfer.training.packed.engine import MODES, PackMember, train_pack

__all__ = ["DeviceGraphs", "BatchPlan", "GraphBatch", "PackMember", "train_pack", "MODES"]
