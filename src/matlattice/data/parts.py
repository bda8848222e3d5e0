"""One way to a job's parts: :func:`resolve_parts` labels every row train, val or test.

Every job (``fit``, ``calibrate``, ``fidelity``, ``entangle``, an estimator's early stopping)
asks this function for its parts: the rows' own parts (a dataset's ``split`` column) when they
have them, else a seeded split at the composition level, by composition, chemical system or
feature cluster. The composition keys it groups by are the ``composition_key`` column that
:func:`~matlattice.data.load_dataset` computes once per dataset; a formula is parsed here only
for rows that arrived without one (a user's frame, a borrowed row).

>>> import pandas as pd
>>> frame = pd.DataFrame({"formula": ["NaCl", "Na2Cl2", "KBr", "LiF"], "y": [1.0, 1, 2, 3]})
>>> parts = resolve_parts(frame, "random", fractions=(0.5, 0.5, 0.0), seed=0)
>>> bool(parts[0] == parts[1])  # one composition, one part
True
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from matlattice.composition import formula_keys
from matlattice.data.splits import chemsys_split, cluster_split, random_split
from matlattice.errors import InvalidParameterError

__all__ = [
    "DEFAULT_FRACTIONS",
    "KEY",
    "SPLITS",
    "frame_keys",
    "hold_out_systems",
    "key_systems",
    "resolve_parts",
]

#: The column of :attr:`Dataset.frame <matlattice.data.Dataset.frame>` that holds each row's
#: composition key (:func:`~matlattice.composition.composition_keys`).
KEY = "composition_key"
#: The ways to split rows into parts (``None`` asks for the rows' own parts, else random).
SPLITS = ("official", "random", "chemsys", "cluster")
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)
_ELEMENT = re.compile(r"[A-Z][a-z]*")


def frame_keys(frame: pd.DataFrame) -> np.ndarray:
    """Composition key per row of ``frame``, shape ``(n,)``.

    The frame's ``composition_key`` column where it has one; formulas are parsed (strictly:
    an invalid one raises) only for rows without a key.
    """
    if KEY not in frame.columns:
        return formula_keys(frame["formula"])
    keys = frame[KEY].to_numpy(dtype=object, copy=True)
    missing = pd.isna(keys)
    if missing.any():
        keys[missing] = formula_keys(frame["formula"].to_numpy()[missing])
    return keys


def key_systems(keys: np.ndarray) -> np.ndarray:
    """The chemical system of each composition key, elements alphabetically: ``"Fe-O"``.

    The same labels as :func:`~matlattice.composition.chemical_systems` of the parsed formulas,
    read from the keys instead of parsing again.

    >>> key_systems(["O0.6 Fe0.4"]).tolist()
    ['Fe-O']
    """
    return np.array(["-".join(sorted(_ELEMENT.findall(str(k)))) for k in keys], dtype=object)


def hold_out_systems(frame: pd.DataFrame, fraction: float = 0.15, seed: int = 0) -> np.ndarray:
    """Boolean mask over ``frame``'s rows: the rows whose chemical system is among a seeded
    ``fraction`` of the distinct systems (rediscovery benchmarks hide them)."""
    if not 0.0 < fraction < 1.0:
        raise InvalidParameterError(f"fraction={fraction} must be between 0 and 1")
    systems = key_systems(frame_keys(frame))
    distinct = np.unique(systems)
    rng = np.random.default_rng(seed)
    held = rng.choice(distinct, size=max(1, round(fraction * len(distinct))), replace=False)
    return np.isin(systems, held)


def resolve_parts(
    rows: pd.DataFrame | np.ndarray,
    split: str | None = None,
    *,
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    seed: int = 0,
    column: str = "split",
    features: np.ndarray | None = None,
) -> np.ndarray:
    """The part (``"train"``, ``"val"`` or ``"test"``) of every row.

    Parameters
    ----------
    rows : DataFrame or array of shape (n,)
        A frame with a ``formula`` column (its ``composition_key`` and ``column`` columns are
        used where present), or the composition keys of the rows.
    split : {None, "official", "random", "chemsys", "cluster"}, default None
        ``None``: the rows' own parts (``column``) when they hold a train and a val part, else
        ``"random"``. ``"official"``: the rows' own parts; an error where there are none.
        ``"random"``: whole compositions at random; ``"chemsys"``: whole chemical systems;
        ``"cluster"``: whole k-means clusters of ``features`` (see
        :mod:`matlattice.data.splits`), each close to ``fractions`` of the rows.
    fractions : (train, val, test), default (0.8, 0.1, 0.1)
        Row shares of a seeded split.
    seed : int, default 0
        Seed of a seeded split (the same seed gives the same parts).
    column : str, default "split"
        The column of the rows' own parts.
    features : array of shape (n, m), optional
        Composition features of the rows (e.g. Magpie statistics), for ``"cluster"``.

    Returns
    -------
    ndarray of str (object), shape (n,)
    """
    if split is not None and split not in SPLITS:
        raise InvalidParameterError(f"split={split!r}; expected one of {SPLITS} or None")
    own = rows[column] if isinstance(rows, pd.DataFrame) and column in rows.columns else None
    if split == "official":
        if own is None:
            raise InvalidParameterError(
                f"the rows have no {column!r} column of official parts; use one of {SPLITS[1:]}"
            )
        return own.to_numpy(dtype=object)
    if split is None:
        if own is not None and {"train", "val"} <= set(own):
            return own.to_numpy(dtype=object)
        split = "random"
    if split == "cluster":
        if features is None:
            raise InvalidParameterError(
                "split='cluster' needs the rows' features (an (n, m) array); pass features="
            )
        return cluster_split(features, fractions, seed=seed)
    keys = frame_keys(rows) if isinstance(rows, pd.DataFrame) else np.asarray(rows, dtype=object)
    if split == "chemsys":
        return chemsys_split(key_systems(keys), fractions, seed=seed)
    return random_split(keys, fractions, seed=seed)
