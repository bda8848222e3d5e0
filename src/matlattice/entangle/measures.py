"""All pairwise coupling measures of one lattice, and the combined entanglement weight.

:class:`CouplingMeasures` holds the ``(T, T)`` matrices (``M[s, t]``: from source ``s`` to
target ``t``) that :func:`matlattice.entangle.entanglement_lattice` measures, and
:meth:`CouplingMeasures.weight` combines them into one directed weight in [0, 1]:

``w[s, t] = (A + g + Z + G + 2 D) / (sum of the weights of the measures present)``

with ``A`` the head alignment in the whitened embedding, ``g`` the mean gradient cosine,
``Z`` the lookahead affinity relative to the target's self-affinity (1: a step on ``s`` helps
``t`` as much as a step on ``t``), ``G`` the transfer gain (the share of ``t``'s error removed
by training with ``s``; absent unless the pairwise trainings were run) and ``D`` the label
dependence (:mod:`~matlattice.entangle.dependence`: the mutual information of the labels on
co-labelled rows, as an informational correlation), at double weight because it is the one
measure that reads shared information straight from the data, linear or not: on the planted
suite's development draws it separates pairs within a planted group from pairs across at a
ROC-AUC of 0.98-1.00 per set, where the model measures reach 0.63-0.90 and the Spearman
``rho`` (kept for the duplicate gates, no longer in the weight) 0.57. Every term is clipped
to [0, 1] (negative coupling is left to the risk gates); a missing (NaN) term drops out.
All terms are absolute, so a lattice whose properties share nothing has a small weight
everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["MEASURE_WEIGHTS", "CouplingMeasures"]

MEASURE_WEIGHTS = {
    "representation_alignment": 1.0,
    "gradient_cosine": 1.0,
    "affinity": 1.0,
    "transfer_gain": 1.0,
    "label_dependence": 2.0,
}


@dataclass
class CouplingMeasures:
    """Pairwise measures over ``tasks`` (all ``(T, T)``, NaN diagonal unless stated).

    Attributes
    ----------
    tasks : property names
    label_counts : ``(T,)`` labelled materials per property (training part)
    data_coupling, data_count : Spearman rho of the labels on co-labelled rows, and the count
    label_dependence : informational correlation of the labels on co-labelled rows, [0, 1]
        (symmetric; NaN below 20 co-labelled rows); ``None`` when not measured
    identical_fraction : fraction of co-labelled rows with equal labels (duplicate detection)
    gradient_cosine : mean over epochs of the task-gradient cosine on the shared encoder
    gradient_negative_fraction : fraction of epochs with a negative cosine
    gradient_trajectory : ``(E, T, T)`` cosine per epoch
    affinity : mean over epochs of the lookahead affinity relative to the target's
        self-affinity (directed)
    affinity_trajectory : ``(E, T, T)``
    representation_alignment : head alignment in the whitened embedding, [0, 1]
    direction_dot : ``z_s . z_t`` of the heads' unit latent directions, [-1, 1]
    head_cka : linear CKA of the heads' hidden activations
    transfer_gain : relative drop in ``t``'s validation error when trained with ``s``
        against alone (directed; mean over its runs); ``None`` when the pairwise trainings
        were not run
    transfer_low, transfer_high, transfer_runs : its one-sided bounds at
        :data:`~matlattice.entangle.intervals.CONFIDENCE` and the runs they rest on
    gradient_cosine_bounds, affinity_bounds : ``(2, T, T)`` one-sided bounds (low, high) of
        the mean over epochs, from a block bootstrap over the epochs
    alone_error, pair_error : validation MAEs behind ``transfer_gain`` (scaled units)
    source_share : ``(T, T)`` largest share of one data source among co-labelled rows, or
        ``None`` without a source column
    error_correlation : Pearson correlation of the joint model's validation errors of ``s``
        and ``t`` on co-labelled rows (how an error in one property travels with an error in
        the other: uncertainty propagating along the edge); not part of the weight
    """

    tasks: list[str]
    label_counts: np.ndarray
    data_coupling: np.ndarray
    data_count: np.ndarray
    identical_fraction: np.ndarray
    gradient_cosine: np.ndarray
    gradient_negative_fraction: np.ndarray
    gradient_trajectory: np.ndarray
    affinity: np.ndarray
    affinity_trajectory: np.ndarray
    representation_alignment: np.ndarray
    direction_dot: np.ndarray
    head_cka: np.ndarray
    label_dependence: np.ndarray | None = None
    transfer_gain: np.ndarray | None = None
    transfer_low: np.ndarray | None = None
    transfer_high: np.ndarray | None = None
    transfer_runs: np.ndarray | None = None
    gradient_cosine_bounds: np.ndarray | None = None
    affinity_bounds: np.ndarray | None = None
    alone_error: np.ndarray | None = None
    pair_error: np.ndarray | None = None
    source_share: np.ndarray | None = None
    error_correlation: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    def terms(self) -> dict[str, np.ndarray]:
        """Each measure mapped to [0, 1] as it enters the combined weight (NaN: absent)."""
        terms = {
            "representation_alignment": np.clip(self.representation_alignment, 0.0, 1.0),
            "gradient_cosine": np.clip(self.gradient_cosine, 0.0, 1.0),
            "affinity": np.clip(self.affinity, 0.0, 1.0),
        }
        if self.label_dependence is not None:
            terms["label_dependence"] = np.clip(self.label_dependence, 0.0, 1.0)
        if self.transfer_gain is not None:
            terms["transfer_gain"] = np.clip(self.transfer_gain, 0.0, 1.0)
        return terms

    def weight(self) -> np.ndarray:
        """``(T, T)`` combined directed entanglement weight in [0, 1] (module docstring)."""
        total = np.zeros((len(self.tasks), len(self.tasks)))
        norm = np.zeros_like(total)
        for name, term in self.terms().items():
            present = np.isfinite(term)
            total += MEASURE_WEIGHTS[name] * np.where(present, term, 0.0)
            norm += MEASURE_WEIGHTS[name] * present
        out = np.divide(total, norm, out=np.full_like(total, np.nan), where=norm > 0)
        np.fill_diagonal(out, np.nan)
        return out

    def weight_trajectory(self) -> np.ndarray:
        """``(E, T, T)`` per-epoch weight from the two measures tracked through training
        (gradient cosine and affinity, combined as in :meth:`weight`)."""
        cos = np.clip(self.gradient_trajectory, 0.0, 1.0)
        aff = np.clip(self.affinity_trajectory, 0.0, 1.0)
        return 0.5 * (cos + aff)
