"""Bridges to other graph libraries, each an optional extra.

* :mod:`gtransfer.interop.dgl` -- DGL graphs and encoders (needs the ``dgl`` extra; see the README's
  "DGL interoperability" section). Importing :mod:`gtransfer` or this package never imports DGL.
"""

__all__: list[str] = []
