#!/usr/bin/env bash
# The discovery benchmark of issue 8, run beside the torch queue on one thread.
set -u
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
PY=.venv/bin/python
$PY bench/campaigns.py > bench/logs/campaigns.log 2>&1
$PY bench/campaigns.py --tasks aflow_bulk_max --extra-methods "ucb@mlp+warm=30" > bench/logs/campaigns_mlp.log 2>&1
$PY bench/campaigns.py --tasks aflow_bulk_entangled > bench/logs/campaigns_entangled.log 2>&1
