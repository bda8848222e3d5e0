"""Closed-loop discovery: acquisition functions (this increment); the campaign engine, store,
oracles and metrics follow."""

from matlattice.discovery.acquisition import ACQUISITIONS, UCB_ALPHA, score, select_batch

__all__ = ["ACQUISITIONS", "UCB_ALPHA", "score", "select_batch"]
