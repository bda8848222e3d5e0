"""Job configs: frozen dataclasses with one JSON round trip.

Every run folder holds the config that reproduces it as ``config.json``; :meth:`JobConfig.
from_json` reads it back (or a hand-written file of some fields, :meth:`JobConfig.fields_in`),
turns JSON lists into the tuples the fields declare and refuses a file that is not valid
JSON or names fields the config does not have.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self

from matlattice.errors import MatlatticeError
from matlattice.runtime.files import read_json

__all__ = ["FitConfig", "JobConfig"]


def _is_tuple(field: dataclasses.Field) -> bool:
    return str(field.type).startswith("tuple")


@dataclass(frozen=True)
class JobConfig:
    """Base of the job configs. ``json_section`` names the key of ``config.json`` that holds
    the fields (``None``: the whole file)."""

    json_section: ClassVar[str | None] = "config"

    def to_dict(self) -> dict:
        """The fields as plain JSON-ready values (tuples become lists when written)."""
        return dataclasses.asdict(self)

    def replace(self, **changes: object) -> Self:
        """A copy with ``changes`` applied (the config itself is frozen)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, raw: dict) -> Self:
        """The config of ``raw``; list values of tuple fields become tuples."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - set(fields))
        if unknown:
            raise MatlatticeError(
                f"{cls.__name__} has no fields {unknown}; expected some of {sorted(fields)}"
            )
        values = {
            key: tuple(value) if _is_tuple(fields[key]) and isinstance(value, list) else value
            for key, value in raw.items()
        }
        try:
            return cls(**values)
        except TypeError as exc:
            raise MatlatticeError(f"{cls.__name__} cannot be built from {raw}: {exc}") from exc

    @classmethod
    def fields_in(cls, path: Path) -> dict:
        """The config fields written in ``path``: a run folder's ``config.json`` (under
        ``json_section``) or a hand-written file holding the fields alone (some of them;
        keys starting with ``_`` are notes for the reader, not fields)."""
        path = Path(path)
        raw = read_json(path)
        if cls.json_section is not None and isinstance(raw, dict) and cls.json_section in raw:
            raw = raw[cls.json_section]
        names = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(raw, dict) or (raw and not names & set(raw)):  # e.g. metrics.json
            raise MatlatticeError(
                f"{path} holds no {cls.__name__} (expected a JSON object of its fields"
                + (f", or one under {cls.json_section!r})" if cls.json_section else ")")
            )
        return {key: value for key, value in raw.items() if not key.startswith("_")}

    @classmethod
    def from_json(cls, path: Path) -> Self:
        """The config saved in ``path`` (a run folder's ``config.json``), to reproduce it."""
        return cls.from_dict(cls.fields_in(path))


@dataclass(frozen=True)
class FitConfig(JobConfig):
    """Everything that defines a fit run; saved as ``config.json`` beside its results.

    ``model`` is ``"rf"`` (random forest on Magpie statistics, the reference peer; with
    ``forest="extra"`` extremely randomised trees, with ``forest_features="fractions"`` on
    the element fractions), ``"attention"`` or ``"mlp"`` (learned embeddings of width
    ``latent_dim``).
    ``tasks=("auto",)`` (neural models) measures the entanglement lattice of the regression
    tasks on each training part and trains one model per recommended task group;
    ``auto_transfer`` adds the pairwise transfer trainings to that lattice, so that its
    negative-transfer gates can cut edges before grouping.
    ``task_weighting``, ``adapter_dim`` and ``early_stopping`` are the multi-task settings of
    :class:`~matlattice.models.LatticeRegressor`; ``target_scale`` and ``target_transform``
    its per-task target scale and transform (``"auto"``: log10 for positive right-skewed
    tasks).
    ``fine_tune`` (neural models, explicit tasks) pretrains one hard-sharing model on all
    regression tasks, fine-tunes one model per task from its encoder and keeps, per task, the
    fine-tuned or the single-task model, whichever validates better
    (:func:`~matlattice.multitask.fine_tuning.fit_fine_tuned`).
    ``helpers`` (neural models, explicit tasks) measures the lattice of the regression tasks
    with its pairwise transfer trainings on each training part and trains one model per task
    beside the properties whose directed transfer gain into it is largest, keeping per task
    that model or the single-task one, whichever validates better
    (:func:`~matlattice.multitask.helpers.fit_with_helpers`).
    ``gate`` (neural models) trains the regression tasks as one group (explicit tasks) or by
    the lattice's groups (``tasks=("auto",)``), once per group with per-task early stopping,
    trains each member of a group of two or more alone as well and keeps, per task, whichever
    validates better (:func:`~matlattice.jobs.fit_models.gated_group_models`).
    ``borrow`` (neural models, explicit tasks; alone or with ``helpers``) adds properties of
    other datasets (``"dataset[:property][@rows]"``, :mod:`matlattice.data.borrowed`) as
    helper columns, merged per composition and never scored; each task learns beside the
    borrowed properties coupled to it on the training part, behind the same gate.
    ``gate_folds = k >= 2`` makes the gate of those schemes read the out-of-fold errors
    of k cross-validation models per arm and then train the chosen arm on the whole training
    part (:mod:`~matlattice.multitask.gate`).
    """

    data: str
    tasks: tuple[str, ...] = ()
    split: str | None = None
    seed: int = 0
    clean: bool = False
    model: str = "rf"
    n_estimators: int = 500
    min_samples_leaf: int = 1
    forest: str = "random"
    forest_features: str = "stats"
    latent_dim: int = 32
    ensemble: int = 1
    epochs: int = 300
    patience: int = 40
    batch_size: int = 256
    lr: float = 1e-3
    element_table: str = "mat2vec"
    device: str = "cpu"
    n_jobs: int = 1
    executor: str = "local"
    init_from: str | None = None
    resume: bool = False
    overwrite: bool = False
    folds: tuple[int, ...] = ()
    task_weighting: str = "equal"
    adapter_dim: int = 0
    early_stopping: str = "mean"
    precision: str = "fp32"
    decision_threshold: str = "half"
    target_scale: str = "iqr"
    target_transform: str = "auto"
    auto_transfer: bool = False
    heteroscedastic: bool = False
    cv_members: bool = False
    fine_tune: bool = False
    helpers: bool = False
    gate: bool = False
    gate_folds: int = 0
    borrow: tuple[str, ...] = ()
