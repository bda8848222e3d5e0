"""A proxy standing in for a scarce target: the coupled, plentiful property is chosen (not
an unrelated one, not a copy, not a scarce one), and reading it makes the scarce target's
predictions better on compositions without labels, in several drawn worlds."""

from __future__ import annotations

import numpy as np
import pytest

from matlattice.data import load_dataset
from matlattice.data.synthetic import planted_properties
from matlattice.design.proxy import ProxyModel, choose_proxies
from matlattice.errors import InvalidParameterError
from matlattice.models import MultiTaskForest


@pytest.fixture(scope="module")
def formulas():
    frame = load_dataset("aflow").frame
    return frame["formula"].drop_duplicates().sample(1500, random_state=0).tolist()


def _world(formulas, seed: int, labelled: float = 0.1):
    """``y`` labelled on a ``labelled`` share; ``proxy`` = y + noise everywhere; an
    unrelated column; a copy of y on y's rows; a coupled but scarce column."""
    rng = np.random.default_rng(seed)
    frame = planted_properties(formulas, 3, n_properties=2, seed=seed).frame
    y = frame["p0"].to_numpy()
    frame = frame.drop(columns=["p0", "p1"]).assign(
        y=np.where(rng.random(len(y)) < labelled, y, np.nan),
        proxy=y + 0.15 * rng.standard_normal(len(y)),
        unrelated=rng.standard_normal(len(y)),
    )
    frame["copy"] = frame["y"]
    frame["scarce"] = frame["y"] + 0.1 * rng.standard_normal(len(y))  # on y's rows only
    return frame, y


def test_the_coupled_plentiful_property_is_chosen_and_the_rest_are_not(formulas):
    frame, _ = _world(formulas, 0)
    chosen, evidence = choose_proxies(frame, ["y"], ["unrelated", "copy", "scarce", "proxy"])
    assert chosen == {"y": "proxy"}
    pairs = evidence["pairs"]["y"]
    assert not pairs["copy"]["partner"]  # the same labels: a copy, never a partner
    assert not pairs["unrelated"]["partner"]
    assert pairs["scarce"]["partner"] and not pairs["scarce"]["plenty"]
    assert choose_proxies(frame, ["y"], ["unrelated"])[0] == {}


@pytest.mark.slow
def test_reading_the_proxy_predicts_the_scarce_target_better_in_drawn_worlds(formulas):
    gains = []
    for seed in range(3):
        frame, truth = _world(formulas, 10 + seed)
        rows = frame["y"].notna()
        plain = MultiTaskForest(n_estimators=100, random_state=seed)
        plain.fit(frame.loc[rows, "formula"].tolist(), frame.loc[rows, ["y"]])
        proxy = ProxyModel({"y": "proxy"}, n_estimators=100, random_state=seed)
        proxy.fit(frame, ["y"])
        unseen = frame.loc[~rows, "formula"].tolist()
        error_plain = np.abs(np.ravel(plain.predict(unseen)) - truth[~rows]).mean()
        mean, std = proxy.predict(unseen, return_std=True)
        error_proxy = np.abs(mean[:, 0] - truth[~rows]).mean()
        assert np.all(std >= 0) and mean.shape == (len(unseen), 1)
        gains.append(error_plain / error_proxy)
    assert min(gains) > 1.5, gains  # the proxy's noise is 0.15 sd; the scarce forest's error larger


def test_a_proxy_column_that_is_missing_is_refused(formulas):
    frame, _ = _world(formulas[:200], 0)
    with pytest.raises(InvalidParameterError, match="nothing"):
        ProxyModel({"y": "nothing"}).fit(frame, ["y"])
