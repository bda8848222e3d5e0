"""Run folders of ``matlattice design``: new compositions for targets, checked and ranked.

The job reads the known data (a dataset or a user file: nothing else is read), fits the
property model on every labelled composition (a random forest on Magpie statistics, or the
models of an earlier ``fit`` run), runs the :class:`~matlattice.design.Designer` with the
chosen generators and writes

- ``candidates.csv``: best first; ``formula``, ``score``, ``p_meet`` (probability of
  meeting every target), per target the predicted mean and spread, ``prior`` (the mined
  substitution probability), the generator, each constraint check, ``nearest_known`` and
  ``distance``, ``in_domain``;
- with ``structures`` K, the K best candidates given crystal structures, stability and XRD
  by the structure stage (``structures/``, a structure run folder) and re-ranked by computed
  stability (:mod:`matlattice.jobs.design_structures`);
- ``design.json``: the targets as resolved, validity, uniqueness, novelty, diversity,
  counts per generator, times, and the settings;
- ``config.json`` (reruns the job) and the figures of :mod:`matlattice.report.design_plots`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from matlattice.data.rejections import write_rejected
from matlattice.design import (
    DesignConstraints,
    Designer,
    IonExchange,
    MinedSubstitution,
    RandomEnumeration,
    parse_target,
)
from matlattice.design.batches import batched_predictor
from matlattice.design.designer import goal_rank
from matlattice.design.evolution import EvolutionarySearch
from matlattice.design.latent import LatentSettings, latent_generator
from matlattice.design.proxy import ProxyModel
from matlattice.design.stability import HullReference, StabilityObjective
from matlattice.design.steering import LatticeSteering
from matlattice.design.summary import design_summary, domain_flags, nearest_known
from matlattice.errors import InvalidParameterError
from matlattice.jobs.config import JobConfig
from matlattice.jobs.design_structures import structure_check
from matlattice.jobs.run_folder import finish_run_folder, open_run_folder
from matlattice.runtime.executor import EXECUTORS
from matlattice.runtime.files import atomic_write_json, atomic_write_table, json_safe, read_json

__all__ = ["GENERATORS", "DesignConfig", "design_run"]

log = logging.getLogger(__name__)

#: The generators a design run can pool, by name.
GENERATORS = ("mined", "evolution", "ion_exchange", "latent", "random")


@dataclass(frozen=True)
class DesignConfig(JobConfig):
    """Everything that defines a design run (saved as ``config.json`` beside it)."""

    json_section: ClassVar[str | None] = None

    data: str
    targets: tuple[str, ...]
    n: int = 1000
    generators: tuple[str, ...] = ("mined", "evolution", "ion_exchange")
    share: float = 0.05
    prior_weight: float = 1.0
    per_system: int = 0
    max_atoms: int = 20
    max_elements: int = 4
    deny: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    max_hhi: float = 0.0
    model_run: str = ""
    lattice: str = ""
    reference: tuple[str, ...] = ()
    stable: str = ""
    stable_within: float = 0.1
    borrow: tuple[str, ...] = ()
    proxy: str = ""
    n_estimators: int = 300
    structures: int = 0
    structure_potential: str = "chgnet"
    structure_random: int = 10
    executor: str = "local"
    n_jobs: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        from matlattice.structure.potentials import POTENTIAL_NAMES

        unknown = sorted(set(self.generators) - set(GENERATORS))
        if unknown or not self.generators:
            raise InvalidParameterError(
                f"generators={list(self.generators)}; choose from {list(GENERATORS)}"
            )
        if self.n < 1 or self.n_estimators < 1 or self.per_system < 0:
            raise InvalidParameterError(
                f"n={self.n}, n_estimators={self.n_estimators}, per_system="
                f"{self.per_system}: n and n_estimators must be >= 1, per_system >= 0"
            )
        if not 0.0 <= self.prior_weight < math.inf:
            raise InvalidParameterError(f"prior_weight={self.prior_weight}; expected >= 0")
        if self.executor not in EXECUTORS or self.n_jobs < 1:
            raise InvalidParameterError(
                f"executor={self.executor!r}, n_jobs={self.n_jobs}: expected one of "
                f"{EXECUTORS} and n_jobs >= 1"
            )
        if not self.targets:
            raise InvalidParameterError("a design needs at least one target, e.g. bulk_modulus:max")
        for text in self.targets:
            parse_target(text, self.share)  # refuses a bad target here, before any work
        self.constraints()  # and bad constraints
        if not 0.0 <= self.stable_within < math.inf:
            raise InvalidParameterError(
                f"stable_within={self.stable_within}; expected eV/atom >= 0"
            )
        if (self.proxy or self.borrow) and self.model_run:
            raise InvalidParameterError(
                f"proxy={self.proxy!r}, borrow={list(self.borrow)} with model_run="
                f"{self.model_run!r}: a proxy changes the property model, and the fit run's "
                "models are used as they are; leave out --model or --proxy/--borrow"
            )
        if self.structures < 0 or self.structure_random < 0:
            raise InvalidParameterError(
                f"structures={self.structures}, structure_random={self.structure_random}; "
                "expected >= 0"
            )
        if self.structure_potential not in POTENTIAL_NAMES:
            raise InvalidParameterError(
                f"structure_potential={self.structure_potential!r}; expected one of "
                f"{POTENTIAL_NAMES}"
            )
        if self.lattice and len(self.targets) < 2:
            raise InvalidParameterError(
                f"lattice={self.lattice!r} steers the edges between targets; give two or more "
                "--target, or leave the lattice out"
            )

    def constraints(self) -> DesignConstraints:
        return DesignConstraints(
            max_atoms=self.max_atoms,
            max_elements=self.max_elements,
            deny=frozenset(self.deny),
            allow=frozenset(self.allow) if self.allow else None,
            max_hhi=self.max_hhi or None,
        )


Progress = Callable[[str], None] | None


def _known_frame(frame: pd.DataFrame, config: DesignConfig, properties: list[str]) -> pd.DataFrame:
    """The known compositions with at least one target labelled (one row per composition)."""
    missing = [p for p in properties if p not in frame.columns]
    if missing:
        raise InvalidParameterError(
            f"{config.data} has no property {missing}; it has "
            f"{[c for c in frame.columns if c not in ('formula', 'composition_key', 'split')]}"
        )
    labelled = frame[properties].notna().any(axis=1)
    if labelled.sum() < 20:
        raise InvalidParameterError(
            f"{config.data} has {int(labelled.sum())} compositions labelled with "
            f"{properties}; a design needs at least 20 to learn from"
        )
    return frame.loc[labelled, ["formula", *properties]].reset_index(drop=True)


def _model(config: DesignConfig, fit_frame: pd.DataFrame, properties, proxies: dict, say):
    """The property model: the first model of ``config.model_run`` that predicts every
    target, a forest fitted on ``fit_frame``, or with ``proxies`` a
    :class:`~matlattice.design.proxy.ProxyModel`."""
    if config.model_run:
        from matlattice.jobs.predict import load_run_models

        for model in load_run_models(Path(config.model_run)):
            if set(properties) <= set(model.tasks_):
                return model
        raise InvalidParameterError(
            f"no model in {config.model_run} predicts all of {properties}; fit one with "
            f"`matlattice fit {config.data} --tasks {','.join(properties)}`"
        )
    from matlattice.models import MultiTaskForest

    if proxies:
        say(f"fitting the property model with proxies {proxies} ({config.n_estimators} trees)")
        model = ProxyModel(proxies, n_estimators=config.n_estimators, random_state=config.seed)
        return model.fit(fit_frame, properties)
    say(f"fitting the property model (random forest, {config.n_estimators} trees)")
    forest = MultiTaskForest(n_estimators=config.n_estimators, random_state=config.seed)
    labelled = fit_frame[properties].notna().any(axis=1)
    return forest.fit(
        fit_frame.loc[labelled, "formula"].tolist(), fit_frame.loc[labelled, properties]
    )


def _with_proxies(frame: pd.DataFrame, config: DesignConfig, properties: list[str], say):
    """The frame the property model fits on: DATA (with ``config.borrow``'s columns and
    compositions), and ``{"proxies", "proxy_evidence", "borrowed"}``: the proxies chosen for
    the targets and their evidence. Without ``proxy`` or ``borrow``: ``frame``, no proxies."""
    if not (config.proxy or config.borrow):
        return frame, {"proxies": None, "proxy_evidence": None, "borrowed": None}
    from matlattice.data.borrowed import borrow_properties
    from matlattice.design.proxy import choose_proxies

    own = [c for c in frame.columns if c not in (*properties, "formula", "composition_key")]
    own = [c for c in own if pd.api.types.is_float_dtype(frame[c])]
    wide, borrowed, report = frame.assign(_part="train"), [], {}
    if config.borrow:
        wide, borrowed, report = borrow_properties(
            wide, list(config.borrow), own=config.data, seed=config.seed
        )
        for name, info in report.items():
            say(f"borrowed {name}: {info['labels']:,} labels, {info['new_compositions']:,} "
                "compositions DATA lacks (known, so never proposed)")  # fmt: skip
    pool = [config.proxy] if config.proxy not in ("", "auto") else [*own, *borrowed]
    unknown = [c for c in pool if c not in wide.columns]
    if unknown:
        raise InvalidParameterError(
            f"--proxy {config.proxy!r}: no such property; DATA has {own}, borrowed {borrowed}"
        )
    proxies, evidence = choose_proxies(wide, properties, pool)
    for target in properties:
        say(f"proxy for {target}: {proxies.get(target, 'none qualifies')}")
    info = {"proxies": proxies, "proxy_evidence": evidence, "borrowed": report}
    return wide.drop(columns="_part"), info


def _generators(config: DesignConfig, designer: Designer, known: pd.DataFrame) -> dict:
    """The chosen generators; the evolution scores by the designer's own ranking."""
    made: dict[str, Callable] = {}
    for name in config.generators:
        if name == "mined":
            made[name] = MinedSubstitution()
        elif name == "ion_exchange":
            made[name] = IonExchange(top=1000)
        elif name == "latent":
            made[name] = latent_generator(
                known["formula"].tolist(),
                goal_rank(known, designer.resolved_targets(known)),
                config.constraints(),
                LatentSettings(seed=config.seed),
            )
        elif name == "random":
            made[name] = RandomEnumeration(constraints=config.constraints())
        elif name == "evolution":
            made[name] = EvolutionarySearch(
                designer.ranking_score(known),
                config.constraints(),
                population=200,
                generations=8,
                children=3000,
            )
    return {
        name: (lambda parents, n, rng, g=g: g(parents, min(n, 5 * config.n), rng))
        if name != "mined"
        else g
        for name, g in made.items()
    }


def _stability(config: DesignConfig, frame: pd.DataFrame, say) -> StabilityObjective:
    """The hull of DATA's formation energies (``config.stable``, eV/atom) and a model of
    them (a forest on every labelled composition)."""
    from matlattice.models import MultiTaskForest

    energy = config.stable
    if energy not in frame.columns:
        raise InvalidParameterError(
            f"--stable {energy!r}: {config.data} has no such property (it names the formation "
            "energy in eV/atom that the hull is built from)"
        )
    labelled = frame.loc[frame[energy].notna(), ["formula", energy]]
    reference = HullReference(labelled["formula"].tolist(), labelled[energy].to_numpy())
    if reference.left_out:
        say(f"{reference.left_out} formation energies beyond +-5 eV/atom left out of the hull")
    say(f"fitting the formation-energy model ({len(labelled):,} compositions)")
    forest = MultiTaskForest(n_estimators=config.n_estimators, random_state=config.seed)
    forest.fit(labelled["formula"].tolist(), labelled[[energy]])

    def predict(formulas: list[str]):
        mean, std = forest.predict(formulas, return_std=True)
        return np.ravel(mean), np.ravel(std)

    return StabilityObjective(reference, predict, config.stable_within)


def _steering(config: DesignConfig, known, targets, say) -> tuple[LatticeSteering, dict | None]:
    """The lattice's reading of the targets: measured on the known data (``lattice=
    "measure"``; its summary is returned, to save as ``lattice.json``) or read from an
    entangle run or its JSON."""
    summary = None
    if config.lattice == "measure":
        say("measuring the lattice of the targets (one multi-task fit)")
        steering, summary = LatticeSteering.measure(known, targets, config.seed)
    else:
        path = Path(config.lattice)
        steering = LatticeSteering.from_summary(
            read_json(path / "lattice.json" if path.is_dir() else path), targets
        )
    for line in steering.report():
        say(f"lattice: {line}")
    return steering, summary


def _reference_formulas(config: DesignConfig, say) -> list[str]:
    """Every composition of the ``--reference`` datasets or files (a ``formula`` column is
    enough): known, so never new. A formula that does not parse is refused by row."""
    from matlattice.composition import parse_formulas
    from matlattice.data import load_dataset
    from matlattice.data.user_files import read_table

    formulas: list[str] = []
    for name in config.reference:
        is_file = Path(name).suffix.lower() in (".csv", ".parquet", ".pq")
        frame = read_table(Path(name)) if is_file else load_dataset(name).frame
        if "formula" not in frame.columns:
            raise InvalidParameterError(f"--reference {name} has no 'formula' column")
        batch = parse_formulas(frame["formula"].tolist(), errors="report")
        if batch.n_invalid:
            row, formula, fault = batch.faults[0]
            raise InvalidParameterError(
                f"--reference {name}: {batch.n_invalid} formulas do not parse (row {row}: "
                f"{formula!r}: {fault}); correct or remove them"
            )
        say(f"reference {name}: {len(frame):,} compositions are not new")
        formulas += frame["formula"].tolist()
    return formulas


def _designer(
    config: DesignConfig, frame: pd.DataFrame, say
) -> tuple[Designer, pd.DataFrame, dict]:
    """The designer of ``config`` over DATA's ``frame``, the known compositions, and
    ``{"listed"`` (every composition DATA and the borrowed data list), ``"proxies", ...}``."""
    targets = [parse_target(t, config.share) for t in config.targets]
    properties = [t.property for t in targets]
    known = _known_frame(frame, config, properties)
    fit_frame, info = _with_proxies(frame, config, properties, say)
    model = _model(config, fit_frame, properties, info["proxies"], say)
    designer = Designer(
        batched_predictor(
            model,
            properties,
            joint=len(properties) > 1,
            executor=config.executor,
            n_jobs=config.n_jobs,
        ),
        targets,
        constraints=config.constraints(),
        prior_weight=config.prior_weight,
        per_system=config.per_system or None,
        progress=say,
    )
    designer.generators = _generators(config, designer, known)
    if config.stable:
        designer.stable = _stability(config, frame, say)
    return designer, known, {"listed": fit_frame["formula"].tolist(), **info}


def design_run(
    config: DesignConfig, out: Path, *, overwrite: bool = False, progress: Progress = None
) -> dict:
    """Design ``config.n`` candidates and write the run folder ``out`` (module docstring);
    returns the ``design.json`` record. An ``out`` holding files is refused unless
    ``overwrite`` (the old run stays until the new one is complete); nothing is written
    before the candidates are ranked, so a refused design leaves no folder behind."""
    from matlattice.data import load_dataset

    say = progress or (lambda _: None)
    started = time.perf_counter()
    work = open_run_folder(Path(out), resume=False, overwrite=overwrite)
    reference = _reference_formulas(config, say)  # refused before any model is fitted
    data = load_dataset(config.data)
    designer, known, info = _designer(config, data.frame, say)
    lattice = None
    if config.lattice:
        designer.steering, lattice = _steering(config, known, designer.targets, say)
    listed = [*reference, *info.pop("listed")]  # DATA's unlabelled and borrowed too
    candidates = designer.design(known, config.n, config.seed, exclude=listed)
    if candidates["p_meet"].max() < 1e-3:
        log.warning(
            "no candidate has even a 0.1 % chance of meeting the targets by the model, so "
            "the ranking rests on the substitution prior alone; loosen the targets (--share) "
            "or check the model (matlattice fit, calibrate)"
        )
    say("measuring the candidates against the known data")
    formulas, known_formulas = candidates["formula"].tolist(), known["formula"].tolist()
    candidates = pd.concat([candidates, nearest_known(formulas, known_formulas)], axis=1).assign(
        in_domain=domain_flags(formulas, known_formulas, config.seed)
    )
    checked = None
    if config.structures:
        candidates, checked = structure_check(
            candidates, config.structures, work, stable_within=config.stable_within, say=say,
            potential=config.structure_potential, n_random=config.structure_random,
            seed=config.seed,
        )  # fmt: skip
    record = {
        "dataset": config.data,
        "targets": [t.describe() for t in designer.resolved_targets(known)],
        "known_compositions": len(known),
        "reference_compositions": len(reference),
        **design_summary(candidates, known_formulas, config.constraints()),
        "in_domain": float(np.mean(candidates["in_domain"])),
        "mean_p_meet": float(candidates["p_meet"].mean()),
        "lattice": designer.steering.pairs if designer.steering else None,
        "structures": checked,
        **info,
        "seconds": round(time.perf_counter() - started, 1),
        "config": config.to_dict(),
    }
    _write(work, config, candidates, record, known, lattice)
    write_rejected(data.report, work)
    finish_run_folder(work, Path(out))
    return record


def _write(work: Path, config, candidates, record, known, lattice: dict | None) -> None:
    from matlattice.report.design_plots import save_design_figures

    work.mkdir(parents=True, exist_ok=True)
    atomic_write_json(work / "config.json", config.to_dict())
    atomic_write_table(work / "candidates.csv", candidates)
    atomic_write_json(work / "design.json", json_safe(record))
    if lattice is not None:
        atomic_write_json(work / "lattice.json", json_safe(lattice))
    targets = [parse_target(text, config.share) for text in config.targets]
    goals = {t.property: t.goal for t in targets}
    save_design_figures(candidates, known, goals, work)
