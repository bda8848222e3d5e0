"""Closed-loop discovery (seed 001, eq. 1): acquisition functions, an ask/tell campaign
engine with a SQLite store that resumes, hidden-label oracles and discovery metrics.

>>> from matlattice.discovery import CampaignSettings, open_campaign, resume_campaign
"""

from matlattice.discovery.acquisition import (
    ACQUISITIONS,
    UCB_ALPHA,
    Acquisition,
    acquisition_named,
    score,
    select_batch,
)
from matlattice.discovery.campaign import Campaign
from matlattice.discovery.methods import parse_method
from matlattice.discovery.metrics import campaign_metrics, discovery_curve, top_set
from matlattice.discovery.multifidelity_campaign import MultiFidelityCampaign
from matlattice.discovery.opening import open_campaign, resume_campaign
from matlattice.discovery.oracles import HiddenLabelOracle
from matlattice.discovery.settings import CampaignSettings

__all__ = [
    "ACQUISITIONS",
    "UCB_ALPHA",
    "Acquisition",
    "Campaign",
    "CampaignSettings",
    "HiddenLabelOracle",
    "MultiFidelityCampaign",
    "acquisition_named",
    "campaign_metrics",
    "discovery_curve",
    "open_campaign",
    "parse_method",
    "resume_campaign",
    "score",
    "select_batch",
    "top_set",
]
