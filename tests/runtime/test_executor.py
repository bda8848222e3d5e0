"""Executors run the same jobs and return results in job order."""

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
