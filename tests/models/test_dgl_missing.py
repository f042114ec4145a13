"""DGL stays optional: gtransfer imports without it, and every way of reaching the DGL adapter
without a working DGL ends in one clear error saying how to install the extra.

These run in every environment: DGL's absence (or a broken DGL) is simulated in a subprocess, so
they also pass where DGL is installed.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

#: makes `import dgl` fail as if DGL were not installed
BLOCK_DGL = "import sys; sys.modules['dgl'] = None\n"
#: makes `import dgl` fail the way DGL 2.1.0 does next to a torch it has no GraphBolt build for
BROKEN_DGL = textwrap.dedent("""
    import importlib.abc, importlib.machinery, sys
    class _BrokenDGL(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path, target=None):
            return importlib.machinery.ModuleSpec(name, self) if name == "dgl" else None
        def create_module(self, spec):
            return None
        def exec_module(self, module):
            raise FileNotFoundError("Cannot find DGL C++ graphbolt library at .../libgraphbolt_pytorch_2.13.0.so")
    sys.meta_path.insert(0, _BrokenDGL())
""")


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_importing_gtransfer_never_imports_dgl():
    code = textwrap.dedent("""
        import sys
        import gtransfer, gtransfer.metrics, gtransfer.models, gtransfer.training, gtransfer.embeddings.embed
        import gtransfer.selection.ranking, gtransfer.studies.kinds.graph, gtransfer.cli, gtransfer.vision
        from gtransfer.models.dgl_requirement import MissingDGLError
        print(sorted(m for m in sys.modules if m == "dgl" or m.startswith("dgl.")))
    """)
    result = _python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "setup, says",
    [
        (
            BLOCK_DGL,
            r"this needs DGL, an optional extra that is not installed \(torch here: [\w.+]+; "
            r"DGL 2\.1\.0 supports torch 2\.2\.0 or 2\.2\.1 only\)",
        ),
        (
            BROKEN_DGL,
            r"DGL is installed but cannot be imported with torch [\w.+]+ \(DGL 2\.1\.0 supports torch 2\.2\.0 or "
            r"2\.2\.1\): "
            r"Cannot find DGL C\+\+ graphbolt library",
        ),
    ],
)
def test_the_adapter_without_dgl_raises_one_error_with_the_install_recipe(setup, says):
    code = setup + textwrap.dedent("""
        from gtransfer.models.dgl_requirement import MissingDGLError
        try:
            import gtransfer.models.dgl
        except MissingDGLError as err:
            assert isinstance(err, ImportError)
            print(err)
        else:
            print("imported")
    """)
    result = _python(code)
    assert result.returncode == 0, result.stderr
    message = result.stdout.strip()
    assert re.search(says, message), message
    assert "make dgl-env" in message and "dgl==2.1.0" in message and "torch==2.2.1" in message and "numpy<2" in message


def _dgl_checkpoint(path: Path) -> Path:
    """A DGL encoder checkpoint as save_dgl_encoder writes it (made without DGL: only the metadata matters)."""
    import torch

    from gtransfer.io.checkpoints import save_checkpoint

    architecture = {"framework": "dgl", "builder": "gin", "config": {"num_layers": 1, "hidden_dim": 4},
                    "embedding_dim": 4, "featurizer": "hu2020", "pooling": "mean", "edge_features": False}
    return save_checkpoint(path, {"module.batch_norms.0.weight": torch.ones(4)}, {"architecture": architecture})


def test_a_dgl_checkpoint_without_dgl_names_the_extra_in_load_encoder_and_the_cli(tmp_path):
    checkpoint = _dgl_checkpoint(tmp_path / "dgl_gin.pt")
    code = BLOCK_DGL + textwrap.dedent("""
        import sys
        from gtransfer.models.dgl_requirement import MissingDGLError
        from gtransfer.models import load_encoder
        try:
            load_encoder(sys.argv[1])
        except MissingDGLError as err:
            print("load_encoder:", str(err)[:40])
        from gtransfer.cli import main
        sys.exit(main(["rank", "--target", "ogbg-molbace", "--encoders", sys.argv[1], "--no-progress",
                       "--max-samples", "60"]))
    """)
    result = _python(code, str(checkpoint))
    assert result.stdout.startswith("load_encoder: this needs DGL, an optional extra"), result.stdout + result.stderr
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-2].startswith("gtransfer rank: error: this needs DGL, an optional extra that is not installed")
    assert lines[-1].startswith("hint: build the separate DGL environment with `make dgl-env`")
    assert "Traceback" not in result.stderr


def test_a_checkpoint_naming_a_module_function_as_builder_runs_nothing(tmp_path):
    """A checkpoint is a file from outside: ``subprocess:run`` as its builder is refused before any import."""
    import torch

    from gtransfer.io.checkpoints import save_checkpoint
    from gtransfer.models import load_encoder

    marker = tmp_path / "ran"
    architecture = {"framework": "dgl", "builder": "subprocess:run", "config": {"args": ["touch", str(marker)]},
                    "embedding_dim": 4, "featurizer": "hu2020", "pooling": "mean", "edge_features": False}
    path = save_checkpoint(tmp_path / "hostile.pt", {"w": torch.ones(1)}, {"architecture": architecture})
    with pytest.raises(ValueError, match=r"hostile.pt: DGL builder 'subprocess:run' is not a registered builder name"):
        load_encoder(path)
    assert not marker.exists()


def test_the_makefile_builds_the_dgl_environment_with_the_versions_the_error_names():
    from gtransfer.models.dgl_requirement import SUPPORTED_DGL, SUPPORTED_TORCH

    makefile = (REPO / "Makefile").read_text()
    pins = dict(re.findall(r"^(DGL_(?:\w+_)?SPEC) \?= (\S+)$", makefile, flags=re.M))
    assert pins["DGL_SPEC"] == f"dgl=={SUPPORTED_DGL}"
    assert pins["DGL_TORCH_SPEC"].removeprefix("torch==") in SUPPORTED_TORCH
    assert pins["DGL_NUMPY_SPEC"] == "numpy<2" and pins["DGL_TORCHDATA_SPEC"] == "torchdata==0.7.1"
    assert re.search(r"^test-dgl: .*dgl-env", makefile, flags=re.M)
