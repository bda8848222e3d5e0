"""``LatticeRegressor`` and ``LatticeClassifier``: the public neural estimators over the shared
implementation in :mod:`matlattice.models.estimator.base`."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score

from matlattice.models.estimator.base import _LatticeBase
from matlattice.models.estimator.intervals import PredictiveUncertainty
from matlattice.models.thresholds import balanced_threshold

__all__ = ["LatticeClassifier", "LatticeRegressor"]


class LatticeRegressor(RegressorMixin, PredictiveUncertainty, _LatticeBase):
    """Multi-task regressor with a learned ``latent_dim`` embedding.

    Parameters
    ----------
    encoder : {"attention", "mlp"}, default "attention"
    latent_dim : int, default 32
        Width of the bottleneck (the embedding returned by :meth:`transform`).
    element_table : str, default "mat2vec"
        ``elementembeddings`` table for element tokens (attention encoder).
    trainable_elements : bool, default False
    d_model, n_layers, n_heads : transformer sizes
    hidden : tuple of int
        MLP encoder hidden widths; ``feature_table`` is its element table for statistics.
    dropout, epochs, batch_size, lr, weight_decay, patience, schedule : training settings
    val_fraction : float, default 0.1
        Composition-level validation share when no validation data are given.
    target_transform : {"auto", "none", "log"}
        Per-task transform before robust scaling; ``"auto"`` logs positive right-skewed tasks.
    target_scale : {"iqr", "mean_abs_dev"}, default "iqr"
        Per-task scale: the interquartile range, or the mean absolute deviation from the
        median, which does not collapse when most labels share one value (a property that is
        zero for most materials; :mod:`matlattice.models.estimator.scaling`).
    ensemble : int, default 1
        Members trained with seeds ``random_state + k``.
    kl_weight : float, optional
        A variational bottleneck with this KL weight (None: a plain bottleneck).
    task_weighting : {"equal", "uncertainty", "gradnorm", "pcgrad"}, default "equal"
        How the task losses combine (:mod:`matlattice.models.networks.task_weighting`).
    early_stopping : {"mean", "per_task"}, default "mean"
        ``"per_task"`` trains until no task's own validation loss improves for ``patience``
        epochs and serves each task from the weights of its own best epoch
        (:mod:`matlattice.models.networks.routing`); ``"mean"`` stops on the mean validation loss.
    adapter_dim : int, default 0
        0: hard sharing (every head reads the shared embedding); > 0: soft sharing, a
        residual adapter of this width per task between the embedding and its head.
    cv_members : bool, default False
        Member k of the ensemble trains without the k-th of ``ensemble`` composition-level
        folds of the training rows; the out-of-fold residuals are kept for CV+ intervals
        (``predict_interval(..., method="cv_plus")``).
    heteroscedastic : bool, default False
        Heads also predict a noise variance, trained by Gaussian negative log-likelihood
        (aleatoric uncertainty, separated from the members' spread by
        :meth:`predict_components`).
    n_jobs : int, default 1
        Worker processes training members in parallel (one torch thread each).
    executor : {"local", "ray"}, default "local"
        ``"ray"``: every member is a Ray task (one CPU; one GPU when ``device`` is CUDA) on
        the cluster at ``$RAY_ADDRESS`` (or a local one); same seeds, same members as local.
    random_state : int, default 0
    device : str, default "cpu"
    num_threads : int, optional

    Examples
    --------
    >>> model = LatticeRegressor(latent_dim=8, epochs=5).fit(
    ...     ["NaCl", "KCl", "LiF", "MgO", "CaO", "SrO"] * 5, list(range(30)))  # doctest: +SKIP
    >>> model.transform(["NaBr"]).shape                                        # doctest: +SKIP
    (1, 8)
    """

    _task_kind = "regression"

    def _member_values(self, X: object, mc_samples: int = 0, aleatoric: bool = False):
        """``(n_draws, n, n_tasks)`` predictions in target units: one per member (and MC
        dropout pass); with ``aleatoric`` also the heads' noise spreads, same shape."""
        hetero = bool(self.heteroscedastic) and aleatoric
        raw = self._forward_members(X, mc_samples=mc_samples, log_var=hetero)
        t = len(self.scalers_)
        values = np.stack(
            [
                np.column_stack([s.inverse(raw[m, :, j]) for j, s in enumerate(self.scalers_)])
                for m in range(raw.shape[0])
            ]
        )
        if not aleatoric:
            return values
        if not hetero:
            return values, np.zeros_like(values)
        noise = np.stack(
            [
                np.column_stack(
                    [
                        s.inverse_std(raw[m, :, j], np.exp(0.5 * raw[m, :, t + j]))
                        for j, s in enumerate(self.scalers_)
                    ]
                )
                for m in range(raw.shape[0])
            ]
        )
        return values, noise

    def predict_components(self, X: object, *, mc_samples: int = 0):
        """``(mean, epistemic, aleatoric)`` spreads, shapes as :meth:`predict`: the spread of
        the members' means (model uncertainty) and the root mean noise variance of a
        heteroscedastic head (zero without one). :meth:`predict`'s raw spread is their
        root sum of squares."""
        values, noise = self._member_values(X, mc_samples, aleatoric=True)
        return self._shape(
            values.mean(axis=0), values.std(axis=0), np.sqrt((noise**2).mean(axis=0))
        )

    def _shape(self, *arrays: np.ndarray):
        out = tuple(a[:, 0] if len(self.tasks_) == 1 else a for a in arrays)
        return out if len(out) > 1 else out[0]

    def predict(
        self,
        X: object,
        return_std: bool = False,
        *,
        mc_samples: int = 0,
        calibrated: bool = True,
    ):
        """Mean over members, shape (n,) for one task else (n, n_tasks); with
        ``return_std=True`` also the spread (same shape, target units).

        The spread is the standard deviation over the ensemble members (deep ensemble) or,
        with ``mc_samples > 0``, over that many Monte Carlo dropout passes of every member.
        With a heteroscedastic head the heads' noise is added: ``sqrt(epistemic^2 +
        aleatoric^2)`` (:meth:`predict_components`). After :meth:`calibrate` it is the
        recalibrated spread unless ``calibrated=False``.
        """
        values, noise = self._member_values(X, mc_samples, aleatoric=True)
        mean = values.mean(axis=0)
        std = np.sqrt(values.var(axis=0) + (noise**2).mean(axis=0))
        if calibrated and getattr(self, "calibrators_", None):
            std = np.column_stack(
                [c.std(mean[:, j], std[:, j]) for j, c in enumerate(self.calibrators_)]
            )
        return self._shape(mean, std) if return_std else self._shape(mean)

    def score(self, X: object, y: object = None, sample_weight: object = None) -> float:
        """R² averaged over tasks, on labelled entries only."""
        return self._mean_task_score(X, y, r2_score)


class LatticeClassifier(ClassifierMixin, _LatticeBase):
    """Multi-task binary classifier with a learned embedding (parameters as
    :class:`LatticeRegressor`; targets are 0/1 per task, NaN = unlabelled)."""

    _task_kind = "classification"

    def predict_proba(self, X: object, return_std: bool = False):
        """Probability of class 1, mean over members: (n,) or (n, n_tasks)."""
        raw = self._forward_members(X)
        proba = 1.0 / (1.0 + np.exp(-raw))  # (m, n, t)
        mean, std = proba.mean(axis=0), proba.std(axis=0)
        if len(self.tasks_) == 1:
            mean, std = mean[:, 0], std[:, 0]
        return (mean, std) if return_std else mean

    def predict(self, X: object, return_std: bool = False):
        """Hard labels: probability >= each task's decision threshold (``thresholds_``:
        0.5, or with ``decision_threshold="balanced"`` the cut chosen on the validation
        rows, :mod:`~matlattice.models.thresholds`)."""
        proba = self.predict_proba(X, return_std=return_std)
        mean = proba[0] if return_std else proba
        cut = np.asarray(getattr(self, "thresholds_", None) or [0.5] * len(self.tasks_))
        labels = (mean >= (cut[0] if mean.ndim == 1 else cut)).astype(int)
        return (labels, proba[1]) if return_std else labels

    def _fit_diagnostics(self, data, fold) -> None:
        super()._fit_diagnostics(data, fold)
        self.thresholds_ = [0.5] * len(self.tasks_)
        if self.decision_threshold == "balanced" and len(data.val_values):
            proba = np.asarray(self.predict_proba(data.val_fractions)).reshape(
                len(data.val_values), -1
            )
            self.thresholds_ = [balanced_threshold(data.val_values[:, j], proba[:, j])
                                for j in range(len(self.tasks_))]  # fmt: skip

    def score(self, X: object, y: object = None, sample_weight: object = None) -> float:
        """Accuracy averaged over tasks, on labelled entries only."""
        return self._mean_task_score(X, y, accuracy_score)
