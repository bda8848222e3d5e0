#!/usr/bin/env bash
# The uncertainty benchmarks of issue 7, one after another (2 cores: never two torch jobs at
# once). CritExam__Ed (85k rows) is cut to 25k rows, stratified by chemical family.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
$PY bench/uncertainty.py --datasets aflow > bench/logs/uncertainty_aflow.log 2>&1
$PY bench/uncertainty.py --datasets crabnet:CritExam__Ed --max-rows 25000 > bench/logs/uncertainty_critexam.log 2>&1
$PY bench/uncertainty.py --datasets mp > bench/logs/uncertainty_mp.log 2>&1
