"""The settings of a campaign: one frozen object, checked once, stored as JSON.

:class:`CampaignSettings` replaces the config dict that travelled from ``open`` to the
store and back: every field is checked in ``__post_init__`` (a refusal is an
:class:`~matlattice.errors.InvalidParameterError` that names the bad value and what would
be valid), and :meth:`~CampaignSettings.to_dict` / :meth:`~CampaignSettings.from_dict`
round-trip it through the store's JSON. A store written before some settings existed
still reopens: :func:`same_campaign` reads a missing setting as its "off" value.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Self

from matlattice.discovery.acquisition import ACQUISITIONS, UCB_ALPHA, acquisition_named
from matlattice.discovery.surrogates import check_surrogate
from matlattice.errors import InvalidParameterError, MatlatticeError

__all__ = ["GENERATORS", "CampaignSettings", "same_campaign"]

GOALS = ("max", "min")
#: Open-ended generators a campaign can name (``"mined"`` and ``"ion_exchange"`` are
#: supplied by matlattice.design).
GENERATORS = ("substitution", "mined", "ion_exchange")


class _FrozenDict(dict):
    """A read-only dict: the mappings of frozen settings (JSON-ready, picklable)."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("campaign settings are frozen; make new ones with dataclasses.replace")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self.items()))

    def __reduce__(self):
        return (type(self), (dict(self),))


@dataclass(frozen=True)
class CampaignSettings:
    """Everything that defines a campaign; stored in its database and checked on reopen.

    Parameters
    ----------
    target : property name (in messages and results; ``"parego"`` with ``objectives``)
    goal : ``"max"`` or ``"min"`` (``"max"`` with ``objectives``)
    acquisition : a name of :data:`~matlattice.discovery.acquisition.ACQUISITIONS`
    batch_size : candidates per ask (two fidelities: a batch is worth ``batch_size`` main
        measurements)
    budget : measurements in all (two fidelities: cost units)
    initial : random measurements before the surrogate is fitted
    alpha : UCB exploration weight (``mu + alpha sigma``)
    window : ``(lo, hi)`` in the property's unit, for the ``"window"`` acquisition
    diversity : spread a batch over k-means clusters of the surrogate's embedding
    seed : seed of every random choice (the initial design, Thompson draws, ParEGO weights)
    model : surrogate name, ``"rf"``, ``"mlp"`` or ``"gp"``
        (:func:`~matlattice.discovery.surrogates.model_by_name`)
    retrain_every : refit the surrogate on every k-th model-driven ask only
    reticulum_gamma : between refits, correct the predictions by the residuals of the new
        results with this sensitivity in [0, 1] (None: off)
    warm_start_epochs : refits of a neural surrogate start from the previous encoder and
        train at most this many epochs (None: off)
    probe_size : candidates of the stability probe (0: off)
    objectives : ``{name: "max" | "min"}`` of two or more objectives: a ParEGO campaign
    fidelities : ``{"main": cost, cheap: cost}``: a two-fidelity campaign
    generate : open-ended: new compositions added to the pool per model-driven ask
    generator : what makes them: ``"substitution"`` (same-group swaps and amount moves,
        built in), ``"mined"`` (the substitutions the pool's own compositions show) or
        ``"ion_exchange"`` (pymatgen's data-mined ion substitutions); the last two come from
        :mod:`matlattice.design`, which then supplies the generator

    >>> s = CampaignSettings(target="band_gap", acquisition="ei", budget=50)
    >>> CampaignSettings.from_dict(s.to_dict()) == s
    True
    >>> CampaignSettings(goal="up")
    Traceback (most recent call last):
    ...
    matlattice.errors.InvalidParameterError: goal='up'; expected 'max' or 'min'
    """

    target: str = "target"
    goal: str = "max"
    acquisition: str = "ucb"
    batch_size: int = 8
    budget: int = 100
    initial: int = 16
    alpha: float = UCB_ALPHA
    window: tuple[float, float] | None = None
    diversity: bool = False
    seed: int = 0
    model: str = "rf"
    retrain_every: int = 1
    reticulum_gamma: float | None = None
    warm_start_epochs: int | None = None
    probe_size: int = 256
    objectives: Mapping[str, str] | None = None
    fidelities: Mapping[str, float] | None = None
    generate: int = 0
    generator: str = "substitution"

    def __post_init__(self) -> None:
        for name in ("batch_size", "budget", "initial", "retrain_every"):
            self._set(name, _integer(name, getattr(self, name), minimum=1))
        for name in ("seed", "probe_size", "generate"):
            self._set(name, _integer(name, getattr(self, name), minimum=0))
        if self.warm_start_epochs is not None:  # 0 means off, as None does
            epochs = _integer("warm_start_epochs", self.warm_start_epochs, minimum=0)
            self._set("warm_start_epochs", epochs or None)
        self._set("alpha", _number("alpha", self.alpha, lo=0.0))
        if self.reticulum_gamma is not None:
            gamma = _number("reticulum_gamma", self.reticulum_gamma, lo=0.0, hi=1.0)
            self._set("reticulum_gamma", gamma)
        if not isinstance(self.diversity, bool):
            raise InvalidParameterError(f"diversity={self.diversity!r}; expected True or False")
        check_surrogate(self.model)
        self._check_aim()
        self._check_acquisition()
        if self.objectives is not None:
            self._check_objectives()
        if self.fidelities is not None:
            self._check_fidelities()
        if self.generator not in GENERATORS:
            raise InvalidParameterError(
                f"generator={self.generator!r}; expected one of {GENERATORS}"
            )
        if self.generate and (self.objectives is not None or self.fidelities is not None):
            raise InvalidParameterError(
                f"generate={self.generate}: open-ended generation is for single-objective "
                "campaigns; expected generate=0 with objectives or fidelities"
            )

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)  # normalising a frozen instance in __init__

    def _check_aim(self) -> None:
        if self.objectives is not None:  # ParEGO values are maximised
            self._set("target", "parego")
            self._set("goal", "max")
        if not isinstance(self.target, str) or not self.target:
            raise InvalidParameterError(f"target={self.target!r}; expected a property name")
        if self.goal not in GOALS:
            raise InvalidParameterError(f"goal={self.goal!r}; expected 'max' or 'min'")

    def _check_acquisition(self) -> None:
        try:
            acquisition = acquisition_named(self.acquisition)
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"acquisition={self.acquisition!r}: {exc}") from None
        if self.window is not None:
            window = tuple(self.window) if isinstance(self.window, list | tuple) else ()
            if len(window) != 2:
                raise InvalidParameterError(f"window={self.window!r}; expected (lo, hi)")
            lo, hi = (_number("window", v) for v in window)
            if not lo < hi:
                raise InvalidParameterError(f"window={self.window!r}; expected lo < hi")
            self._set("window", (lo, hi))
        elif "window" in acquisition.needs:
            raise InvalidParameterError(acquisition.missing("window"))

    def _check_objectives(self) -> None:
        objectives = self.objectives
        ok = isinstance(objectives, Mapping) and len(objectives) >= 2
        if not ok or any(goal not in GOALS for goal in objectives.values()):
            raise InvalidParameterError(
                f"objectives={_plain(objectives)!r}; expected two or more names with goal max "
                "or min"
            )
        if self.retrain_every != 1 or self.reticulum_gamma is not None:
            raise InvalidParameterError(
                f"retrain_every={self.retrain_every}, reticulum_gamma={self.reticulum_gamma}: "
                "a multi-objective campaign refits every ask (its ParEGO weights change); "
                "expected retrain_every=1 and no reticulum"
            )
        if self.acquisition == "window":
            raise InvalidParameterError(
                "acquisition='window' does not apply to a multi-objective campaign; expected "
                f"one of {', '.join(n for n in ACQUISITIONS if n != 'window')}"
            )
        self._set("objectives", _FrozenDict({str(k): g for k, g in objectives.items()}))

    def _check_fidelities(self) -> None:
        costs = self.fidelities
        names = set(costs) if isinstance(costs, Mapping) else set()
        if "main" not in names or len(names) != 2:
            raise InvalidParameterError(
                f"fidelities={_plain(costs)!r}; expected 'main' and one cheap fidelity with costs"
            )
        values = {k: _number(f"fidelities[{k!r}]", v, lo=0.0) for k, v in costs.items()}
        if not all(v > 0 for v in values.values()):
            raise InvalidParameterError(
                f"fidelities={_plain(costs)!r}; expected a positive cost for each fidelity"
            )
        if (
            self.objectives is not None
            or self.retrain_every != 1
            or self.reticulum_gamma is not None
        ):
            raise InvalidParameterError(
                f"objectives={_plain(self.objectives)!r}, retrain_every={self.retrain_every}, "
                f"reticulum_gamma={self.reticulum_gamma}: a two-fidelity campaign refits every "
                "ask and has one objective; expected no objectives, retrain_every=1 and no "
                "reticulum"
            )
        if ACQUISITIONS[self.acquisition].per_pick:
            raise InvalidParameterError(
                f"acquisition={self.acquisition!r}: Thompson sampling is not built for "
                "two-fidelity campaigns; expected one of "
                + ", ".join(n for n, a in ACQUISITIONS.items() if not a.per_pick)
            )
        self._set("fidelities", _FrozenDict(values))

    # --- JSON round trip ------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain JSON-ready values: the dict a campaign store holds."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["window"] = list(self.window) if self.window is not None else None
        for name in ("objectives", "fidelities"):
            out[name] = _plain(out[name])
        return out

    @classmethod
    def from_dict(cls, raw: Mapping) -> Self:
        """The settings of ``raw`` (as :meth:`to_dict` writes them); a setting missing from
        ``raw`` takes its default, a name that is not a setting is refused."""
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - fields)
        if unknown:
            raise MatlatticeError(
                f"campaign settings have no {unknown}; expected some of {sorted(fields)}"
            )
        return cls(**raw)  # a JSON list of window becomes a tuple in __post_init__

    def replace(self, **changes: object) -> Self:
        """A copy with ``changes`` applied, checked again (the settings are frozen)."""
        return dataclasses.replace(self, **changes)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, f.name) for f in dataclasses.fields(self)))


def _plain(mapping: object) -> object:
    return dict(mapping) if isinstance(mapping, Mapping) else mapping


def _integer(name: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise InvalidParameterError(f"{name}={value!r}; expected {expected}")
    return int(value)


def _number(name: str, value: object, *, lo: float = -math.inf, hi: float = math.inf) -> float:
    ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not lo <= value <= hi:
        bounds = [f">= {lo:g}" if lo > -math.inf else "", f"<= {hi:g}" if hi < math.inf else ""]
        expected = " and ".join(b for b in bounds if b)
        raise InvalidParameterError(
            f"{name}={value!r}; expected a finite number" + (f" {expected}" if expected else "")
        )
    return float(value)


# --- reopening a store written by an earlier version ---------------------------------------
# settings added after the first stores were written, with the value that means "off"; the
# stability probe is a diagnostic (it changes no proposal), so any value reopens a store
_OFF = {
    "warm_start_epochs": None,
    "objectives": None,
    "fidelities": None,
    "generate": 0,
    "generator": "substitution",
}
_DIAGNOSTIC = ("probe_size",)


def _settings_added_later(config: dict, saved: dict) -> dict:
    """What a store written before some settings existed implicitly holds for them."""
    out = {}
    for key, value in config.items():
        if key in saved:
            continue
        if key in _DIAGNOSTIC:
            out[key] = value
        elif key in _OFF:
            out[key] = _OFF[key]
        elif not value:
            out[key] = value
    return out


def same_campaign(saved: dict, requested: dict) -> bool:
    """Whether a store's ``saved`` JSON describes the campaign ``requested`` (both as
    :meth:`CampaignSettings.to_dict` writes them, with the store's ``pool_size``): a
    setting the store predates counts as off, a diagnostic one as anything."""
    return {**_settings_added_later(requested, saved), **saved} == requested
