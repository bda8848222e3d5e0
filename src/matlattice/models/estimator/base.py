"""The shared implementation of the neural estimators: learned embeddings with a bottleneck.

An encoder (``"attention"`` over element tokens or ``"mlp"`` over composition features) ends
in a ``latent_dim``-wide embedding shared by one head per task. Missing labels are masked, each
task's targets are scaled robustly (with a log option), ``ensemble=k`` trains k members with
different seeds and ``predict(..., return_std=True)`` returns their mean and spread.
Saved without pickle: ``config.json`` + ``weights.safetensors``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator

from matlattice.errors import InvalidParameterError, MatlatticeError, NotFittedError
from matlattice.models.estimator.fit_data import TrainingData, training_data
from matlattice.models.estimator.inference import forward_members, targets_frame
from matlattice.models.estimator.members import (
    composition_folds,
    member_jobs,
    member_nets,
    run_members,
)
from matlattice.models.estimator.persistence import load_lattice, save_lattice
from matlattice.models.estimator.scaling import SPREADS, TargetScaler
from matlattice.models.networks.encoders import ENCODERS, AttentionEncoder, MLPEncoder, MultiTaskNet
from matlattice.models.networks.inputs import FeatureStandardizer, element_matrix, element_tokens
from matlattice.models.networks.task_weighting import WEIGHTINGS
from matlattice.models.networks.training import (
    EARLY_STOPPING,
    PRECISIONS,
    TrainConfig,
    TrainingMonitor,
)
from matlattice.models.thresholds import check_decision_threshold
from matlattice.represent.composition_stats import as_fractions
from matlattice.runtime.executor import EXECUTORS
from matlattice.uncertainty.domain import ApplicabilityDomain

__all__ = ["FORMAT_VERSION"]

log = logging.getLogger(__name__)
FORMAT_VERSION = 1


class _LatticeBase(BaseEstimator):
    """Shared implementation; use :class:`LatticeRegressor` or :class:`LatticeClassifier`."""

    _task_kind = "regression"

    def __init__(
        self,
        encoder: str = "attention",
        *,
        latent_dim: int = 32,
        element_table: str = "mat2vec",
        trainable_elements: bool = False,
        d_model: int = 128,
        n_layers: int = 3,
        n_heads: int = 4,
        hidden: tuple[int, ...] = (512, 256),
        feature_table: str = "magpie",
        dropout: float = 0.1,
        epochs: int = 300,
        batch_size: int = 256,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        patience: int = 40,
        schedule: str = "cosine",
        val_fraction: float = 0.1,
        target_transform: str = "auto",
        target_scale: str = "iqr",
        ensemble: int = 1,
        kl_weight: float | None = None,
        task_weighting: str = "equal",
        early_stopping: str = "mean",
        precision: str = "fp32",
        decision_threshold: str = "half",
        adapter_dim: int = 0,
        heteroscedastic: bool = False,
        cv_members: bool = False,
        random_state: int = 0,
        device: str = "cpu",
        num_threads: int | None = None,
        n_jobs: int = 1,
        executor: str = "local",
    ) -> None:
        self.encoder = encoder
        self.latent_dim = latent_dim
        self.element_table = element_table
        self.trainable_elements = trainable_elements
        self.d_model = d_model
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.hidden = hidden
        self.feature_table = feature_table
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.schedule = schedule
        self.val_fraction = val_fraction
        self.target_transform = target_transform
        self.target_scale = target_scale
        self.ensemble = ensemble
        self.kl_weight = kl_weight
        self.task_weighting = task_weighting
        self.early_stopping = early_stopping
        self.precision = precision
        self.decision_threshold = decision_threshold
        self.adapter_dim = adapter_dim
        self.heteroscedastic = heteroscedastic
        self.cv_members = cv_members
        self.random_state = random_state
        self.device = device
        self.num_threads = num_threads
        self.n_jobs = n_jobs
        self.executor = executor

    # --- building blocks ---------------------------------------------------------------------
    def _validate_params(self) -> None:
        if self.executor not in EXECUTORS:
            raise InvalidParameterError(f"executor={self.executor!r}; expected one of {EXECUTORS}")
        if self.encoder not in ENCODERS:
            raise InvalidParameterError(f"encoder={self.encoder!r}; expected one of {ENCODERS}")
        if int(self.latent_dim) < 1:
            raise InvalidParameterError(
                f"latent_dim={self.latent_dim!r}; must be a positive integer"
            )
        if self.kl_weight is not None and not float(self.kl_weight) >= 0:
            raise InvalidParameterError(
                f"kl_weight={self.kl_weight!r}; expected None or a value >= 0"
            )
        if self.task_weighting not in WEIGHTINGS:
            raise InvalidParameterError(
                f"task_weighting={self.task_weighting!r}; expected one of {WEIGHTINGS}"
            )
        if self.target_scale not in SPREADS:
            raise InvalidParameterError(
                f"target_scale={self.target_scale!r}; expected one of {SPREADS}"
            )
        if self.early_stopping not in EARLY_STOPPING:
            raise InvalidParameterError(
                f"early_stopping={self.early_stopping!r}; expected one of {EARLY_STOPPING}"
            )
        if self.precision not in PRECISIONS:
            raise InvalidParameterError(
                f"precision={self.precision!r}; expected one of {PRECISIONS}"
            )
        check_decision_threshold(self.decision_threshold)
        if self._task_kind == "regression" and self.decision_threshold != "half":
            raise InvalidParameterError(
                f"decision_threshold={self.decision_threshold!r} is for classifiers; a "
                "regressor has no decision to cut"
            )
        if int(self.adapter_dim) < 0:
            raise InvalidParameterError(
                f"adapter_dim={self.adapter_dim!r}; expected 0 (hard) or more"
            )
        if int(self.ensemble) < 1:
            raise InvalidParameterError(f"ensemble={self.ensemble!r}; must be >= 1")
        if self.cv_members and self._task_kind != "regression":
            raise InvalidParameterError("cv_members (CV+ intervals) is for regression models")
        if self.cv_members and int(self.ensemble) < 2:
            raise InvalidParameterError(
                f"cv_members needs ensemble >= 2 (one member per fold); got {self.ensemble}"
            )
        if not 0 < self.val_fraction < 0.5:
            raise InvalidParameterError(
                f"val_fraction={self.val_fraction!r}; expected a value in (0, 0.5)"
            )

    def _inputs(self, fractions: sp.csr_matrix, *, clip: bool = True) -> tuple[torch.Tensor, ...]:
        """Encoder inputs; MLP features of new materials are clipped to the training box
        (``clip=False`` while training: train and validation rows see raw values)."""
        if self.encoder == "attention":
            return element_tokens(fractions)
        return (self.standardizer_.transform(fractions, clip=clip),)

    def _build_net(self) -> MultiTaskNet:
        n_tasks = len(self.tasks_)
        width = 2 * self.latent_dim if self._variational else self.latent_dim  # mean, log-var
        if self.encoder == "attention":
            enc = AttentionEncoder(
                element_matrix(self.element_table),
                width,
                d_model=self.d_model,
                n_heads=self.n_heads,
                n_layers=self.n_layers,
                dim_feedforward=2 * self.d_model,
                dropout=self.dropout,
                trainable_elements=self.trainable_elements,
            )
        else:
            enc = MLPEncoder(len(self.standardizer_.mean), width, tuple(self.hidden), self.dropout)
        return MultiTaskNet(
            enc,
            self.latent_dim,
            n_tasks,
            variational=self._variational,
            adapter_dim=int(self.adapter_dim),
            heteroscedastic=bool(self.heteroscedastic) and self._task_kind == "regression",
        )

    @property
    def _variational(self) -> bool:
        return self.kl_weight is not None

    def _train_config(self, seed: int) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            schedule=self.schedule,
            patience=self.patience,
            seed=seed,
            device=self.device,
            num_threads=self.num_threads,
            kl_weight=float(self.kl_weight or 0.0),
            task_weighting=self.task_weighting,
            early_stopping=self.early_stopping,
            precision=self.precision,
        )

    # --- fit -----------------------------------------------------------------------------------
    def fit(
        self,
        X: object,
        y: object = None,
        *,
        X_val: object = None,
        y_val: object = None,
        checkpoint_dir: Path | None = None,
        resume: bool = False,
        init_from: Path | _LatticeBase | None = None,
        progress: Callable[[str, dict], None] | None = None,
        monitor: TrainingMonitor | None = None,
    ) -> _LatticeBase:
        """Train the ensemble.

        Parameters
        ----------
        X : formulas (n,), a DataFrame with ``formula`` (and target columns if ``y`` is None),
            or a :class:`~matlattice.data.Dataset` (its train part is used, its val part for
            early stopping)
        y : (n,) or (n, n_tasks) targets, NaN = unlabelled
        X_val, y_val : validation data for early stopping; default: a composition-level
            ``val_fraction`` of the training data
        checkpoint_dir : folder for per-epoch checkpoints (``member<k>.pt``)
        resume : continue from the checkpoints in ``checkpoint_dir``
        init_from : a fitted model (or its saved folder) whose encoder weights initialise this
            one (transfer / multi-fidelity); it must have the same encoder architecture
        progress : called as ``progress(member_label, epoch_record)``
        monitor : probes the first member while it trains (see :class:`TrainingMonitor`);
            needs ``n_jobs=1``
        """
        self._validate_params()
        data = training_data(
            X, y, X_val, y_val, val_fraction=self.val_fraction, seed=self.random_state
        )
        self.tasks_ = data.tasks
        self.scalers_ = self._fit_scalers(data.values)
        source = _load_source(init_from) if init_from is not None else None
        if source is not None and source.encoder != self.encoder:
            raise MatlatticeError(
                f"init_from model has encoder {source.encoder!r}; this one is {self.encoder!r}"
            )
        if self.encoder == "mlp":
            # a transferred encoder keeps the input scaling it was trained with
            self.standardizer_ = (
                source.standardizer_
                if source is not None
                else FeatureStandardizer.fit(data.fractions, self.feature_table)
            )
        tensors = self._training_tensors(data)
        if monitor is not None:
            if (int(self.n_jobs) > 1 or self.executor != "local") and int(self.ensemble) > 1:
                raise InvalidParameterError(
                    "a training monitor needs n_jobs=1 and executor='local' (members in "
                    "this process)"
                )
            train_inputs, train_targets, _, _, is_class = tensors
            monitor.start(train_inputs, train_targets, is_class)
        fold = self._cv_folds(data.fractions)
        jobs = member_jobs(self, source, tensors, fold, checkpoint_dir, resume)
        results = run_members(jobs, int(self.n_jobs), progress, monitor, self.executor)
        self.members_, self.train_info_ = member_nets(self._build_net, results, self.tasks_)
        self._fit_diagnostics(data, fold)
        return self

    def _fit_scalers(self, values: np.ndarray) -> list[TargetScaler]:
        """One target scaler per column of the ``(n, n_tasks)`` training ``values``."""
        return [
            TargetScaler.fit(
                values[:, j],
                task=self._task_kind,
                transform=self.target_transform,
                spread=self.target_scale,
            )
            for j in range(len(self.tasks_))
        ]

    def _training_tensors(self, data: TrainingData) -> tuple:
        """``(train_inputs, train_targets, val_inputs, val_targets, is_class)``: the encoder
        inputs, the ``(n, n_tasks)`` scaled float32 targets (NaN = unlabelled) of the training
        and validation rows, and the ``(n_tasks,)`` bool classification mask."""
        scaled = np.column_stack(
            [s.forward(data.values[:, j]) for j, s in enumerate(self.scalers_)]
        )
        scaled_val = np.column_stack(
            [s.forward(data.val_values[:, j]) for j, s in enumerate(self.scalers_)]
        )
        train_inputs = self._inputs(data.fractions, clip=False)
        val_inputs = self._inputs(data.val_fractions, clip=False)
        is_class = torch.tensor([self._task_kind == "classification"] * len(self.tasks_))
        return (
            train_inputs,
            torch.tensor(scaled, dtype=torch.float32),
            val_inputs,
            torch.tensor(scaled_val, dtype=torch.float32),
            is_class,
        )

    def _cv_folds(self, fractions: sp.csr_matrix) -> np.ndarray | None:
        """``(n_train,)`` fold of each training row with ``cv_members`` (member k never sees
        the rows of fold k), else None."""
        if not self.cv_members:
            return None
        from matlattice.composition import composition_keys

        return composition_folds(composition_keys(fractions), int(self.ensemble), self.random_state)

    def _fit_diagnostics(self, data: TrainingData, fold: np.ndarray | None) -> None:
        """Sizes, out-of-fold residuals (CV members) and the applicability domain."""
        fractions, values = data.fractions, data.values
        self.n_train_ = len(values)
        self.n_val_ = len(data.val_values)
        self.n_features_in_ = 1
        self.calibrators_ = []
        self.cv_fold_, self.cv_residuals_ = None, None
        if self.cv_members:
            values_oof = self._member_values(fractions)  # (K, n, t)
            oof = values_oof[fold, np.arange(len(fold))]  # member blind to each row
            self.cv_fold_, self.cv_residuals_ = fold, np.abs(values - oof)
        self.domain_ = None
        if len(values) > 5 and len(data.val_values) > 0:
            self.domain_ = ApplicabilityDomain(seed=self.random_state).fit(
                self._unclipped_embedding(fractions), self._unclipped_embedding(data.val_fractions)
            )

    # --- inference -------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "members_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit or load first")

    def _forward_members(self, X: object, **options):
        """Raw outputs of every member (:func:`.inference.forward_members`)."""
        self._check_fitted()
        return forward_members(self, as_fractions(X), **options)

    def transform(self, X: object) -> np.ndarray:
        """The ``(n, latent_dim)`` embedding (of the first ensemble member; for a variational
        bottleneck, the posterior mean)."""
        return self._forward_members(X, embed=True)

    def _unclipped_embedding(self, X: object) -> np.ndarray:
        # distances to the training data must see how far out a material really is, so the
        # training box that guards predictions is not applied here
        return self._forward_members(X, embed=True, clip=False)

    def applicability(self, X: object) -> tuple[np.ndarray, np.ndarray]:
        """``(distance, in_domain)``, each ``(n,)``: the k-NN distance of each material to the
        training set in the embedding (1 = the median of held-out validation materials) and
        whether it is within the 95 % of validation materials
        (:class:`~matlattice.uncertainty.domain.ApplicabilityDomain`)."""
        self._check_fitted()
        if self.domain_ is None:
            raise InvalidParameterError(
                "no applicability domain: the model was fitted without validation rows"
            )
        distance = self.domain_.distance(self._unclipped_embedding(X))
        return distance, distance <= self.domain_.threshold_

    def rate(self, X: object) -> np.ndarray:
        """``(n,)`` information rate of a variational bottleneck, in nats per material: the KL
        divergence of the first member's posterior ``q(z|x)`` from ``N(0, I)``."""
        self._check_fitted()
        if not self._variational:
            raise InvalidParameterError(
                "rate needs a variational bottleneck; fit with kl_weight >= 0"
            )
        return self._forward_members(X, rate=True)

    def _mean_task_score(self, X: object, y: object, metric) -> float:
        """``metric(truth, prediction)`` per task on its labelled rows, averaged over tasks."""
        formulas, targets = targets_frame(X, y)
        targets = targets[self.tasks_] if set(self.tasks_) <= set(targets.columns) else targets
        truth = targets.to_numpy(dtype=float)
        pred = np.asarray(self.predict(formulas)).reshape(truth.shape)
        labelled = ~np.isnan(truth)
        return float(
            np.mean(
                [
                    metric(truth[labelled[:, j], j], pred[labelled[:, j], j])
                    for j in range(truth.shape[1])
                ]
            )
        )

    # --- persistence -------------------------------------------------------------------------
    def save(self, folder: Path) -> Path:
        """Save to ``folder``: ``config.json`` (class, version, params, scalers) + safetensors."""
        self._check_fitted()
        return save_lattice(self, Path(folder), FORMAT_VERSION)

    @classmethod
    def load(cls, folder: Path) -> _LatticeBase:
        """Load a model saved by :meth:`save` (no pickle; strict weights; version-checked)."""
        return load_lattice(cls, Path(folder), FORMAT_VERSION)


def _load_source(init_from: Path | _LatticeBase) -> _LatticeBase:
    if isinstance(init_from, _LatticeBase):
        return init_from
    folder = Path(init_from)
    if (folder / "model" / "config.json").is_file():
        folder = folder / "model"
    name = json.loads((folder / "config.json").read_text()).get("class")
    classes = {c.__name__: c for c in _LatticeBase.__subclasses__()}
    if name not in classes:
        raise MatlatticeError(
            f"{folder} holds class {name!r}, not a LatticeRegressor or LatticeClassifier"
        )
    return classes[name].load(folder)
