"""The executor reports each finished job, in process and across worker processes."""

import pytest

from matlattice.runtime.executor import LocalExecutor


def _square(x: int) -> int:
    return x * x


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_progress_counts_every_job_and_results_keep_their_order(n_jobs):
    heard: list[tuple[int, int]] = []
    results = LocalExecutor(n_jobs).map(
        _square, [3, 1, 2], progress=lambda done, total: heard.append((done, total))
    )
    assert results == [9, 1, 4]
    assert heard == [(1, 3), (2, 3), (3, 3)]
