"""Benchmark method strings: ``"<acquisition>@<model>[+option...]"``, parsed in one place.

A method is ``"ucb@rf"``, ``"ei@gp"``, ``"thompson@mlp"``... or ``"random"`` (no
surrogate), optionally with loop settings: ``+every=K`` (refit every K-th ask),
``+reticulum=G`` (the feedback reticulum between refits, sensitivity G), ``+warm=E`` (warm
starts of at most E epochs), ``+cheap`` (a two-fidelity campaign with the benchmark's
cheap fidelity), ``+generate=K`` (open-ended: K new compositions join the pool per ask) and
``+generator=NAME`` (what makes them: substitution, mined or ion_exchange), e.g.
``"ucb@rf+every=3+reticulum=0.8"`` or ``"ucb@rf+generate=20+generator=mined"``.

On a window goal the improvement acquisitions ``ucb`` and ``ei`` mean the window
probability: ``parse_method("ucb@rf", window=(1.2, 1.8))`` runs ``window``, and the
benchmark reports it as ``"window@rf"`` (:func:`method_name`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from matlattice.discovery.acquisition import acquisition_named
from matlattice.discovery.surrogates import check_surrogate
from matlattice.errors import InvalidParameterError

__all__ = ["Method", "method_name", "parse_method"]

# option -> (the CampaignSettings field it sets, its type)
_LOOP_OPTIONS = {
    "every": ("retrain_every", int),
    "reticulum": ("reticulum_gamma", float),
    "warm": ("warm_start_epochs", int),
    "generate": ("generate", int),
    "generator": ("generator", str),
}
_ON_A_WINDOW = {"ucb": "window", "ei": "window"}  # what an improvement acquisition becomes


class Method(NamedTuple):
    """A parsed method: the acquisition it runs, the surrogate (``""`` for ``random``) and
    the :class:`~matlattice.discovery.settings.CampaignSettings` fields its options set
    (``fidelities`` for ``+cheap``)."""

    acquisition: str
    model: str
    options: dict

    @property
    def two_fidelity(self) -> bool:
        return "fidelities" in self.options


def parse_method(
    method: str,
    *,
    window: tuple[float, float] | None = None,
    fidelities: Mapping[str, float] | None = None,
) -> Method:
    """The acquisition, surrogate and settings of ``method`` (see the module docstring).

    ``window``: the benchmark's target window (``ucb`` and ``ei`` become ``window``);
    ``fidelities``: the costs ``+cheap`` sets (refused without them).

    >>> parse_method("ucb@mlp+every=3+reticulum=0.8+warm=20")
    Method(acquisition='ucb', model='mlp', options={'retrain_every': 3, 'reticulum_gamma': 0.8, 'warm_start_epochs': 20})
    >>> parse_method("random")
    Method(acquisition='random', model='', options={})
    """  # noqa: E501
    head, *rest = method.split("+")
    acquisition, _, model = head.partition("@")
    try:
        spec = acquisition_named(acquisition)
        if model or spec.uses_model:
            check_surrogate(model)
    except InvalidParameterError as exc:
        raise InvalidParameterError(
            f"method {method!r}: {exc}; a method is acquisition@model, e.g. ucb@rf, or random"
        ) from None
    if window is not None:
        acquisition = _ON_A_WINDOW.get(acquisition, acquisition)
    options: dict = {}
    for option in rest:
        if option == "cheap":
            if fidelities is None:
                raise InvalidParameterError(f"method {method!r} needs a cheap fidelity (cheap=...)")
            if not model:
                raise InvalidParameterError(
                    f"method {method!r}: +cheap needs a surrogate to link the fidelities, "
                    "e.g. ucb@rf+cheap"
                )
            options["fidelities"] = dict(fidelities)
            continue
        key, _, value = option.partition("=")
        field, kind = _LOOP_OPTIONS.get(key, ("", None))
        try:
            options[field] = kind(value)
        except (TypeError, ValueError):
            raise InvalidParameterError(
                f"method option {option!r} in {method!r}; expected every=K, reticulum=G, "
                "warm=E, generate=K, generator=NAME or cheap"
            ) from None
    return Method(acquisition, model, options)


def method_name(method: str, parsed: Method) -> str:
    """``method`` as it runs: its acquisition replaced by the one ``parsed`` resolved to
    (``"ucb@rf+every=3"`` on a window goal -> ``"window@rf+every=3"``), options as written."""
    written = method.split("+")[0].partition("@")[0]
    return parsed.acquisition + method[len(written) :]
