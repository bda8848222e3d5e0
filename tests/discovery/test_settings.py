"""Campaign settings are checked in one place and round-trip through the store; the
acquisition registry names what each acquisition needs; method strings parse in one place;
stores written by earlier versions still reopen."""

import dataclasses
import doctest
import json
import sqlite3

import numpy as np
import pytest
from test_campaign import _forest, pool  # noqa: F401  (tests/discovery is on sys.path)

from matlattice.discovery import (
    ACQUISITIONS,
    CampaignSettings,
    MultiFidelityCampaign,
    acquisition_named,
    open_campaign,
    resume_campaign,
    score,
)
from matlattice.discovery import acquisition as acquisition_module
from matlattice.discovery import settings as settings_module
from matlattice.discovery.methods import method_name, parse_method
from matlattice.discovery.oracles import HiddenLabelOracle
from matlattice.errors import InvalidParameterError, MatlatticeError

BAD = [  # (settings, what the message must name)
    ({"goal": "up"}, "goal='up'; expected 'max' or 'min'"),
    ({"acquisition": "qei"}, "acquisition='qei'"),
    ({"acquisition": "window"}, "needs window=(lo, hi)"),
    ({"window": (2.0, 1.0)}, "window=(2.0, 1.0); expected lo < hi"),
    ({"window": (1.0,)}, "window=(1.0,); expected (lo, hi)"),
    ({"window": ("a", 1.0)}, "window='a'"),
    ({"batch_size": 0}, "batch_size=0; expected a positive integer"),
    ({"budget": -5}, "budget=-5; expected a positive integer"),
    ({"initial": 0}, "initial=0; expected a positive integer"),
    ({"batch_size": 2.5}, "batch_size=2.5"),
    ({"retrain_every": 0}, "retrain_every=0"),
    ({"seed": -1}, "seed=-1; expected an integer >= 0"),
    ({"probe_size": -1}, "probe_size=-1"),
    ({"generate": -2}, "generate=-2"),
    ({"warm_start_epochs": -3}, "warm_start_epochs=-3"),
    ({"alpha": -1.0}, "alpha=-1.0; expected a finite number >= 0"),
    ({"alpha": float("nan")}, "alpha=nan"),
    ({"reticulum_gamma": 2.0}, "reticulum_gamma=2.0; expected a finite number >= 0 and <= 1"),
    ({"diversity": "yes"}, "diversity='yes'; expected True or False"),
    ({"model": "xgb"}, "model='xgb'; expected one of 'rf', 'mlp', 'gp'"),
    ({"target": ""}, "target=''; expected a property name"),
    ({"objectives": {"a": "max"}}, "objectives={'a': 'max'}; expected two or more names"),
    ({"objectives": {"a": "max", "b": "up"}}, "'b': 'up'"),
    ({"objectives": {"a": "max", "b": "min"}, "retrain_every": 3}, "retrain_every=3"),
    ({"objectives": {"a": "max", "b": "min"}, "reticulum_gamma": 0.5}, "reticulum_gamma=0.5"),
    (
        {"objectives": {"a": "max", "b": "min"}, "acquisition": "window", "window": (0, 1)},
        "acquisition='window' does not apply to a multi-objective campaign",
    ),
    ({"fidelities": {"dft": 1.0}}, "fidelities={'dft': 1.0}; expected 'main' and one cheap"),
    ({"fidelities": {"dft": 0.0, "main": 10.0}}, "expected a positive cost"),
    ({"fidelities": {"dft": 1.0, "main": 10.0}, "retrain_every": 2}, "retrain_every=2"),
    ({"fidelities": {"dft": 1.0, "main": 10.0}, "acquisition": "thompson"}, "Thompson"),
    ({"generate": 5, "objectives": {"a": "max", "b": "min"}}, "generate=5"),
]


@pytest.mark.parametrize(("changes", "named"), BAD, ids=[str(c) for c, _ in BAD])
def test_every_bad_setting_is_refused_and_named(changes, named):
    with pytest.raises(InvalidParameterError) as info:
        CampaignSettings(**changes)
    assert named in str(info.value)
    assert isinstance(info.value, MatlatticeError) and isinstance(info.value, ValueError)


def test_settings_are_frozen_normalised_and_round_trip_through_json():
    settings = CampaignSettings(
        target="gap",
        window=[1, 2],
        objectives=None,
        fidelities={"dft": 1, "main": 10},
        warm_start_epochs=0,
    )
    assert settings.window == (1.0, 2.0) and settings.warm_start_epochs is None
    assert settings.fidelities == {"dft": 1.0, "main": 10.0}
    again = CampaignSettings.from_dict(json.loads(json.dumps(settings.to_dict())))
    assert again == settings and hash(again) == hash(settings)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.budget = 5
    with pytest.raises(TypeError, match="frozen"):
        settings.fidelities["main"] = 1.0
    parego = CampaignSettings(target="y", goal="min", objectives={"a": "max", "b": "min"})
    assert (parego.target, parego.goal) == ("parego", "max")
    assert parego.replace(seed=3).seed == 3
    with pytest.raises(InvalidParameterError, match="batch_size=0"):
        parego.replace(batch_size=0)  # a copy is checked again
    with pytest.raises(MatlatticeError, match="have no \\['colour'\\]"):
        CampaignSettings.from_dict({"colour": "red"})


def test_the_registry_names_the_unknown_and_what_each_needs():
    with pytest.raises(InvalidParameterError) as info:
        acquisition_named("qehvi")
    assert "'qehvi'" in str(info.value)
    assert all(name in str(info.value) for name in ACQUISITIONS)
    mean, std = np.array([1.0, 2.0]), np.array([0.1, 0.2])
    given = {"best": 1.5, "draws": np.array([[0.0, 1.0]]), "window": (0.5, 1.5)}
    for name, acquisition in ACQUISITIONS.items():
        assert acquisition.name == name
        for need in acquisition.needs - {"spread"}:
            with pytest.raises(InvalidParameterError, match=f"acquisition '{name}' needs"):
                score(name, mean, std, **{k: v for k, v in given.items() if k != need})
        assert score(name, mean, std, **given).shape == (2,)
    assert [n for n, a in ACQUISITIONS.items() if a.per_pick] == ["thompson"]
    assert [n for n, a in ACQUISITIONS.items() if not a.uses_model] == ["random"]
    assert acquisition_named("ucb").select(np.array([0.1, 0.9, 0.5]), 2).tolist() == [1, 2]


def test_the_docstring_examples_hold():
    for module in (settings_module, acquisition_module):
        assert doctest.testmod(module).failed == 0


def test_method_strings_parse_in_one_place():
    assert parse_method("ucb@rf", window=(1.2, 1.8)).acquisition == "window"
    assert parse_method("pi@rf", window=(1.2, 1.8)).acquisition == "pi"
    method = "ei@gp+every=3"
    assert method_name(method, parse_method(method, window=(0, 1))) == "window@gp+every=3"
    assert method_name(method, parse_method(method)) == method
    cheap = parse_method("ucb@rf+cheap", fidelities={"cheap": 1.0, "main": 10.0})
    assert cheap.two_fidelity and cheap.options == {"fidelities": {"cheap": 1.0, "main": 10.0}}
    with pytest.raises(InvalidParameterError, match="needs a cheap fidelity"):
        parse_method("ucb@rf+cheap")
    with pytest.raises(InvalidParameterError, match="method 'qei@rf': unknown acquisition"):
        parse_method("qei@rf")
    with pytest.raises(InvalidParameterError, match="method 'ucb': model=''"):
        parse_method("ucb")
    with pytest.raises(InvalidParameterError, match="'every=x'"):
        parse_method("ucb@rf+every=x")


# what a store written before CampaignSettings (and before objectives, fidelities,
# generation and the stability probe existed) holds in its config table
OLD_CONFIG = {
    "target": "y",
    "goal": "max",
    "acquisition": "ucb",
    "batch_size": 6,
    "budget": 18,
    "initial": 6,
    "alpha": 2.0,
    "window": None,
    "diversity": False,
    "seed": 2,
    "model": "rf",
    "retrain_every": 1,
    "reticulum_gamma": None,
}


def test_a_store_in_the_old_dict_format_reopens(pool, tmp_path):  # noqa: F811
    path = tmp_path / "old.sqlite"
    kw = dict(target="y", batch_size=6, budget=18, initial=6, seed=2)
    campaign = open_campaign(path, pool, CampaignSettings(**kw), model_factory=_forest)
    oracle = HiddenLabelOracle(pool, "y")
    campaign.tell(oracle(campaign.ask()["formula"].tolist()))
    campaign.close()
    with sqlite3.connect(path) as db:  # as an earlier version wrote it
        db.execute(
            "UPDATE config SET value = ?", (json.dumps({**OLD_CONFIG, "pool_size": len(pool)}),)
        )
    resumed = resume_campaign(path, model_factory=_forest)
    assert resumed.settings == CampaignSettings(**kw) and resumed.n_measured == 6
    resumed.close()
    reopened = open_campaign(path, pool, CampaignSettings(**kw), model_factory=_forest)
    assert len(reopened.run(oracle)) == 18
    reopened.close()
    with pytest.raises(MatlatticeError, match="another config"):
        open_campaign(path, pool, CampaignSettings(**{**kw, "model": "gp"}))


def test_broken_stores_are_named(pool, tmp_path):  # noqa: F811
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database, just bytes" * 100)
    with pytest.raises(MatlatticeError, match=r"garbage\.sqlite is not a campaign database"):
        resume_campaign(garbage)
    with pytest.raises(MatlatticeError, match="no campaign at"):
        resume_campaign(tmp_path / "missing.sqlite")
    path = tmp_path / "bad.sqlite"
    open_campaign(path, pool, CampaignSettings(target="y")).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE config SET value = ?", (json.dumps({"goal": "up"}),))
    with pytest.raises(MatlatticeError, match="goal='up'"):
        resume_campaign(path)
    with pytest.raises(InvalidParameterError, match="duplicated formulas \\['NaCl'\\]"):
        open_campaign(tmp_path / "d.sqlite", ["NaCl", "KCl", "NaCl"])
    with pytest.raises(InvalidParameterError, match="the pool is empty"):
        open_campaign(tmp_path / "e.sqlite", [])


def test_the_read_api_a_shell_needs(pool, tmp_path):  # noqa: F811
    settings = CampaignSettings(target="y", batch_size=5, budget=15, initial=5, seed=1)
    with open_campaign(tmp_path / "r.sqlite", pool, settings, model_factory=_forest) as c:
        asked = c.ask()
        assert c.pending()["formula"].tolist() == asked["formula"].tolist()
        assert c.best().empty
        c.tell(HiddenLabelOracle(pool, "y")(asked["formula"].tolist()))
        assert c.pending().empty
        log = c.proposals()
        assert len(log) == 5 and log["value"].notna().all() and "told_iteration" in log
        best = c.best()
        assert len(best) == 1 and best["value"].iloc[0] == c.results()["value"].max()
    costs = {"dft": 1.0, "main": 10.0}
    two = CampaignSettings(target="y", fidelities=costs, initial=2, batch_size=2)
    with open_campaign(tmp_path / "mf.sqlite", pool, two, model_factory=_forest) as mf:
        assert isinstance(mf, MultiFidelityCampaign)
        asked = mf.ask()  # two initial pairs, each pending at its own fidelity
        assert sorted(mf.pending()["fidelity"]) == ["dft", "dft", "main", "main"]
        mf.tell(asked[asked["fidelity"] == "dft"][["formula", "fidelity"]].assign(value=1.0))
        assert mf.pending()["fidelity"].tolist() == ["main", "main"]
