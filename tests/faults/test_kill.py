"""Kill -9 at seeded random moments of a fit and of a campaign, then resume: the result is
the uninterrupted one, exactly, with nothing lost or told twice. CI runs one point of each;
``python bench/faults.py --points 20`` runs the full count (``bench/results/faults.md``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "faults.py"
spec = importlib.util.spec_from_file_location("bench_faults", BENCH)
faults = importlib.util.module_from_spec(spec)
spec.loader.exec_module(faults)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fit", "campaign"])
def test_a_killed_job_resumes_to_the_uninterrupted_result(tmp_path, kind):
    result = faults.kill_loop(kind, tmp_path, points=1, seed=7)
    assert result["identical"] == result["points"], result["records"]
    assert not any(r["duplicated_results"] for r in result["records"])
