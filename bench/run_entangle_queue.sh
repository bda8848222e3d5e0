#!/usr/bin/env bash
# The benchmarks of the entanglement issue, one after another (2 cores: never two torch jobs
# at once). Waits for a running job first when given its pid.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
ML=.venv/bin/matlattice
if [ $# -gt 0 ]; then while kill -0 "$1" 2>/dev/null; do sleep 20; done; fi
$PY bench/multitask.py --datasets aflow --variants grouped_transfer uncertainty > bench/logs/multitask_aflow.log 2>&1
$PY bench/multitask.py --datasets mp --variants grouped_transfer > bench/logs/multitask_mp.log 2>&1
