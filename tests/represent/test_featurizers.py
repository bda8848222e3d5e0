import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline

from matlattice.errors import InvalidParameterError, MissingElementError
from matlattice.represent import (
    STATS,
    ElementStatsFeaturizer,
    element_table_stat_names,
    element_table_stats,
    load_element_table,
)

FORMULAS = ["NaCl", "Fe2O3", "LiFePO4", "PuO2", "Sr(AlH)2"]


@pytest.mark.parametrize("missing", ["nan", "mean"])
@pytest.mark.parametrize("table", ["magpie", "oliynyk", "mod_petti"])
def test_the_transformer_is_the_function(table, missing):
    fz = ElementStatsFeaturizer(table, stats=STATS, missing=missing).fit()
    element_table = load_element_table(table)
    expected = element_table_stats(FORMULAS, element_table, STATS, missing=missing)
    assert fz.transform(FORMULAS).tobytes() == expected.tobytes()
    assert list(fz.get_feature_names_out()) == list(element_table_stat_names(element_table, STATS))


def test_function_raises_like_the_transformer():
    oliynyk = load_element_table("oliynyk")
    with pytest.raises(MissingElementError, match="'oliynyk' has no vector for Pu"):
        element_table_stats(FORMULAS, oliynyk)
    with pytest.raises(InvalidParameterError, match="bogus"):
        element_table_stats(FORMULAS, oliynyk, ("bogus",))
    with pytest.raises(InvalidParameterError, match="missing='drop'"):
        element_table_stats(FORMULAS, oliynyk, missing="drop")


def test_mean_rule_fills_absent_rows_with_column_means():
    fz = ElementStatsFeaturizer("oliynyk", missing="mean").fit()
    table = load_element_table("oliynyk")
    lacking = ~table.available
    assert lacking.any() and np.isfinite(fz.table_values_).all()
    np.testing.assert_array_equal(
        fz.table_values_[lacking][0], np.nanmean(table.values[table.available], axis=0)
    )
    assert fz.element_table_ is table


def test_clone_get_params_and_pipeline_work():
    fz = ElementStatsFeaturizer("magpie", stats=("mean", "max"), missing="nan")
    assert fz.get_params() == {"table": "magpie", "stats": ("mean", "max"), "missing": "nan"}
    twin = clone(fz).set_params(table="megnet16")
    assert twin.table == "megnet16" and fz.table == "magpie"
    frame = pd.DataFrame({"formula": ["NaCl", "KBr", "Fe2O3", "LiF"]})
    y = np.array([1.0, 2.0, 3.0, 4.0])
    pipe = Pipeline([("features", fz), ("ridge", Ridge(alpha=1.0))]).fit(frame, y)
    assert pipe.predict(frame).shape == (4,)
    assert clone(pipe).get_params()["features__table"] == "magpie"
    assert len(pipe[:-1].get_feature_names_out()) == 44
