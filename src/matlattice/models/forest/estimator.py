"""Reference peer: random forest on Magpie statistics (Matbench's "RF-SCM/Magpie" recipe).

One forest per task, each trained on the rows labelled for that task (NaN = unlabelled), on
composition-weighted Magpie statistics (or, with ``features="fractions"``, the element
fractions; with ``forest="extra"``, extremely randomised trees instead of a random forest).
Saved without pickle: ``config.json`` + flat tree arrays in ``forests.safetensors``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from safetensors.numpy import load_file, save_file
from sklearn.base import BaseEstimator
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)

from matlattice.errors import InvalidParameterError, NotFittedError
from matlattice.models.forest.arrays import ForestArrays, forest_to_arrays
from matlattice.models.forest.uncertainty import (
    calibrate_on_out_of_bag,
    out_of_bag,
    out_of_bag_proba,
)
from matlattice.models.saving import read_model_config, verified_weights
from matlattice.models.thresholds import balanced_threshold, check_decision_threshold
from matlattice.represent import ElementStatsFeaturizer, FractionFeaturizer
from matlattice.runtime.files import atomic_write, atomic_write_json, file_sha256
from matlattice.uncertainty.calibrators import calibrator_from_dict

__all__ = ["FORESTS", "FOREST_FEATURES", "FORMAT_VERSION", "MultiTaskForest"]

FORMAT_VERSION = 1
TASK_TYPES = ("regression", "classification")
#: scikit-learn's (regressor, classifier) per kind of forest
FORESTS = {
    "random": (RandomForestRegressor, RandomForestClassifier),
    "extra": (ExtraTreesRegressor, ExtraTreesClassifier),
}
FOREST_FEATURES = ("stats", "fractions")


class MultiTaskForest(BaseEstimator):
    """Random forests on Magpie statistics, one per task, with masked (NaN) targets; or
    extremely randomised trees, or element fractions as the features.

    Parameters
    ----------
    table : str, default "magpie"
        Element table of the composition statistics.
    forest : {"random", "extra"}, default "random"
        Random forest (bootstrap samples, best split among ``max_features``), or extremely
        randomised trees (every tree on all rows, random cut points), which draw no bootstrap
        sample and so keep no out-of-bag rows.
    features : {"stats", "fractions"}, default "stats"
        Composition-weighted statistics of ``table``, or the element fractions themselves
        (one column per element; ``table`` unused): on alloys where a few dopants at small
        fractions set the property (Matbench steels), the averages wash them out.
    n_estimators : int, default 500
        Trees per task (Matbench's RF-SCM/Magpie used 500).
    min_samples_leaf : int, default 1
    max_features : float or str, default 1.0
        Features considered per split (1.0 = all, scikit-learn's regression default).
    task_types : sequence of {"regression", "classification"}, optional
        One per target column; inferred when None (a column of only 0/1 is classification).
    random_state : int, default 0
    n_jobs : int, default -1
    out_of_bag : bool, default False
        Also keep each regression task's out-of-bag prediction and spread for every training
        row (one more pass over the trees), so that :meth:`calibrate` can calibrate the
        spread without held-out rows.
    decision_threshold : {"half", "balanced"}, default "half"
        Hard labels of classification tasks: probability >= 0.5, or >= the cut that
        maximises balanced accuracy on the out-of-bag rows (``thresholds_``; one more pass
        over the trees; :mod:`~matlattice.models.thresholds`).

    Attributes
    ----------
    tasks_ : list of str
    task_types_ : list of str
    forests_ : list of ForestArrays

    Examples
    --------
    >>> model = MultiTaskForest(n_estimators=10).fit(["NaCl", "KCl", "LiF", "MgO"],
    ...                                              [[1.0], [2.0], [3.0], [4.0]])
    >>> model.predict(["NaBr"]).shape
    (1, 1)
    """

    def __init__(
        self,
        table: str = "magpie",
        *,
        n_estimators: int = 500,
        min_samples_leaf: int = 1,
        max_features: float | str = 1.0,
        task_types: tuple[str, ...] | None = None,
        random_state: int = 0,
        n_jobs: int = -1,
        out_of_bag: bool = False,
        decision_threshold: str = "half",
        forest: str = "random",
        features: str = "stats",
    ) -> None:
        self.table = table
        self.forest = forest
        self.features = features
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.task_types = task_types
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.out_of_bag = out_of_bag
        self.decision_threshold = decision_threshold

    def _featurizer(self) -> ElementStatsFeaturizer | FractionFeaturizer:
        if self.features == "fractions":
            return FractionFeaturizer().fit()
        return ElementStatsFeaturizer(self.table, missing="mean").fit()

    def _check_options(self) -> None:
        """Refuse an unknown forest or features, and what extra trees cannot do, by name."""
        if self.forest not in FORESTS:
            raise InvalidParameterError(f"forest={self.forest!r}; expected one of {list(FORESTS)}")
        if self.features not in FOREST_FEATURES:
            raise InvalidParameterError(
                f"features={self.features!r}; expected one of {list(FOREST_FEATURES)}"
            )
        check_decision_threshold(self.decision_threshold)
        if self.forest == "extra" and (self.out_of_bag or self.decision_threshold != "half"):
            option = "out_of_bag=True" if self.out_of_bag else "decision_threshold='balanced'"
            raise InvalidParameterError(
                f"{option} with forest='extra': extremely randomised trees draw no bootstrap "
                "sample, so there are no out-of-bag rows; use forest='random', or calibrate "
                "on held-out rows"
            )

    def fit(self, X: object, y: object, *, progress=None) -> MultiTaskForest:
        """Fit one forest per target column.

        Parameters
        ----------
        X : list of str of length n, or DataFrame with a ``formula`` column
        y : array-like or DataFrame of shape (n,) or (n, n_tasks); NaN = unlabelled
        progress : callable(task_name), optional
            Called before each task is fitted (for progress bars).
        """
        targets = (
            y
            if isinstance(y, pd.DataFrame)
            else pd.DataFrame(np.asarray(y, dtype=float).reshape(len(y), -1))
        )
        tasks = [str(c) for c in targets.columns]
        values = targets.to_numpy(dtype=float)
        types = (
            list(self.task_types)
            if self.task_types is not None
            else [_infer_task_type(values[:, j]) for j in range(values.shape[1])]
        )
        if len(types) != len(tasks) or any(t not in TASK_TYPES for t in types):
            raise InvalidParameterError(
                f"task_types={self.task_types!r}; need one of {TASK_TYPES} per task "
                f"({len(tasks)} tasks)"
            )
        self._check_options()
        features = self._featurizer().transform(X)
        if features.shape[0] != values.shape[0]:
            raise InvalidParameterError(
                f"X has {features.shape[0]} rows but y has {values.shape[0]}"
            )
        self.forests_: list[ForestArrays] = []
        self.sklearn_forests_ = []
        self.n_train_ = []
        self.classes_ = []
        self.oob_: list[np.ndarray | None] = []
        self.thresholds_: list[float | None] = []
        self.calibrators_: list | None = None
        for j, (task, kind) in enumerate(zip(tasks, types, strict=True)):
            if progress is not None:
                progress(task)
            mask = ~np.isnan(values[:, j])
            if mask.sum() < 2:
                raise InvalidParameterError(
                    f"task {task!r} has {int(mask.sum())} labelled rows; need >= 2"
                )
            cls = FORESTS[self.forest][kind == "classification"]
            forest = cls(
                n_estimators=self.n_estimators,
                min_samples_leaf=self.min_samples_leaf,
                max_features=self.max_features,
                random_state=self.random_state,
                n_jobs=self.n_jobs,
            )
            target = values[mask, j] if kind == "regression" else values[mask, j].astype(int)
            forest.fit(features[mask], target)
            keep_oob = self.out_of_bag and kind == "regression"
            self.oob_.append(out_of_bag(forest, features[mask], target) if keep_oob else None)
            self.sklearn_forests_.append(forest)
            self.forests_.append(forest_to_arrays(forest))
            self.n_train_.append(int(mask.sum()))
            self.classes_.append(forest.classes_.tolist() if kind == "classification" else None)
            self.thresholds_.append(self._threshold(forest, features[mask], target, kind))
        self.tasks_ = tasks
        self.task_types_ = types
        self.n_features_in_ = 1
        return self

    def _threshold(self, forest, features, target, kind: str) -> float | None:
        """The decision threshold of a classification task (module
        :mod:`~matlattice.models.thresholds`): 0.5, or chosen on the out-of-bag rows."""
        if kind != "classification":
            return None
        if self.decision_threshold == "half" or set(forest.classes_) != {0, 1}:
            return 0.5
        return balanced_threshold(target.astype(float), out_of_bag_proba(forest, features))

    def _check_fitted(self) -> None:
        if not hasattr(self, "forests_"):
            raise NotFittedError("MultiTaskForest is not fitted; call fit or load first")

    def predict(self, X: object, return_std: bool = False, *, calibrated: bool = True):
        """Predictions of shape (n, n_tasks): values, or the predicted class for classifiers;
        with ``return_std`` also the spread of the trees' predictions for regression tasks
        (NaN for classification), the forest's native uncertainty, recalibrated once
        :meth:`calibrate` has run (unless ``calibrated=False``)."""
        self._check_fitted()
        if return_std and calibrated and self.calibrators_:
            mean, std = self.predict(X, return_std=True, calibrated=False)
            for j, calibrator in enumerate(self.calibrators_):
                if calibrator is not None:
                    std[:, j] = calibrator.std(mean[:, j], std[:, j])
            return mean, std
        features = self._featurizer().transform(X)
        out = np.empty((features.shape[0], len(self.tasks_)))
        std = np.full_like(out, np.nan)
        for j, forest in enumerate(self.forests_):
            leaf, spread = forest.predict(features, return_std=True)
            threshold = (getattr(self, "thresholds_", None) or [None] * len(self.tasks_))[j]
            if self.task_types_[j] == "classification" and threshold not in (None, 0.5):
                out[:, j] = (leaf[:, self.classes_[j].index(1)] >= threshold).astype(float)
            elif self.task_types_[j] == "classification":
                out[:, j] = np.asarray(self.classes_[j])[leaf.argmax(axis=1)]
            else:
                out[:, j], std[:, j] = leaf[:, 0], spread[:, 0]
        return (out, std) if return_std else out

    def calibrate(self, X: object = None, y: object = None, method: str = "isotonic"):
        """Calibrate the spread of every regression task: on the out-of-bag rows kept at
        fitting (``X=None``; needs ``out_of_bag=True``), or on held-out rows ``X, y`` that the
        forest never trained on. :meth:`predict` then returns the recalibrated spread and
        :meth:`predict_interval` calibrated intervals."""
        self._check_fitted()
        regression = [j for j, k in enumerate(self.task_types_) if k == "regression"]
        if X is None:
            missing = [self.tasks_[j] for j in regression if self.oob_[j] is None]
            if missing:
                raise InvalidParameterError(
                    f"no out-of-bag rows kept for {missing}; fit a random forest with "
                    "out_of_bag=True or pass held-out rows X, y"
                )
            triplets = {j: self.oob_[j] for j in regression}
        else:
            truth = np.asarray(y, dtype=float).reshape(-1, len(self.tasks_))
            mean, std = self.predict(X, return_std=True, calibrated=False)
            triplets = {j: np.vstack([truth[:, j], mean[:, j], std[:, j]]) for j in regression}
        self.calibrators_ = [
            calibrate_on_out_of_bag(triplets[j], method, self.tasks_[j]) if j in triplets else None
            for j in range(len(self.tasks_))
        ]
        return self

    def predict_interval(self, X: object, coverage: float = 0.9):
        """``(lo, hi)`` of nominal ``coverage``, each (n, n_tasks) (NaN for classification):
        from the calibration when there is one, else split conformal on the out-of-bag
        absolute residuals (the trees' own spread is near zero on training compositions, so
        it is never used uncalibrated); refused for a forest with neither.
        :meth:`interval_source` says which applies."""
        if not 0 < coverage < 1:
            raise InvalidParameterError(f"coverage={coverage!r}; expected a value in (0, 1)")
        calibrators = self._interval_calibrators()
        mean, std = self.predict(X, return_std=True, calibrated=False)
        lo, hi = np.full_like(mean, np.nan), np.full_like(mean, np.nan)
        for j, calibrator in enumerate(calibrators):
            if calibrator is not None:
                lo[:, j], hi[:, j] = calibrator.interval(mean[:, j], std[:, j], coverage)
        return lo, hi

    def _interval_calibrators(self) -> list:
        """Per task, the calibrator its intervals come from (None for classification)."""
        self._check_fitted()
        if getattr(self, "calibrators_", None):
            return self.calibrators_
        regression = [j for j, k in enumerate(self.task_types_) if k == "regression"]
        oob = getattr(self, "oob_", None) or [None] * len(self.tasks_)
        if any(oob[j] is None for j in regression):
            raise InvalidParameterError(
                "this forest keeps no out-of-bag rows and is not calibrated, and the trees' "
                "spread alone is near zero on training compositions; fit a random forest with "
                "out_of_bag=True, or calibrate it on held-out rows"
            )
        return [
            calibrate_on_out_of_bag(oob[j], "conformal", self.tasks_[j])
            if j in regression
            else None
            for j in range(len(self.tasks_))
        ]

    def interval_source(self) -> str:
        """Where :meth:`predict_interval` takes its width from, in words."""
        if getattr(self, "calibrators_", None):
            kind = next(c for c in self.calibrators_ if c is not None).to_dict()["kind"]
            return f"the trees' spread, {kind} calibration on the out-of-bag rows"
        self._interval_calibrators()  # refuses a forest without out-of-bag rows
        return (
            "split conformal on the out-of-bag absolute residuals (one width for all); "
            "`matlattice calibrate` makes the width follow the trees' spread"
        )

    def predict_trees(self, X: object) -> np.ndarray:
        """Every tree's prediction, shape (n_trees, n, n_tasks) (regression tasks; the
        ensemble members of the forest, e.g. for Thompson sampling)."""
        self._check_fitted()
        features = self._featurizer().transform(X)
        per_task = [forest.tree_values(features)[:, :, 0] for forest in self.forests_]
        return np.stack(per_task, axis=-1).transpose(1, 0, 2)

    def predict_proba(self, X: object) -> np.ndarray:
        """Probability of class 1 per classification task, shape (n, n_tasks) (NaN elsewhere)."""
        self._check_fitted()
        features = self._featurizer().transform(X)
        out = np.full((features.shape[0], len(self.tasks_)), np.nan)
        for j, forest in enumerate(self.forests_):
            if self.task_types_[j] == "classification":
                proba = forest.predict(features)
                classes = self.classes_[j]
                out[:, j] = proba[:, classes.index(1)] if 1 in classes else 0.0
        return out

    def save(self, folder: Path) -> Path:
        """Save to ``folder``: ``config.json`` (class, format version, params) + safetensors."""
        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors: dict[str, np.ndarray] = {}
        for j, forest in enumerate(self.forests_):
            tensors.update(forest.to_tensors(f"task{j}"))
            if getattr(self, "oob_", None) and self.oob_[j] is not None:
                tensors[f"task{j}.oob"] = np.ascontiguousarray(self.oob_[j])
        weights = atomic_write(folder / "forests.safetensors", lambda p: save_file(tensors, str(p)))
        atomic_write_json(
            folder / "config.json",
            {
                "class": "MultiTaskForest",
                "format_version": FORMAT_VERSION,
                "weights_sha256": {weights.name: file_sha256(weights)},
                "params": self.get_params(),
                "tasks": self.tasks_,
                "task_types": self.task_types_,
                "classes": self.classes_,
                "n_train": self.n_train_,
                "thresholds": getattr(self, "thresholds_", None),
                "calibration": [c.to_dict() if c is not None else None for c in calibrators]
                if (calibrators := getattr(self, "calibrators_", None))
                else None,
            },
        )
        return folder

    @classmethod
    def load(cls, folder: Path) -> MultiTaskForest:
        """Load a model saved by :meth:`save` (no pickle; version-checked)."""
        folder = Path(folder)
        config = read_model_config(folder, "MultiTaskForest", FORMAT_VERSION)
        params = dict(config["params"])
        if params.get("task_types") is not None:
            params["task_types"] = tuple(params["task_types"])
        model = cls(**params)
        tensors = load_file(str(verified_weights(folder, config, "forests.safetensors")))
        model.tasks_ = list(config["tasks"])
        model.task_types_ = list(config["task_types"])
        model.classes_ = list(config["classes"])
        model.n_train_ = list(config["n_train"])
        model.thresholds_ = config.get("thresholds") or [None] * len(model.tasks_)  # older files
        model.forests_ = [
            ForestArrays.from_tensors(tensors, f"task{j}") for j in range(len(model.tasks_))
        ]
        model.oob_ = [tensors.get(f"task{j}.oob") for j in range(len(model.tasks_))]
        saved = config.get("calibration")
        model.calibrators_ = (
            [calibrator_from_dict(c) if c is not None else None for c in saved] if saved else None
        )
        model.n_features_in_ = 1
        return model


def _infer_task_type(column: np.ndarray) -> str:
    observed = np.unique(column[~np.isnan(column)])
    return (
        "classification" if len(observed) and set(observed.tolist()) <= {0.0, 1.0} else "regression"
    )
