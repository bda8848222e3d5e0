#!/usr/bin/env bash
# The seven CrabNet sets not yet run, one after another on the 2 CPU cores (never two torch
# jobs at once). Epoch caps and a 100-tree forest keep them inside one session; the four OQMD
# sets (239k train rows) run on a 30k-row train subsample, marked in the table.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
COMMON="--ensemble 2 --rf-trees 100"
$PY bench/crabnet_table.py $COMMON --epochs 80 --patience 20 --sets mp_mu_b
$PY bench/crabnet_table.py $COMMON --epochs 50 --patience 15 --sets CritExam__Ed CritExam__Ef
$PY bench/crabnet_table.py $COMMON --epochs 60 --patience 15 --subsample 30000 \
  --sets OQMD_Bandgap OQMD_Energy_per_atom OQMD_Formation_Enthalpy OQMD_Volume_per_atom
