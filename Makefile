# Two commands on a fresh machine: `make demo` and `make test`. Both create or reuse .venv here.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The CPU build of torch. Machines with the public index can add
# TORCH_INDEX=--index-url=https://download.pytorch.org/whl/cpu to be sure no CUDA build is pulled.
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=

.PHONY: demo demo-digits test bench clean-venv

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
	$(PY) -m gtransfer.demo

test: $(VENV)/.installed
	$(PY) -m pytest -q

bench: $(VENV)/.installed
	$(PY) -m gtransfer.bench metrics --n 50000 --d 2048 --classes 100

clean-venv:
	rm -rf $(VENV)
