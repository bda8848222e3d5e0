#!/usr/bin/env bash
# Re-summarise mp_ehull_min with the tie-inclusive top set (stored campaigns are reused).
set -u
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
if [ $# -gt 0 ]; then while kill -0 "$1" 2>/dev/null; do sleep 20; done; fi
.venv/bin/python bench/campaigns.py --tasks mp_ehull_min > bench/logs/campaigns_mp.log 2>&1
