"""Surrogate models of a campaign: the random forest on Magpie statistics (tree spread, the
lolopy recipe), an ensemble of MLP-encoder models, and a Gaussian process on standardised
Magpie statistics; fitting them on the measured rows (with warm starts for the neural
ensemble) and the embedding the reticulum and batch diversity work in."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from matlattice.errors import InvalidParameterError

__all__ = [
    "SURROGATES",
    "GPSurrogate",
    "check_surrogate",
    "embedding",
    "fit_predict",
    "member_draws",
    "model_by_name",
    "posterior_draws",
]

SURROGATES = ("rf", "mlp", "gp")


class GPSurrogate:
    """Gaussian process on standardised Magpie statistics (Matern 5/2 + white noise), the
    classic Bayesian-optimisation peer; ``predict(X, return_std=True)`` like the others."""

    def fit(self, formulas, y) -> GPSurrogate:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
        from sklearn.preprocessing import StandardScaler

        from matlattice.represent import ElementStatsFeaturizer

        self.featurizer_ = ElementStatsFeaturizer("magpie", missing="mean").fit()
        x = self.featurizer_.transform(list(formulas))
        self.scaler_ = StandardScaler().fit(x)
        kernel = ConstantKernel() * Matern(nu=2.5) + WhiteKernel()
        self.gp_ = GaussianProcessRegressor(kernel, normalize_y=True, random_state=0)
        self.gp_.fit(np.nan_to_num(self.scaler_.transform(x)), np.asarray(y, dtype=float))
        return self

    def predict(self, formulas, return_std: bool = False):
        x = np.nan_to_num(self.scaler_.transform(self.featurizer_.transform(list(formulas))))
        return self.gp_.predict(x, return_std=return_std)


def fit_predict(
    model,
    measured: pd.DataFrame,
    target: str,
    candidates: list[str],
    *,
    warm_from=None,
    warm_epochs: int | None = None,
):
    """Fit ``model`` on the measured rows; ``(mean, std)`` for the candidates, each ``(n,)``.

    A neural ensemble given ``warm_from`` (the previous fitted surrogate) starts from its
    encoder weights and trains at most ``warm_epochs`` epochs: a conservative update that
    damps the loop. Forests and Gaussian processes refit from scratch (no weights to carry).
    """
    from matlattice.models import LatticeRegressor

    if isinstance(model, LatticeRegressor):
        frame = pd.DataFrame({"formula": measured["formula"], target: measured["value"]})
        if isinstance(warm_from, LatticeRegressor) and warm_epochs:
            model.set_params(epochs=int(warm_epochs))
            model.fit(frame, init_from=warm_from)
        else:
            model.fit(frame)
    else:  # MultiTaskForest, GPSurrogate: formulas and values
        model.fit(measured["formula"].tolist(), measured["value"].to_numpy())
    mean, std = model.predict(candidates, return_std=True)
    return np.asarray(mean, dtype=float).reshape(-1), np.asarray(std, dtype=float).reshape(-1)


def member_draws(model, candidates: list[str]) -> np.ndarray | None:
    """``(k, n)`` predictions of the surrogate's members for a single target: the ensemble
    members (and MC passes) of a neural surrogate, the trees of a forest; None for a model
    without members (a Gaussian process: draw from its predictive distribution instead)."""
    from matlattice.models import LatticeRegressor, MultiTaskForest

    if isinstance(model, LatticeRegressor):
        return model._member_values(candidates)[:, :, 0]
    if isinstance(model, MultiTaskForest):
        return model.predict_trees(candidates)[:, :, 0]
    return None


def posterior_draws(
    model, candidates: list[str], mean: np.ndarray, std: np.ndarray, n: int, rng
) -> np.ndarray:
    """``(k, m)`` posterior draws for Thompson sampling: the surrogate's members
    (:func:`member_draws`) centred on ``mean`` (which a reticulum may have corrected), or,
    for a model without members, ``max(n, 1)`` Gaussian draws from ``N(mean, std^2)``."""
    members = member_draws(model, candidates)
    if members is not None and len(members) > 1:
        return members - members.mean(axis=0) + mean
    return rng.normal(mean, np.maximum(std, 1e-12), size=(max(n, 1), len(mean)))


def embedding(model, formulas: list[str]) -> np.ndarray:
    """The model's embedding, or standardised Magpie statistics for models without one."""
    if hasattr(model, "transform") and hasattr(model, "members_"):
        return model.transform(formulas)
    from matlattice.represent import ElementStatsFeaturizer

    x = ElementStatsFeaturizer("magpie", missing="mean").fit().transform(formulas)
    return np.nan_to_num((x - x.mean(axis=0)) / (x.std(axis=0) + 1e-12))


def model_by_name(name: str) -> Callable[[], object]:
    """A factory of fresh surrogate models: ``"rf"`` (random forest on Magpie statistics, 200
    trees, tree spread), ``"mlp"`` (ensemble of 5 MLP-encoder models, ensemble spread) or
    ``"gp"`` (:class:`GPSurrogate`)."""
    check_surrogate(name)
    from matlattice.models import LatticeRegressor, MultiTaskForest

    factories: dict[str, Callable[[], object]] = {
        # one process: campaign training sets are small, thread start-up would dominate
        "rf": lambda: MultiTaskForest(n_estimators=200, random_state=0, n_jobs=1),
        "gp": GPSurrogate,
        "mlp": lambda: LatticeRegressor(
            "mlp", latent_dim=16, hidden=(128, 64), dropout=0.0, epochs=150, patience=20, ensemble=5
        ),
    }
    return factories[name]


def check_surrogate(name: str) -> str:
    """``name`` if it is one of :data:`SURROGATES`; the one place a surrogate name is
    checked."""
    if name not in SURROGATES:
        raise InvalidParameterError(
            f"model={name!r}; expected one of {', '.join(repr(s) for s in SURROGATES)}"
        )
    return name
