"""Job configs round-trip through a run folder's config.json and refuse what they are not."""

import json

import pytest

from matlattice.errors import MatlatticeError
from matlattice.jobs.compression import FidelityConfig
from matlattice.jobs.config import FitConfig
from matlattice.jobs.entangle import EntangleConfig


@pytest.mark.parametrize(
    ("config", "section"),
    [
        (
            FitConfig(
                data="aflow", tasks=("Egap",), folds=(0, 2), borrow=("mp",), target_transform="none"
            ),
            "config",
        ),
        (FidelityConfig(data="aflow", dims=(2, 8), seeds=(0, 1), kl_weights=(1e-3,)), "config"),
        (EntangleConfig(data="mp", tasks=("e_hull", "mu_b"), model_params={"epochs": 3}), None),
    ],
)
def test_a_config_reads_back_equal_from_its_json(tmp_path, config, section):
    path = tmp_path / "config.json"
    payload = config.to_dict() if section is None else {section: config.to_dict(), "other": 1}
    path.write_text(json.dumps(payload))
    again = type(config).from_json(path)
    assert again == config
    assert all(type(getattr(again, k)) is type(v) for k, v in vars(config).items())


def test_unknown_fields_and_wrong_files_are_refused_by_name(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"config": {"data": "x", "bogus_key": 1}}))
    with pytest.raises(MatlatticeError, match="bogus_key"):
        FitConfig.from_json(path)
    path.write_text(json.dumps({"metrics": {}}))
    with pytest.raises(MatlatticeError, match="holds no FitConfig"):
        FitConfig.from_json(path)


def test_replace_returns_a_new_frozen_config():
    config = FitConfig(data="aflow")
    changed = config.replace(split="random")
    assert (config.split, changed.split) == (None, "random")
    with pytest.raises(AttributeError):
        config.split = "random"  # type: ignore[misc]
