"""Closed-loop discovery (seed 001, eq. 1): acquisition functions, an ask/tell campaign
engine with a SQLite store that resumes, hidden-label oracles and discovery metrics."""

from matlattice.discovery.acquisition import ACQUISITIONS, UCB_ALPHA, score, select_batch
from matlattice.discovery.campaign import Campaign
from matlattice.discovery.metrics import campaign_metrics, discovery_curve, top_set
from matlattice.discovery.oracles import HiddenLabelOracle

__all__ = [
    "ACQUISITIONS",
    "UCB_ALPHA",
    "Campaign",
    "HiddenLabelOracle",
    "campaign_metrics",
    "discovery_curve",
    "score",
    "select_batch",
    "top_set",
]
