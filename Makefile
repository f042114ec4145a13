# Two commands on a fresh machine: `make demo` and `make test`. Both create or reuse .venv here.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The CPU build of torch. Machines with the public index can add
# TORCH_INDEX=--index-url=https://download.pytorch.org/whl/cpu to be sure no CUDA build is pulled.
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=

.PHONY: demo demo-digits test test-experiments test-fast lint bench clean-venv dgl-env test-dgl

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and pinned: an unpinned dependency would pull a multi-GB CUDA build.
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q $(TORCH_INDEX) "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[dev]"
	# the Ray engine is an optional extra; without it its test is skipped with a reason
	$(PY) -m pip install -q "ray[default]>=2.9" || echo "ray could not be installed: the Ray engine test will be skipped"
	touch $@

# The main job: rank the nine published encoders and three zoo encoders on BACE (all shipped in
# datasets/), then check the ranking against fine-tuning.
demo: $(VENV)/.installed
	$(VENV)/bin/gtransfer demo --quick

# The metric core alone, on scikit-learn's digits (about a minute).
demo-digits: $(VENV)/.installed
	$(VENV)/bin/gtransfer demo --digits

# The README's test command: the lint (ruff at 120 columns, then mypy; see docs/style.md), then every test but the
# experiment-scale checks, with the package's docstring examples as doctests (pyproject's pytest addopts)
# (under 10 minutes on a 2-core machine).
test: lint
	$(PY) -m pytest -q -m "not experiment"

# The experiment-scale checks (a pretrained encoder's fine-tuning margin over random weights: about 8 minutes).
# CI runs them after `make test`.
test-experiments: $(VENV)/.installed
	$(PY) -m pytest -q -m experiment

# The edit-test loop: every test not marked slow (the slow ones train models or run whole sweeps).
test-fast: $(VENV)/.installed
	$(PY) -m pytest -q -m "not slow and not experiment"

# ruff (120 columns), then mypy on the typed core: metrics, io, evaluation and the service layer ([tool.mypy] files)
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: $(VENV)/.installed
	$(PY) -m gtransfer.bench metrics --n 50000 --d 2048 --classes 100

clean-venv:
	rm -rf $(VENV) $(DGL_VENV)

# DGL interoperability (optional): DGL 2.1.0, the newest DGL wheel for Python 3.11, has builds for
# torch 2.0-2.2 only (its GraphBolt library exists for torch 2.2.0 and 2.2.1, not 2.2.2), so it gets
# an environment of its own. From PyPI torch 2.2.1 is a CUDA build (about 5 GB in the venv; it runs
# on the CPU); with the public PyTorch index, DGL_TORCH_INDEX=--index-url=https://download.pytorch.org/whl/cpu
# takes the 200 MB CPU build instead.
DGL_VENV := .venv-dgl
DGL_PY := $(DGL_VENV)/bin/python
DGL_TORCH_SPEC ?= torch==2.2.1
DGL_SPEC ?= dgl==2.1.0
DGL_TORCHDATA_SPEC ?= torchdata==0.7.1
DGL_NUMPY_SPEC ?= numpy<2
DGL_TORCH_INDEX ?=

$(DGL_VENV)/.installed: pyproject.toml
	test -x $(DGL_PY) || $(PYTHON) -m venv $(DGL_VENV)
	$(DGL_PY) -m pip install -q --upgrade pip
	# the pins hold for every later pip install into this venv (its own pip.conf names them), so
	# nothing can upgrade torch or numpy behind DGL's back
	printf '%s\n' "$(DGL_TORCH_SPEC)" "$(DGL_NUMPY_SPEC)" "$(DGL_SPEC)" "$(DGL_TORCHDATA_SPEC)" > $(DGL_VENV)/constraints.txt
	printf '[global]\nconstraint = %s\n' "$(abspath $(DGL_VENV))/constraints.txt" > $(DGL_VENV)/pip.conf
	$(DGL_PY) -m pip install -q $(DGL_TORCH_INDEX) -c $(DGL_VENV)/constraints.txt "$(DGL_TORCH_SPEC)" "$(DGL_NUMPY_SPEC)"
	# dgl, torchdata and DGL's own unlisted requirements (pandas, pyyaml, pydantic) come with the extra
	$(DGL_PY) -m pip install -q -c $(DGL_VENV)/constraints.txt -e ".[dev,dgl]"
	$(DGL_PY) -c "import dgl, torch; print('DGL environment:', 'dgl', dgl.__version__, 'torch', torch.__version__)"
	touch $@

dgl-env: $(DGL_VENV)/.installed

# The DGL tests, in the DGL environment (`make test` skips them, with the reason, where DGL is absent).
test-dgl: dgl-env
	$(DGL_PY) -m pytest -q tests/models/test_dgl.py tests/models/test_dgl_missing.py
