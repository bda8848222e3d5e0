"""Applicability domain: how far a material sits from what the model was trained on.

:class:`ApplicabilityDomain` is fitted on the embeddings of the training materials (a
reference set, subsampled to at most ``max_reference`` rows) and of held-out validation
materials. Two scores per new material:

- ``distance``: the mean Euclidean distance to its ``k`` nearest reference materials, in units
  of the median such distance of the validation materials (1 = typical for held-out data);
- ``log_density``: the log-likelihood under a diagonal Gaussian mixture of the reference
  embeddings (nats per material).

``in_domain`` is ``distance <= threshold_``, the ``quantile`` (default 0.95) of the validation
distances: a validation material is flagged out of domain with probability about
``1 - quantile``.
"""

from __future__ import annotations

import numpy as np
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors

from matlattice.errors import InvalidParameterError, NotFittedError

__all__ = ["ApplicabilityDomain"]


class ApplicabilityDomain:
    """k-NN distance and mixture density in an embedding, calibrated on validation data.

    Parameters
    ----------
    k : neighbours averaged in the distance
    quantile : share of validation materials kept in domain
    n_components : Gaussian mixture components of the density
    max_reference : reference rows kept (seeded subsample)
    seed : seeds the subsample and the mixture
    """

    def __init__(
        self,
        k: int = 5,
        quantile: float = 0.95,
        n_components: int = 8,
        max_reference: int = 20_000,
        seed: int = 0,
    ) -> None:
        self.k = k
        self.quantile = quantile
        self.n_components = n_components
        self.max_reference = max_reference
        self.seed = seed

    def fit(self, reference: np.ndarray, validation: np.ndarray) -> ApplicabilityDomain:
        """``reference``: ``(n, d)`` training embeddings; ``validation``: ``(m, d)`` held-out."""
        reference = np.asarray(reference, dtype=np.float32)
        validation = np.asarray(validation, dtype=np.float32)
        if reference.ndim != 2 or validation.ndim != 2 or reference.shape[1] != validation.shape[1]:
            raise InvalidParameterError(
                f"reference {reference.shape} and validation {validation.shape} must be (n, d)"
            )
        if len(reference) <= self.k:
            raise InvalidParameterError(
                f"{len(reference)} reference rows; need more than k={self.k}"
            )
        rng = np.random.default_rng(self.seed)
        if len(reference) > self.max_reference:
            reference = reference[np.sort(rng.choice(len(reference), self.max_reference, False))]
        self.reference_ = reference
        self._index = NearestNeighbors(n_neighbors=self.k).fit(reference)
        self.scale_ = 1.0
        raw = self._raw_distance(validation)
        self.scale_ = float(np.median(raw)) or 1.0
        self.threshold_ = float(np.quantile(raw / self.scale_, self.quantile))
        components = min(self.n_components, len(reference))
        try:
            mixture = GaussianMixture(
                components, covariance_type="diag", random_state=self.seed
            ).fit(reference)
        except ValueError:  # collapsed components (constant or duplicated features)
            mixture = GaussianMixture(
                components, covariance_type="diag", reg_covar=1e-3, random_state=self.seed
            ).fit(reference.astype(np.float64))
        self.mixture_ = (mixture.weights_, mixture.means_, mixture.covariances_)
        return self

    def _raw_distance(self, x: np.ndarray) -> np.ndarray:
        distances, _ = self._index.kneighbors(np.asarray(x, dtype=np.float32))
        return distances.mean(axis=1)

    def distance(self, x: np.ndarray) -> np.ndarray:
        """``(n,)`` k-NN distance to the reference, in units of the validation median."""
        if not hasattr(self, "reference_"):
            raise NotFittedError("ApplicabilityDomain is not fitted; call fit first")
        return self._raw_distance(x) / self.scale_

    def in_domain(self, x: np.ndarray) -> np.ndarray:
        """``(n,)`` bool: ``distance <= threshold_``."""
        return self.distance(x) <= self.threshold_

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """``(n,)`` log-likelihood under the diagonal Gaussian mixture of the reference."""
        if not hasattr(self, "mixture_"):
            raise NotFittedError("ApplicabilityDomain is not fitted; call fit first")
        weights, means, variances = self.mixture_
        x = np.asarray(x, dtype=float)[:, None, :]  # (n, 1, d)
        log_norm = -0.5 * np.sum(np.log(2 * np.pi * variances), axis=1)  # (c,)
        quad = -0.5 * np.sum((x - means) ** 2 / variances, axis=2)  # (n, c)
        joint = np.log(weights) + log_norm + quad
        top = joint.max(axis=1, keepdims=True)
        return (top + np.log(np.exp(joint - top).sum(axis=1, keepdims=True)))[:, 0]

    # --- persistence (arrays for safetensors, scalars for JSON) --------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        weights, means, variances = self.mixture_
        return {
            "reference": self.reference_,
            "weights": weights.astype(np.float64),
            "means": means.astype(np.float64),
            "variances": variances.astype(np.float64),
        }

    def to_dict(self) -> dict:
        return {
            "k": self.k,
            "quantile": self.quantile,
            "n_components": self.n_components,
            "max_reference": self.max_reference,
            "seed": self.seed,
            "scale": self.scale_,
            "threshold": self.threshold_,
        }

    @classmethod
    def restore(cls, state: dict, arrays: dict[str, np.ndarray]) -> ApplicabilityDomain:
        out = cls(
            state["k"],
            state["quantile"],
            state["n_components"],
            state["max_reference"],
            state["seed"],
        )
        out.reference_ = np.asarray(arrays["reference"], dtype=np.float32)
        out._index = NearestNeighbors(n_neighbors=out.k).fit(out.reference_)
        out.scale_, out.threshold_ = float(state["scale"]), float(state["threshold"])
        out.mixture_ = tuple(np.asarray(arrays[k]) for k in ("weights", "means", "variances"))
        return out
