#!/usr/bin/env bash
# This session's torch benchmarks, one after another (2 cores: never two torch jobs at once).
# Waits for a running job first when given its pid. CritExam__Ed (85k rows) and mp (57k) are
# cut to 25k rows for the uncertainty benchmark, stratified by chemical family.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
if [ $# -gt 0 ]; then while kill -0 "$1" 2>/dev/null; do sleep 20; done; fi
$PY bench/multitask.py --datasets aflow --variants grouped_transfer uncertainty per_task uncertainty_per_task grouped_transfer_per_task > bench/logs/multitask_aflow.log 2>&1
$PY bench/uncertainty.py --datasets crabnet:CritExam__Ed --max-rows 25000 > bench/logs/uncertainty_critexam.log 2>&1
$PY bench/uncertainty.py --datasets mp --max-rows 25000 > bench/logs/uncertainty_mp.log 2>&1
