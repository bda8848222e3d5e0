"""Ray for real: jobs spread over the nodes of a cluster, and what runs there gives the same
numbers as the local executor for the same seeds (ensemble members, fidelity widths).

CI starts a two-process local cluster (``ray start --head`` and a worker joining it) and sets
``RAY_ADDRESS``; without it a local Ray is started here. With ``MATLATTICE_REQUIRE_RAY`` set
(CI) a missing Ray fails instead of skipping."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from matlattice.runtime.executor import get_executor


@pytest.fixture(scope="module")
def ray():
    try:
        import ray
    except ImportError:
        message = "Ray is not installed: pip install '.[ray]' (CI installs it)"
        if os.environ.get("MATLATTICE_REQUIRE_RAY"):
            pytest.fail(message)
        pytest.skip(message)
    address = os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, log_to_driver=False)
    else:  # a Ray of its own, even where another cluster runs on this machine
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_results_come_back_in_job_order(ray):
    # an importable function (Ray workers import it by name, test modules are not)
    assert get_executor("ray").map(math.factorial, list(range(6))) == [1, 1, 2, 6, 24, 120]


def test_jobs_spread_over_every_node_of_the_cluster(ray):
    from matlattice.runtime.executor import node_of

    nodes = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    placed = get_executor("ray").map(node_of, [0.3] * (4 * len(nodes)))
    assert set(placed) == nodes  # every node ran some
    if os.environ.get("RAY_ADDRESS"):
        assert len(nodes) >= 2  # CI's two-process cluster


def test_ensemble_members_on_ray_equal_the_local_ones(ray):
    from matlattice.models import LatticeRegressor

    rng = np.random.default_rng(0)
    formulas = [f"Na{i}Cl{j}" for i in range(1, 13) for j in range(1, 13)]
    y = rng.normal(size=len(formulas))
    settings = dict(latent_dim=8, epochs=4, ensemble=2, random_state=3, n_jobs=2)
    local = LatticeRegressor("attention", **settings).fit(formulas, y)
    remote = LatticeRegressor("attention", **settings, executor="ray").fit(formulas, y)
    mean_local, std_local = local.predict(formulas, return_std=True)
    mean_remote, std_remote = remote.predict(formulas, return_std=True)
    np.testing.assert_array_equal(mean_local, mean_remote)
    np.testing.assert_array_equal(std_local, std_remote)


def test_a_fidelity_sweep_on_ray_equals_the_local_one(ray):
    from matlattice.compression import fidelity_sweep
    from matlattice.data.synthetic import planted_properties

    formulas = [f"Li{i}Na{j}Cl1" for i in range(1, 16) for j in range(1, 16)]
    frame = planted_properties(formulas, 2, seed=0).frame
    settings = dict(model_params={"epochs": 3}, k=5, baselines=False, n_jobs=2)
    local = fidelity_sweep(frame, [2, 4], **settings)
    remote = fidelity_sweep(frame, [2, 4], executor="ray", **settings)
    for a, b in zip(local.summary["per_dim"], remote.summary["per_dim"], strict=True):
        assert a["predictive"] == b["predictive"] and a["knn_overlap"] == b["knn_overlap"]


def test_design_scoring_batches_on_ray_equal_one_call(ray):
    from matlattice.design import model_predictor
    from matlattice.design.batches import batched_predictor
    from matlattice.models import MultiTaskForest

    rng = np.random.default_rng(1)
    known = [f"Li{i}Na{j}Cl1" for i in range(1, 20) for j in range(1, 20)]
    forest = MultiTaskForest(n_estimators=20, random_state=0).fit(
        known, rng.normal(size=len(known))
    )
    candidates = [f"K{i}Rb{j}Br1" for i in range(1, 71) for j in range(1, 71)]
    task = forest.tasks_[0]
    whole = model_predictor(forest, [task])(candidates)
    remote = batched_predictor(forest, [task], executor="ray")(candidates)
    np.testing.assert_array_equal(whole[0], remote[0])
    np.testing.assert_array_equal(whole[1], remote[1])
