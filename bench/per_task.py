"""Run a benchmark task by task, one result file each, skipping tasks already written.

``run_per_task(tasks, folder, run, write_table, force)`` writes ``folder/<task>.json``
(atomically) for every task not already there (all of them with ``force``) and rebuilds the
table after each, so that a stopped run keeps what it finished and resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from matlattice.runtime.files import atomic_write_json

__all__ = ["run_per_task"]


def run_per_task(
    tasks: Iterable[str],
    folder: Path,
    run: Callable[[str], dict],
    write_table: Callable[[], None],
    force: bool = False,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        out = folder / f"{task}.json"
        if out.exists() and not force:
            print(f"{task}: written already (--force reruns it)")
            continue
        print(f"{task}: running", flush=True)
        atomic_write_json(out, run(task))
        write_table()
    write_table()
