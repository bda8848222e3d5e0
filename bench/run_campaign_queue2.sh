#!/usr/bin/env bash
# Follow-up of run_campaign_queue.sh: the entanglement-guided task, after the others.
set -u
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
if [ $# -gt 0 ]; then while kill -0 "$1" 2>/dev/null; do sleep 20; done; fi
.venv/bin/python bench/campaigns.py --tasks aflow_bulk_entangled > bench/logs/campaigns_entangled.log 2>&1
