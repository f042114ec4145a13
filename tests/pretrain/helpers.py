"""What the pretraining tests share: one tiny context-prediction pretraining (40 ZINC molecules, a 2-layer GIN of
width 16), the same wherever a test needs a real checkpoint or the reference a design's own pretraining must equal."""

from __future__ import annotations

import os

from gtransfer.pretrain import pretrain_encoder

#: the tiny pretraining's corpus and encoder (pretrain_encoder's keywords)
TINY = {"corpus": "zinc250k-jtnn-valid", "limit": 40, "num_layers": 2, "hidden_dim": 16, "batch_size": 8}


def pretrain_tiny(path: str | os.PathLike, root: str | os.PathLike, *, epochs: int) -> None:
    """Pretrain :data:`TINY` with context prediction for ``epochs`` epochs (seed 0, CPU) into ``path``."""
    pretrain_encoder(path, "contextpred", epochs=epochs, seed=0, root=root, device="cpu", progress=False, **TINY)
