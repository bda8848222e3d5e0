"""Every designed composition carries which plausibility checks it passed."""

from __future__ import annotations

import pytest

from matlattice.design.constraints import DesignConstraints, check_compositions
from matlattice.errors import InvalidFormulaError, InvalidParameterError


def test_each_check_names_what_failed():
    rules = DesignConstraints(max_atoms=10, max_elements=3, deny=frozenset({"Pb"}))
    checked = check_compositions(
        ["NaCl", "NaCl2", "Fe3Al", "MgAl2O4", "PbTe", "Li2Na2K2O3", "Na6Cl6", "Ba4Ti4O12Sr"],
        rules,
    ).set_index("formula")
    assert checked.loc["NaCl", "passes"] and checked.loc["MgAl2O4", "passes"]
    assert not checked.loc["NaCl2", "chemistry"]  # no neutral assignment of Na+ and Cl-
    assert checked.loc["Fe3Al", "chemistry"]  # all metals: an alloy
    assert not checked.loc["PbTe", "elements"] and checked.loc["PbTe", "chemistry"]
    assert not checked.loc["Li2Na2K2O3", "size"]  # four elements
    assert checked.loc["Na6Cl6", "atoms"] == 2 and checked.loc["Na6Cl6", "passes"]
    assert not checked.loc["Ba4Ti4O12Sr", "size"]  # 21 atoms in the reduced unit
    assert list(checked["passes"]) == list(checked[["chemistry", "elements", "size"]].all(axis=1))


def test_an_allow_list_keeps_to_its_elements():
    rules = DesignConstraints(allow=frozenset({"Na", "Cl", "O"}))
    checked = check_compositions(["NaCl", "KCl", "Na2O"], rules)
    assert checked["elements"].tolist() == [True, False, True]


@pytest.mark.parametrize(
    "kwargs, named",
    [
        ({"max_atoms": 0}, "max_atoms=0"),
        ({"min_elements": 3, "max_elements": 2}, "min_elements=3"),
        ({"deny": frozenset({"Xx"})}, "Xx"),
    ],
)
def test_bad_rules_are_refused_by_name(kwargs, named):
    with pytest.raises(InvalidParameterError, match=named):
        DesignConstraints(**kwargs)


@pytest.mark.parametrize("bad", ["Xq2", "", "Fe0O3", "H" + "9" * 400])
def test_a_formula_that_does_not_parse_is_refused_by_name(bad):
    with pytest.raises(InvalidFormulaError, match="row 1 of 2"):
        check_compositions(["NaCl", bad])


def test_a_supply_limit_fails_concentrated_compositions_and_names_a_bad_limit():
    rules = DesignConstraints(max_hhi=2000)
    checked = check_compositions(["Fe2O3", "Co3O4", "TcC"], rules).set_index("formula")
    assert checked["supply"].tolist() == [True, False, False]  # Tc: no production data
    assert check_compositions(["Co3O4"])["supply"].all()  # no limit, no failure
    with pytest.raises(InvalidParameterError, match="max_hhi=20000"):
        DesignConstraints(max_hhi=20000)


def test_fractional_amounts_are_judged_on_their_integer_unit():
    checked = check_compositions(["Os0.67W1.33", "Na0.5Cl0.5", "Fe0.4O0.6"])
    assert checked["chemistry"].tolist() == [True, True, True]  # OsW2 (alloy), NaCl, Fe2O3
