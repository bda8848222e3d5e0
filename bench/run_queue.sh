#!/usr/bin/env bash
# The benchmarks of the learned-embedding issue, one after another (they share 2 cores:
# never run two torch jobs at once, thread oversubscription slows both many times over).
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
MB="--ensemble 2 --jobs 2 --epochs 200 --patience 30"
$PY bench/throughput.py > bench/logs/throughput.log 2>&1
$PY bench/matbench.py --tasks matbench_steels matbench_expt_gap $MB > bench/logs/matbench.log 2>&1
$PY bench/transfer.py --source-rows 60000 --source-epochs 30 --epochs 200 > bench/logs/transfer.log 2>&1
$PY bench/matbench.py --tasks matbench_expt_is_metal matbench_glass $MB >> bench/logs/matbench.log 2>&1
