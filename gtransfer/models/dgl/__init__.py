"""DGL interoperability (optional extra): graph conversion, an encoder adapter, GIN/GCN examples.

Importing this package imports DGL; without a working DGL it raises
:class:`~gtransfer.models.dgl_requirement.MissingDGLError`, which says how to install the extra.
``import gtransfer`` itself never imports DGL.

* :func:`pyg_to_dgl`, :func:`dgl_to_pyg`: PyG ``Data``/``Batch`` <-> (batched) ``dgl.DGLGraph``.
* :class:`DGLEncoder`: any DGL module ``module(graph, x[, e]) -> (N, D)`` as a gtransfer encoder;
  :func:`build_dgl_encoder`, :func:`save_dgl_encoder`, :func:`load_dgl_encoder` make, write and reopen
  it (and :func:`gtransfer.models.load_encoder` reopens it too, so ``gtransfer rank``/``embed``/
  ``finetune`` and study sweeps take the checkpoint path like any encoder).
* :class:`DGLGIN`, :class:`DGLGCN`: examples from ``dgl.nn`` layers, builders ``"gin"``/``"gcn"``;
  :func:`copy_pyg_weights` gives them the weights of a PyG GIN/GCN.
"""

from gtransfer.models.dgl_requirement import MissingDGLError, require_dgl

require_dgl()

from gtransfer.models.dgl.builders import (  # noqa: E402
    DGL_BUILDERS,
    build_dgl_encoder,
    load_dgl_encoder,
    register_dgl_builder,
    save_dgl_encoder,
)
from gtransfer.models.dgl.convert import dgl_to_pyg, graph_index, pyg_structure_to_dgl, pyg_to_dgl  # noqa: E402
from gtransfer.models.dgl.encoder import DGLEncoder  # noqa: E402
from gtransfer.models.dgl.examples import DGLGCN, DGLGIN, build_dgl_gcn, build_dgl_gin, copy_pyg_weights  # noqa: E402

__all__ = [
    "MissingDGLError", "pyg_to_dgl", "dgl_to_pyg", "pyg_structure_to_dgl", "graph_index",
    "DGLEncoder", "DGL_BUILDERS", "register_dgl_builder", "build_dgl_encoder", "save_dgl_encoder", "load_dgl_encoder",
    "DGLGIN", "DGLGCN", "build_dgl_gin", "build_dgl_gcn", "copy_pyg_weights",
]
