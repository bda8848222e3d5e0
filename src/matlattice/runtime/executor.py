"""Run independent jobs: in this process, in local processes, or on a Ray cluster.

One interface, ``executor.map(fn, jobs) -> results`` (in job order), so a sweep that outgrows one
machine changes a flag, not code. ``fn`` must be a module-level function and each job picklable.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Protocol

from matlattice.errors import InvalidParameterError

__all__ = ["EXECUTORS", "Executor", "LocalExecutor", "RayExecutor", "get_executor", "node_of"]

EXECUTORS = ("local", "ray")  # spawned local processes, or Ray tasks


Progress = Callable[[int, int], None] | None  # (jobs done, jobs in all), after each job


class Executor(Protocol):
    def map(
        self, fn: Callable[[Any], Any], jobs: Sequence[Any], progress: Progress = None
    ) -> list[Any]: ...


class LocalExecutor:
    """``n_jobs`` spawned worker processes (``n_jobs=1``: run in this process)."""

    def __init__(self, n_jobs: int = 1) -> None:
        if int(n_jobs) < 1:
            raise InvalidParameterError(f"n_jobs={n_jobs!r}; must be >= 1")
        self.n_jobs = int(n_jobs)

    def map(
        self, fn: Callable[[Any], Any], jobs: Sequence[Any], progress: Progress = None
    ) -> list[Any]:
        """``[fn(job) for job in jobs]``, in order; ``progress(done, total)`` after each."""
        jobs, report = list(jobs), progress or (lambda done, total: None)
        if self.n_jobs == 1 or len(jobs) <= 1:
            results = []
            for job in jobs:
                results.append(fn(job))
                report(len(results), len(jobs))
            return results
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(self.n_jobs, len(jobs)), mp_context=context) as pool:
            futures = [pool.submit(fn, job) for job in jobs]
            for done, _ in enumerate(as_completed(futures), start=1):
                report(done, len(jobs))
            return [future.result() for future in futures]


class RayExecutor:
    """Jobs as Ray tasks, ``num_cpus`` (and ``num_gpus``) each, on the cluster at ``address``
    (``None``: the one already initialised, else ``$RAY_ADDRESS``, else a local one started
    with ``ray.init()``)."""

    def __init__(
        self, address: str | None = None, num_cpus: float = 1.0, num_gpus: float = 0.0
    ) -> None:
        self.address = address
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus

    def map(
        self, fn: Callable[[Any], Any], jobs: Sequence[Any], progress: Progress = None
    ) -> list[Any]:
        try:
            import ray
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("executor='ray' needs Ray: pip install 'matlattice[ray]'") from err
        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
        task = ray.remote(num_cpus=self.num_cpus, num_gpus=self.num_gpus)(_apply)
        refs = [task.remote(fn, job) for job in jobs]
        waiting = list(refs)
        while waiting and progress is not None:
            _, waiting = ray.wait(waiting, num_returns=1)
            progress(len(refs) - len(waiting), len(refs))
        return ray.get(refs)


def node_of(seconds: float = 0.0) -> str:
    """The Ray node a task ran on, after ``seconds`` of sleep (so that a batch of them has to
    spread): what ``matlattice`` reports of where its jobs ran, and what tests check."""
    import time

    import ray

    time.sleep(seconds)
    return ray.get_runtime_context().get_node_id()


def _apply(fn: Callable[[Any], Any], job: Any) -> Any:
    """The Ray task: workers import this module by name and receive ``fn`` by reference."""
    return fn(job)


def get_executor(
    name: str = "local", n_jobs: int = 1, address: str | None = None, num_gpus: float = 0.0
) -> Executor:
    """``"local"`` (default; ``n_jobs`` processes) or ``"ray"`` (every job a task, ``num_gpus``
    each; the cluster at ``address`` or ``$RAY_ADDRESS``)."""
    if name == "local":
        return LocalExecutor(n_jobs)
    if name == "ray":
        return RayExecutor(address or os.environ.get("RAY_ADDRESS"), num_gpus=num_gpus)
    raise InvalidParameterError(f"executor={name!r}; expected one of {EXECUTORS}")
