"""One way to a job's parts: ``resolve_parts`` on a planted frame, against the part assignments
that the five resolvers it replaced (``jobs.parts.split_labels`` and ``train_val``, the
estimator's ``training_data``, ``entangle``'s ``split_frame`` and the sweep's ``_resolve_data``)
made on the same frame, recorded before they were merged."""

import numpy as np
import pandas as pd
import pytest

from matlattice.composition import chemical_systems, parse_formulas
from matlattice.compression.sweep import _resolve_data
from matlattice.data import load_dataset
from matlattice.data.parts import KEY, frame_keys, key_systems, resolve_parts
from matlattice.data.splits import cluster_split
from matlattice.entangle.pipeline import split_frame
from matlattice.errors import InvalidParameterError
from matlattice.jobs.parts import split_labels, train_val
from matlattice.models.estimator.fit_data import training_data

# NaCl/Na2Cl2 and MgO/Mg2O2 are one composition each: 22 compositions in 24 rows
FORMULAS = ["NaCl", "Na2Cl2", "KBr", "LiF", "MgO", "Fe2O3", "FeO", "Fe3O4", "Al2O3", "SiO2"]
FORMULAS += ["TiO2", "CaTiO3", "SrTiO3", "GaAs", "GaN", "InP", "ZnS", "ZnSe", "CdTe", "Cu2O"]
FORMULAS += ["CuO", "NiO", "CoO", "Mg2O2"]
NAMES = {"t": "train", "v": "val", "s": "test"}


def _parts(code: str) -> list[str]:
    return [NAMES[c] for c in code]


def _code(parts) -> str:
    letters = {v: k for k, v in NAMES.items()}
    return "".join(letters[p] for p in parts)


def _rows_in(full: pd.DataFrame, **parts: pd.DataFrame) -> str:
    """The letter of the part (``t=``, ``v=``, ``s=``) each row of ``full`` went to, ``?`` for
    none (rows matched by their unique column ``a``)."""
    out = np.full(len(full), "?", dtype=object)
    for letter, part in parts.items():
        out[np.isin(full["a"].to_numpy(), part["a"].to_numpy())] = letter
    return "".join(out)


@pytest.fixture
def planted() -> pd.DataFrame:
    return pd.DataFrame({"formula": FORMULAS, "a": np.arange(24.0), "b": np.arange(24.0) * 2})


@pytest.fixture
def planted_ds(planted, tmp_path):
    path = tmp_path / "planted.csv"
    planted.to_csv(path, index=False)
    return load_dataset(path, split_seed=0)


@pytest.mark.parametrize(
    ("split", "fractions", "seed", "expected"),
    [
        ("random", (0.8, 0.1, 0.1), 1, "tttttttsttttttvvtttvsttt"),
        ("random", (0.5, 0.25, 0.25), 0, "vvstttstvtstttvsstsvttvt"),
        ("random", (0.75, 0.25, 0.0), 2, "ttvtvvvttvtttttttttttttv"),
        ("random", (0.9, 0.1, 0.0), 0, "ttvtttttttttttttvttttttt"),
        ("chemsys", (0.5, 0.25, 0.25), 3, "vvtvtsssstststvttvtttvtt"),
        (None, (0.9, 0.1, 0.0), 0, "ttvtttttttttttttvttttttt"),  # no own parts: random
    ],
)
def test_planted_frame_gets_the_recorded_parts(planted, split, fractions, seed, expected):
    parts = resolve_parts(planted, split, fractions=fractions, seed=seed)
    assert _code(parts) == expected
    assert parts[0] == parts[1] and parts[4] == parts[23]  # one composition, one part
    # the same parts from the keys alone
    assert _code(resolve_parts(frame_keys(planted), split, fractions=fractions, seed=seed)) == (
        expected
    )


def test_every_job_resolves_the_same_parts(planted, planted_ds):
    ds = planted_ds
    assert len(ds) == 22 and _code(ds.frame["split"]) == "tstttttttvttttvstttttt"
    # fit / calibrate: a dataset's parts for a split and seed
    labels = split_labels(ds, "random", 1)
    assert _code(labels["_part"]) == "ttttttsttttttvttttvstt"
    assert (labels["_part"] == resolve_parts(ds.frame, "random", seed=1)).all()
    assert _code(split_labels(ds, "chemsys", 3)["_part"]) == "ttttvvvststttttttttttt"
    # fit: early stopping on a training part's val rows, else a 10 % by composition
    train = labels[labels["_part"] != "test"]
    fit_part, val_part = train_val(train)
    assert (val_part["_part"] == "val").all() and len(fit_part) + len(val_part) == len(train)
    frame = ds.frame[["formula", "a", "b"]]
    fit_part, val_part = train_val(frame)
    assert _rows_in(frame, t=fit_part, v=val_part) == "tvtttttttttttttvtttttt"
    fit_part, val_part = train_val(planted)
    assert _rows_in(planted, t=fit_part, v=val_part) == "ttvtttttttttttttvttttttt"
    # the estimator's early-stopping rows and entangle's parts (val share 0.25, seed 2)
    for full, expected in (
        (frame, "tvtvvvttvvtttttttttttt"),
        (planted, "ttvtvvvttvtttttttttttttv"),
    ):
        data = training_data(full, None, None, None, val_fraction=0.25, seed=2)
        fitted = pd.DataFrame({"a": data.values[:, 0]})
        held = pd.DataFrame({"a": data.val_values[:, 0]})
        assert _rows_in(full, t=fitted, v=held) == expected
        _, entangle_train, entangle_val, _ = split_frame(full, ["a", "b"], 0.25, 2)
        assert _rows_in(full, t=entangle_train, v=entangle_val) == expected
    # the sweep: a frame split 80/10/10 by composition, seeded
    sweep_train, sweep_val, sweep_test, *_ = _resolve_data(planted, None, 1)
    assert _rows_in(planted, t=sweep_train, v=sweep_val, s=sweep_test) == (
        "tttttttsttttttvvtttvsttt"
    )
    # a dataset's own parts for entangle and the sweep
    own = ds.frame[ds.frame["split"] == "test"]
    _, entangle_train, entangle_val, _ = split_frame(ds, None, 0.25, 2)
    assert _rows_in(ds.frame, t=entangle_train, v=entangle_val, s=own) == _code(ds.frame["split"])
    sweep_train, sweep_val, sweep_test, *_ = _resolve_data(ds, None, 1)
    assert _rows_in(ds.frame, t=sweep_train, v=sweep_val, s=sweep_test) == _code(ds.frame["split"])


def test_own_parts_are_kept_where_they_hold_train_and_val(planted):
    own = planted.assign(split=_parts("tttttttsttttttvvtttvsttt")[::-1])
    assert _code(resolve_parts(own)) == "tttsvtttvvttttttsttttttt"
    assert _code(resolve_parts(own, "official")) == "tttsvtttvvttttttsttttttt"
    no_val = planted.assign(split=["train"] * 20 + ["test"] * 4)
    assert (resolve_parts(no_val) == resolve_parts(planted, "random")).all()
    by_column = planted.assign(_part=own["split"])
    assert _code(resolve_parts(by_column, column="_part")) == "tttsvtttvvttttttsttttttt"
    with pytest.raises(InvalidParameterError, match="'split' column"):
        resolve_parts(planted, "official")


def test_the_key_column_travels_and_is_reused(planted, planted_ds):
    frame = planted_ds.frame
    assert list(frame.columns) == ["formula", "a", "b", "split", KEY]
    assert frame[KEY].iloc[0] == "Na0.5 Cl0.5"
    # keys come from the column, not from the formulas; only missing ones are parsed
    fake = planted.assign(**{KEY: [f"k{i % 3}" for i in range(24)]})
    fake.loc[5, KEY] = None
    keys = frame_keys(fake)
    assert keys[0] == "k0" and keys[5] == "O0.6 Fe0.4"
    assert (resolve_parts(fake, "random", seed=1) == resolve_parts(keys, "random", seed=1)).all()


def test_key_systems_match_the_parsed_chemical_systems(aflow):
    frame = aflow.frame.iloc[:3000]
    parsed = chemical_systems(parse_formulas(frame["formula"].tolist()).fractions)
    assert (key_systems(frame[KEY].to_numpy()) == parsed).all()


def test_cluster_split_needs_features_and_bad_splits_are_named(planted):
    features = np.column_stack([np.arange(24.0) % 5, np.arange(24.0) // 5])
    parts = resolve_parts(planted, "cluster", seed=0, features=features)
    assert (parts == cluster_split(features, seed=0)).all()
    with pytest.raises(InvalidParameterError, match="features"):
        resolve_parts(planted, "cluster")
    with pytest.raises(InvalidParameterError, match=r"'nope'.*'random'"):
        resolve_parts(planted, "nope")
