"""A plentifully labelled property standing in for a scarce target (seed 002's borrowing).

When the lattice (here its data coupling: Spearman's rho on co-labelled compositions, with
the copy gate of :func:`~matlattice.multitask.borrowing.borrowed_partners`) couples a design
target strongly to a property labelled on many more compositions (the same dataset's, or
another's via ``--borrow``), the target's model reads the proxy: a forest fitted on the
proxy's labels predicts it for every composition, and the target's forest takes that
prediction as one more feature beside the Magpie statistics (stacking). On the target's
training rows the proxy feature is the proxy forest's out-of-bag prediction, so the target
forest learns from the same kind of value it will see on new compositions, not from labels
it will never have there.

:class:`ProxyModel` predicts every target (plain forests for those without a proxy) with
the ``tasks_`` / ``predict(formulas, return_std=True)`` interface the designer reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor

from matlattice.errors import InvalidParameterError
from matlattice.models import MultiTaskForest
from matlattice.multitask.borrowing import BORROW, borrowed_partners
from matlattice.represent import ElementStatsFeaturizer

__all__ = ["ProxyModel", "choose_proxies"]

#: A proxy needs this many times the target's labels.
PLENTY = 2.0


def choose_proxies(
    known: pd.DataFrame, targets: Sequence[str], candidates: Sequence[str]
) -> tuple[dict[str, str], dict]:
    """Per target, the proxy among ``candidates`` (columns of ``known``): the most strongly
    coupled one (``BORROW``'s coupling, count and copy rules) that has at least ``PLENTY``
    times the target's labels. Returns ``({target: proxy}, evidence)``; the evidence holds
    every pair's rho, co-labelled count, label counts and whether it was chosen."""
    _, evidence = borrowed_partners(known, list(targets), list(candidates))
    chosen: dict[str, str] = {}
    for target in targets:
        labels = int(known[target].notna().sum())
        ranked = []
        for column, pair in evidence[target].items():
            pair["labels"] = int(known[column].notna().sum())
            pair["plenty"] = pair["labels"] >= PLENTY * labels
            pair["proxy"] = bool(pair["partner"] and pair["plenty"])
            if pair["proxy"]:
                ranked.append((-abs(pair["spearman"]), column))
        if ranked:
            chosen[target] = sorted(ranked)[0][1]
    return chosen, {"rules": {**BORROW, "plenty": PLENTY}, "pairs": evidence}


@dataclass
class _Stacked:
    """One target's forest over [Magpie statistics, proxy prediction]."""

    forest: RandomForestRegressor
    proxy: MultiTaskForest

    def predict(self, features: np.ndarray, formulas: list[str]) -> tuple[np.ndarray, ...]:
        stacked = np.column_stack([features, np.ravel(self.proxy.predict(formulas))])
        trees = np.stack([tree.predict(stacked) for tree in self.forest.estimators_])
        return trees.mean(axis=0), trees.std(axis=0)


class ProxyModel:
    """Forests for ``targets``, each target with a proxy reading it (module docstring).

    Parameters
    ----------
    proxies : ``{target: proxy column}`` (:func:`choose_proxies`); targets not in it get a
        plain forest
    n_estimators, random_state : of every forest
    """

    def __init__(self, proxies: dict[str, str], n_estimators: int = 300, random_state: int = 0):
        self.proxies = dict(proxies)
        self.n_estimators = n_estimators
        self.random_state = random_state

    def fit(self, frame: pd.DataFrame, targets: Sequence[str]) -> ProxyModel:
        """Fit on ``frame`` (``formula``, the ``targets`` and the proxy columns; NaN =
        unlabelled)."""
        missing = [c for c in {*targets, *self.proxies.values()} if c not in frame.columns]
        if missing:
            raise InvalidParameterError(f"no column {missing} to fit the proxy model on")
        self.tasks_ = list(targets)
        self.featurizer_ = ElementStatsFeaturizer("magpie", missing="mean").fit()
        plain = [t for t in self.tasks_ if t not in self.proxies]
        self.plain_ = None
        if plain:
            self.plain_ = MultiTaskForest(
                n_estimators=self.n_estimators, random_state=self.random_state
            ).fit(frame["formula"].tolist(), frame[plain])
        self.stacked_ = {t: self._fit_stacked(frame, t, self.proxies[t]) for t in self.proxies}
        return self

    def _fit_stacked(self, frame: pd.DataFrame, target: str, proxy: str) -> _Stacked:
        labelled = frame[proxy].notna().to_numpy()
        proxy_forest = MultiTaskForest(
            n_estimators=self.n_estimators, random_state=self.random_state, out_of_bag=True
        ).fit(frame.loc[labelled, "formula"].tolist(), frame.loc[labelled, [proxy]])
        feature = np.full(len(frame), np.nan)
        feature[labelled] = proxy_forest.oob_[0][1]  # out-of-bag where the proxy trained
        unseen = ~labelled | np.isnan(feature)
        if unseen.any():
            formulas = frame.loc[unseen, "formula"].tolist()
            feature[unseen] = np.ravel(proxy_forest.predict(formulas))
        rows = frame[target].notna().to_numpy()
        features = self.featurizer_.transform(frame.loc[rows, "formula"].tolist())
        forest = RandomForestRegressor(
            n_estimators=self.n_estimators, random_state=self.random_state, n_jobs=-1
        ).fit(np.column_stack([features, feature[rows]]), frame.loc[rows, target].to_numpy())
        return _Stacked(forest, proxy_forest)

    def predict(self, formulas: list[str], return_std: bool = False):
        """``(n, targets)`` means (and the trees' spreads with ``return_std``)."""
        formulas = list(formulas)
        mean = np.empty((len(formulas), len(self.tasks_)))
        std = np.empty_like(mean)
        plain = [t for t in self.tasks_ if t not in self.proxies]
        if plain:
            m, s = self.plain_.predict(formulas, return_std=True)
            for j, task in enumerate(plain):
                k = self.tasks_.index(task)
                mean[:, k], std[:, k] = m[:, j], s[:, j]
        if self.stacked_:
            features = self.featurizer_.transform(formulas)
            for task, stacked in self.stacked_.items():
                k = self.tasks_.index(task)
                mean[:, k], std[:, k] = stacked.predict(features, formulas)
        return (mean, std) if return_std else mean
