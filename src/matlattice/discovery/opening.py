"""Opening a campaign: create or reopen its store, and build the class its settings name.

This module sits above :class:`~matlattice.discovery.campaign.Campaign` and its subclass
:class:`~matlattice.discovery.multifidelity_campaign.MultiFidelityCampaign`, so the parent
class never imports its child: settings with ``fidelities`` open a two-fidelity campaign,
any other settings a :class:`Campaign`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from matlattice.composition import parse_formulas
from matlattice.discovery.campaign import Campaign
from matlattice.discovery.multifidelity_campaign import MultiFidelityCampaign
from matlattice.discovery.settings import CampaignSettings, same_campaign
from matlattice.discovery.store import CampaignStore
from matlattice.discovery.surrogates import model_by_name
from matlattice.errors import InvalidParameterError, MatlatticeError

__all__ = ["open_campaign", "resume_campaign"]


def open_campaign(
    path: Path | str,
    pool: pd.DataFrame | Sequence[str],
    settings: CampaignSettings | None = None,
    *,
    model_factory: Callable[[], object] | None = None,
    generator: Callable[..., list[str]] | None = None,
) -> Campaign:
    """Create the campaign stored at ``path`` over the ``pool`` formulas, or reopen it.

    Parameters
    ----------
    path : the campaign's ``.sqlite`` file (created with its folder if missing)
    pool : candidate formulas (a frame with ``formula``, or a list), each once
    settings : :class:`~matlattice.discovery.settings.CampaignSettings` (default: all
        defaults); a stored campaign reopens only with the settings it was created with
    model_factory : fresh surrogates; overrides ``settings.model`` (not stored: pass it
        again on resume)
    generator : ``generator(parents, k, rng)`` of an open-ended campaign (default
        :class:`~matlattice.discovery.generators.SubstitutionGenerator`; not stored)

    Returns
    -------
    Campaign, or MultiFidelityCampaign when ``settings.fidelities`` is set

    >>> from matlattice.discovery import CampaignSettings, open_campaign
    >>> settings = CampaignSettings(target="gap", acquisition="ei", budget=40, initial=8)
    >>> campaign = open_campaign("c.sqlite", ["NaCl", "KCl", "MgO"], settings)  # doctest: +SKIP
    """
    settings = settings if settings is not None else CampaignSettings()
    frame = pool if isinstance(pool, pd.DataFrame) else pd.DataFrame({"formula": list(pool)})
    if "formula" not in frame.columns:
        raise InvalidParameterError(
            f"the pool has columns {list(frame.columns)}; expected a 'formula' column"
        )
    formulas = frame["formula"].tolist()
    if not formulas:
        raise InvalidParameterError("the pool is empty; expected at least one formula")
    repeated = sorted(set(frame.loc[frame["formula"].duplicated(), "formula"]), key=str)
    if repeated:
        raise InvalidParameterError(
            f"the pool has duplicated formulas {repeated[:5]}; expected each formula once"
        )
    _check_formulas(formulas)
    stored = {**settings.to_dict(), "pool_size": len(formulas)}
    store = CampaignStore(Path(path))
    saved = _saved(store)
    if saved is not None and not same_campaign(saved, stored):
        store.close()
        raise MatlatticeError(f"{path} holds a campaign with another config: {saved}")
    store.save_config(stored)
    store.save_pool(formulas)
    return _build(store, settings, len(formulas), model_factory, generator)


def _check_formulas(formulas: list) -> None:
    """Refuse a pool with formulas that do not parse, naming them (they would be proposed)."""
    batch = parse_formulas(formulas, errors="report")
    if batch.n_invalid:
        shown = "; ".join(f"row {row}: {formula!r} ({fault})" for row, formula, fault in
                          batch.faults[:3])  # fmt: skip
        raise InvalidParameterError(
            f"the pool has {batch.n_invalid} invalid formulas ({shown}"
            + (" ..." if batch.n_invalid > 3 else "")
            + "); remove or correct them"
        )


def resume_campaign(
    path: Path | str,
    model_factory: Callable[[], object] | None = None,
    *,
    generator: Callable[..., list[str]] | None = None,
    read_only: bool = False,
) -> Campaign:
    """Reopen the campaign stored at ``path`` from its file alone (the pool and settings
    are in it); ``model_factory`` and ``generator`` as for :func:`open_campaign`.
    ``read_only``: to read it while another process writes (no lock is taken; do not
    ``ask`` or ``tell``)."""
    if not Path(path).is_file():
        raise MatlatticeError(f"no campaign at {path}; expected a campaign database (.sqlite)")
    store = CampaignStore(Path(path), read_only=read_only)
    saved = _saved(store)
    if saved is None or not store.pool():
        store.close()
        raise MatlatticeError(f"{path} is not a campaign database")
    raw = dict(saved)
    pool_size = raw.pop("pool_size", None)
    try:
        settings = CampaignSettings.from_dict(raw)
    except MatlatticeError as exc:
        store.close()
        raise MatlatticeError(f"{path} holds campaign settings that do not load: {exc}") from exc
    return _build(store, settings, pool_size, model_factory, generator)


def _saved(store: CampaignStore) -> dict | None:
    """The store's settings JSON (with ``pool_size``), or None for a new store."""
    try:
        return store.config()
    except MatlatticeError:
        store.close()
        raise


def _build(store, settings, pool_size, model_factory, generator) -> Campaign:
    cls = MultiFidelityCampaign if settings.fidelities else Campaign
    pool = pd.DataFrame({"formula": store.pool()})  # with any generated ones
    return cls(
        store,
        pool,
        settings,
        model_factory or model_by_name(settings.model),
        pool_size=pool_size,
        generator=generator,
    )
