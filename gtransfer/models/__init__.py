"""Graph encoders (GIN, GCN, GraphSAGE, GAT) and the published Hu et al. 2020 encoders."""

from gtransfer.models.encoder import GAT, GCN, GIN, GNNEncoder, GraphSAGE, build_encoder
from gtransfer.models.loading import load_encoder
from gtransfer.models.pretrain_gnns import load_pretrain_gnns

__all__ = ["GNNEncoder", "GIN", "GCN", "GraphSAGE", "GAT", "build_encoder", "load_encoder", "load_pretrain_gnns"]
