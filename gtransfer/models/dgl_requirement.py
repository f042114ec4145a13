"""Whether DGL can be used here, and one clear error when it cannot.

Kept outside the :mod:`gtransfer.models.dgl` package (whose import needs DGL) so that code which only needs to
*recognise* a DGL encoder
(for instance :func:`gtransfer.models.load_encoder` meeting a DGL checkpoint) can ask for DGL without
importing the adapter. Nothing here imports DGL at module import time.
"""

from __future__ import annotations

from types import ModuleType

__all__ = ["MissingDGLError", "require_dgl", "SUPPORTED_DGL", "SUPPORTED_TORCH", "INSTALL_HINT"]

#: the DGL release the adapter is tested with (the newest wheel on PyPI for Python 3.11)
SUPPORTED_DGL = "2.1.0"
#: the torch releases DGL 2.1.0 ships compiled GraphBolt libraries for
SUPPORTED_TORCH = ("2.2.0", "2.2.1")
INSTALL_HINT = (
    "build the separate DGL environment with `make dgl-env` (torch==2.2.1, dgl==2.1.0, torchdata==0.7.1, "
    "numpy<2, pandas, pyyaml, pydantic; see the README section 'DGL interoperability') and run gtransfer "
    "from it: .venv-dgl/bin/gtransfer ..."
)


class MissingDGLError(ImportError):
    """DGL is not installed, or is installed but cannot be imported next to this torch."""

    hint = INSTALL_HINT


def _torch_version() -> str:
    try:
        import torch

        return torch.__version__
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return "not installed"


def require_dgl() -> ModuleType:
    """The imported ``dgl`` module.

    Raises:
        MissingDGLError: DGL is absent, or its import fails (typically a torch it has no build for);
            the message names the torch found and how to install the extra.
    """
    try:
        import dgl
    except ModuleNotFoundError as err:
        if err.name not in (None, "dgl"):  # DGL is there but one of its own requirements is not
            raise MissingDGLError(
                f"DGL is installed but its requirement {err.name!r} is missing ({err}); {INSTALL_HINT}"
            ) from err
        raise MissingDGLError(
            f"this needs DGL, an optional extra that is not installed (torch here: {_torch_version()}; "
            f"DGL {SUPPORTED_DGL} supports torch {' or '.join(SUPPORTED_TORCH)} only); {INSTALL_HINT}"
        ) from None
    except Exception as err:  # noqa: BLE001 - DGL raises FileNotFoundError/OSError for a torch it was not built for
        first_line = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise MissingDGLError(
            f"DGL is installed but cannot be imported with torch {_torch_version()} "
            f"(DGL {SUPPORTED_DGL} supports torch {' or '.join(SUPPORTED_TORCH)}): {first_line}; {INSTALL_HINT}"
        ) from err
    return dgl
