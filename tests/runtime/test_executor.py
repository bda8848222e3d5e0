"""Executors run the same jobs and return results in job order."""

import math
import os

import pytest

from matlattice.runtime.executor import LocalExecutor, get_executor


def square_and_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def test_local_executor_in_process_and_in_workers():
    jobs = list(range(7))
    inline = LocalExecutor(1).map(square_and_pid, jobs)
    assert [r[0] for r in inline] == [x * x for x in jobs]
    assert {r[1] for r in inline} == {os.getpid()}
    pooled = LocalExecutor(2).map(square_and_pid, jobs)
    assert [r[0] for r in pooled] == [x * x for x in jobs]
    assert os.getpid() not in {r[1] for r in pooled}
    with pytest.raises(ValueError, match="n_jobs=0"):
        LocalExecutor(0)
    with pytest.raises(ValueError, match="executor='dask'"):
        get_executor("dask")


def test_ray_executor_on_a_local_cluster():
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install '.[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        # an importable function (Ray workers import it by name, test modules are not)
        results = get_executor("ray").map(math.factorial, list(range(6)))
    finally:
        ray.shutdown()
    assert results == [1, 1, 2, 6, 24, 120]
