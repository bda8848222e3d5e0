# matlattice: two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TORCH_PIN := torch==2.13.0

.PHONY: demo test test-fast bench bench-peer lint fetch clean-venv

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: a looser range would pull a multi-GB CUDA build
	$(PY) -m pip install --quiet $(TORCH_PIN)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

fetch: $(STAMP)
	$(VENV)/bin/matlattice data fetch

demo: fetch
	$(VENV)/bin/matlattice demo --out runs/demo

# one worker per core, one thread per worker (tests/conftest.py)
test: fetch
	$(PY) -m pytest -q -n auto --dist worksteal

test-fast: fetch
	$(PY) -m pytest -q -n auto --dist worksteal -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/lint-imports

bench: fetch
	bash bench/peers/setup_matminer.sh
	$(PY) -m pip install --quiet -r bench/peers/requirements-uncertainty.txt
	$(PY) bench/featurize.py
	$(PY) bench/parser_agreement.py

# CrabNet's own code against ours, same sets and epochs (about an hour on one CPU thread)
bench-peer: fetch
	bash bench/peers/setup_crabnet.sh
	OMP_NUM_THREADS=1 $(PY) bench/crabnet_peer.py

clean-venv:
	rm -rf $(VENV)
