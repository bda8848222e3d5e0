"""Case 6 of issue 21: a campaign store takes only finite results, corrects one only when
asked (keeping the old value), takes only valid formulas, and has one writer at a time."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import cli
from matlattice.data.synthetic import COMMON_FORMULAS as FORMULAS
from matlattice.discovery import resume_campaign
from matlattice.discovery.store import CampaignStore


@pytest.fixture
def store(tmp_path):
    pool = tmp_path / "pool.csv"
    pd.DataFrame({"formula": FORMULAS}).to_csv(pool, index=False)
    path = tmp_path / "c.sqlite"
    cli("campaign", "create", path, "--pool", pool, "--target", "gap", "--initial", "4")
    return path


def _tell(tmp_path, store, rows, *extra, ok=True) -> str:
    told = tmp_path / "told.csv"
    pd.DataFrame(rows, columns=["formula", "value"]).to_csv(told, index=False)
    return cli("campaign", "tell", store, told, *extra, ok=ok)


def test_a_correction_is_refused_unless_amended_and_the_old_value_is_kept(store, tmp_path):
    assert "2 new results" in _tell(tmp_path, store, [("NaCl", 5.0), ("KCl", 6.0)])
    assert "0 new results" in _tell(tmp_path, store, [("NaCl", 5.0)])  # a repeat: no change
    refused = _tell(tmp_path, store, [("NaCl", 7.5)], ok=False)
    assert "NaCl" in refused and "--amend" in refused
    said = _tell(tmp_path, store, [("NaCl", 7.5), ("LiF", 1.0)], "--amend")
    assert "1 new results, 1 corrected" in said
    with resume_campaign(store, read_only=True) as campaign:
        values = dict(campaign.results()[["formula", "value"]].to_numpy())
        history = campaign.amendments()
    assert values == {"NaCl": 7.5, "KCl": 6.0, "LiF": 1.0}
    assert history[["formula", "old_value", "new_value"]].to_numpy().tolist() == [
        ["NaCl", 5.0, 7.5]
    ]


@pytest.mark.parametrize("value", ["inf", "-inf", "abc"])
def test_a_value_that_is_not_a_finite_number_is_refused(store, tmp_path, value):
    refused = _tell(tmp_path, store, [("NaCl", value)], ok=False)
    assert "not finite numbers" in refused and "NaCl" in refused
    assert "1 new results" in _tell(tmp_path, store, [("NaCl", 2.0)])  # nothing was stored


def test_a_pool_with_invalid_formulas_is_refused_by_name(tmp_path):
    pool = tmp_path / "pool.csv"
    pd.DataFrame({"formula": ["NaCl", "Xx3", "Fe0O3", "KCl"]}).to_csv(pool, index=False)
    refused = cli(
        "campaign", "create", tmp_path / "c.sqlite", "--pool", pool, "--target", "gap", ok=False
    )
    assert "2 invalid formulas" in refused and "'Xx3'" in refused and "'Fe0O3'" in refused


def test_a_second_writer_is_refused_with_the_pid_and_readers_still_read(store, tmp_path):
    import os

    holder = CampaignStore(store)  # a writer in progress (another process in real life)
    try:
        refused = _tell(tmp_path, store, [("NaCl", 5.0)], ok=False)
        assert f"is in use by PID {os.getpid()}" in refused
        assert "measured 0 of 100" in cli("campaign", "status", store)
    finally:
        holder.close()
    assert "1 new results" in _tell(tmp_path, store, [("NaCl", 5.0)])  # released on close


def test_an_empty_value_is_a_failed_attempt_that_uses_budget_and_is_never_asked_again(
    store, tmp_path
):
    said = _tell(tmp_path, store, [("NaCl", 5.0), ("KCl", None)])
    assert "1 new results, 1 not measurable" in said and "2 of 100" in said
    assert "measured 1 (and 1 not measurable) of 100" in cli("campaign", "status", store)
    with resume_campaign(store) as campaign:
        assert campaign.unmeasurable() == {"KCl"} and campaign.n_spent == 2
    # a value for it now is a correction: refused, then taken with --amend
    said = _tell(tmp_path, store, [("KCl", 3.0)], ok=False)
    assert "KCl" in said and "--amend" in said
    assert "1 new results" in _tell(tmp_path, store, [("KCl", 3.0)], "--amend")
    with resume_campaign(store) as campaign:
        assert campaign.unmeasurable() == set() and campaign.n_measured == 2
    # a measured material cannot be told as not measurable
    said = _tell(tmp_path, store, [("NaCl", None)], ok=False)
    assert "NaCl" in said and "not measurable" in said
