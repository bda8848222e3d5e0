#!/usr/bin/env bash
# The MLP-ensemble surrogate on aflow_bulk_max (warm-started refits), after the other runs.
set -u
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
if [ $# -gt 0 ]; then while kill -0 "$1" 2>/dev/null; do sleep 20; done; fi
.venv/bin/python bench/campaigns.py --tasks aflow_bulk_max --extra-methods "ucb@mlp+warm=30" > bench/logs/campaigns_mlp.log 2>&1
