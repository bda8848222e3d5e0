"""Run folders of ``matlattice entangle``: ``config.json``, ``lattice.json``, figures.

``lattice.json`` holds ``{"dataset", "tasks", "edges": [{"source", "target", "weight",
"data_coupling", "label_dependence", "gradient_cosine", "affinity", "transfer_gain",
"representation_alignment", "risk", ...}], "density", "modularity", "regime", "groups",
"task_weights", "helpers", "risk_gates"}`` plus the evidence behind the regime, the label
counts, the thresholds used and the per-property validation MAE of the joint model and (with
transfer) of single-task models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from matlattice.entangle.pipeline import entanglement_lattice
from matlattice.entangle.summary import lattice_summary
from matlattice.errors import MatlatticeError
from matlattice.jobs.config import JobConfig
from matlattice.runtime.files import atomic_write_json, json_safe

__all__ = ["EntangleConfig", "entangle_run"]


@dataclass(frozen=True)
class EntangleConfig(JobConfig):
    """Everything that defines one lattice run (saved as ``config.json`` beside it)."""

    json_section: ClassVar[str | None] = None

    data: str
    tasks: tuple[str, ...] = ()
    model_params: dict = field(default_factory=dict)
    transfer: bool = True
    probe_size: int = 1024
    val_fraction: float = 0.15
    executor: str = "local"
    n_jobs: int = 1
    seed: int = 0
    device: str = "cpu"
    subsample: int = 0
    borrow: tuple[str, ...] = ()


def entangle_run(
    config: EntangleConfig, out: Path, *, progress: Callable[[str], None] | None = None
) -> dict:
    """Measure the lattice of ``config`` and write the run folder ``out``; returns the summary.

    A folder that holds a different ``config.json`` is refused (nothing is overwritten).
    """
    from matlattice.report.lattice_plots import save_lattice_figures

    out = Path(out)
    saved = out / "config.json"
    if saved.exists() and EntangleConfig.from_json(saved) != config:
        raise MatlatticeError(f"{out} holds another run's config.json; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(saved, config.to_dict())
    from matlattice.data import load_dataset
    from matlattice.data.rejections import write_rejected

    data: object = load_dataset(config.data)
    write_rejected(data.report, out)
    if config.subsample:
        from matlattice.jobs.compression import subsample_dataset

        data = subsample_dataset(data, config.subsample, config.seed)
    tasks = list(config.tasks) or None
    if config.borrow:
        data, tasks = _with_borrowed(data, tasks, config)
    result = entanglement_lattice(
        data,
        tasks,
        model_params=config.model_params,
        transfer=config.transfer,
        probe_size=config.probe_size,
        val_fraction=config.val_fraction,
        executor=config.executor,
        n_jobs=config.n_jobs,
        seed=config.seed,
        device=config.device,
        progress=progress,
    )
    if config.borrow:
        result.dataset = config.data
    summary = lattice_summary(result, result.val)
    if config.borrow:
        summary["borrowed"] = list(config.borrow)
    if config.subsample:
        summary["subsample"] = {"rows": config.subsample, "stratified_by": "chemical family"}
    atomic_write_json(out / "lattice.json", json_safe(summary))
    save_lattice_figures(summary, out)
    return summary


def _with_borrowed(data, tasks: list[str] | None, config: EntangleConfig):
    """The dataset's frame with the borrowed properties of ``config.borrow`` as extra columns
    (:mod:`matlattice.data.borrowed`; new compositions join its train part), and the tasks:
    the chosen ones (default all) and every borrowed column."""
    from matlattice.data import Dataset, load_dataset
    from matlattice.data.borrowed import borrow_properties

    ds = data if isinstance(data, Dataset) else load_dataset(data)
    frame = ds.frame.assign(_part=ds.frame.get("split", "train"))
    frame, borrowed, _ = borrow_properties(
        frame, list(config.borrow), own=ds.name, seed=config.seed, clean=False
    )
    if "split" in ds.frame:
        frame["split"] = frame["_part"]
    return frame.drop(columns="_part"), [*(tasks or ds.properties), *borrowed]
