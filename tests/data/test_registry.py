import pytest

from matlattice.data import REGISTRY, dataset_info, list_datasets
from matlattice.errors import UnknownDatasetError


def test_families_have_the_promised_number_of_properties():
    sizes = {
        n: len(dataset_info(n).properties) for n in ("oqmd", "aflow", "mp", "critexam", "transport")
    }
    assert sizes == {"oqmd": 4, "aflow": 7, "mp": 5, "critexam": 2, "transport": 10}


def test_eighteen_crabnet_benchmark_sets():
    names = list_datasets("crabnet")
    assert len(names) == 18
    assert "crabnet:aflow__Egap" in names


def test_matbench_tasks_and_views():
    assert set(list_datasets("matbench")) == {
        "matbench_expt_gap",
        "matbench_expt_is_metal",
        "matbench_glass",
        "matbench_steels",
    }
    views = set(list_datasets("matbench_view"))
    for task in (
        "mp_e_form",
        "mp_gap",
        "mp_is_metal",
        "log_gvrh",
        "log_kvrh",
        "dielectric",
        "phonons",
        "jdft2d",
    ):
        assert f"matbench_{task}" in views
    assert "composition-only" in dataset_info("matbench_mp_gap").title


def test_every_property_has_unit_and_task():
    for info in REGISTRY.values():
        assert info.citation and info.licence and info.source
        for prop in info.properties:
            assert prop.unit
            assert prop.task in ("regression", "classification")


def test_unknown_dataset_lists_the_valid_ones():
    with pytest.raises(UnknownDatasetError, match="aflow"):
        dataset_info("aflowx")
