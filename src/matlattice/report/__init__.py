"""Figures and reports."""

from matlattice.report.parity import save_parity_plot

__all__ = ["save_parity_plot"]
