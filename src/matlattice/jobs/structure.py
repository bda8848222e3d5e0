"""``matlattice structure predict``: formulas -> relaxed crystal structures, stability, XRD.

A run folder holds

- ``candidates.csv``: one row per relaxed structure: ``formula``, ``rank`` within its
  formula (1 = lowest energy), ``spacegroup``, ``energy_per_atom``,
  ``formation_energy_per_atom``, ``e_above_hull``, ``potential``, ``cif`` (the CIF's path
  relative to the run) and the relaxation's record (``source``, ``built_spacegroup``,
  ``converged``, ``steps``, ``fmax``, ``energy_start``, ``volume_per_atom``,
  ``energy_correction``, ``same_as``); with a second potential, its ``second_*`` columns
  and ``agrees``;
- ``structures/``: every relaxed structure as CIF (collapsed ones, with no energy, are not
  written);
- ``xrd/``: the predicted Cu K-alpha pattern of the ``xrd_top`` best distinct structures of
  each formula (``same_as`` 0), ``FORMULA-RANK.csv``, and one plot per formula,
  ``FORMULA.png``;
- ``summary.json``: per formula, the best structure and what the search found; the settings;
- ``config.json``: the settings, to run it again; ``checkpoints/``: the search's finished
  chunks, so a killed run continues with ``resume`` (refused if the settings differ).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from matlattice.errors import InvalidParameterError, MatlatticeError
from matlattice.jobs.config import JobConfig
from matlattice.jobs.run_folder import (
    check_fingerprint,
    finish_run_folder,
    frame_fingerprint,
    open_run_folder,
)
from matlattice.runtime.files import (
    atomic_write_json,
    atomic_write_table,
    atomic_write_text,
    file_stem,
    json_safe,
)

__all__ = ["StructureConfig", "structure_run"]

log = logging.getLogger(__name__)

Progress = Callable[[str], None] | None


@dataclass(frozen=True)
class StructureConfig(JobConfig):
    """Everything that defines a structure run (saved as ``config.json`` beside it)."""

    json_section = None

    formulas: tuple[str, ...]
    potential: str = "chgnet"
    second: str = ""
    n_random: int = 10
    prototypes: bool = True
    max_atoms: int = 24
    hull: str = "dft"
    fmax: float = 0.05
    steps: int = 300
    xrd_top: int = 3
    seed: int = 0
    chunk: int = 32
    device: str = "cpu"
    batch_size: int = 16

    def __post_init__(self) -> None:
        from matlattice.structure.potentials import POTENTIAL_NAMES
        from matlattice.structure.predict import HULLS

        for name in (self.potential, self.second):
            if name and name not in POTENTIAL_NAMES:
                raise InvalidParameterError(
                    f"potential {name!r}; expected one of {POTENTIAL_NAMES}"
                )

        if not self.formulas:
            raise InvalidParameterError("no formulas to predict structures for")
        _refuse_repeats(self.formulas)
        if self.hull not in HULLS:
            raise InvalidParameterError(f"hull={self.hull!r}; expected one of {HULLS}")
        if self.second and self.second == self.potential:
            raise InvalidParameterError(
                f"second={self.second!r} is the first potential; name another or none"
            )
        if self.n_random < 0 or not (self.n_random or self.prototypes):
            raise InvalidParameterError(
                f"n_random={self.n_random} with prototypes={self.prototypes}: no candidates"
            )


def _refuse_repeats(formulas) -> None:
    """Two formulas naming one composition (``Fe2O3``, ``Fe4O6``) or one file name
    (``(NaCl)2`` and ``NaCl2``: their CIFs would overwrite each other) are refused."""
    from pymatgen.core import Composition

    stems: dict[str, str] = {}
    compositions: dict[str, str] = {}
    for formula in formulas:
        stem = file_stem(formula)
        if stem in stems:
            raise InvalidParameterError(
                f"formulas {stems[stem]!r} and {formula!r} share the file name {stem!r}; "
                "write one of them another way"
            )
        stems[stem] = formula
        try:
            key = Composition(formula).reduced_formula
        except Exception:  # unparsable: refused by name when its candidates are built
            continue
        if key in compositions:
            raise InvalidParameterError(
                f"formulas {compositions[key]!r} and {formula!r} are one composition "
                f"({key}); list it once"
            )
        compositions[key] = formula


def _write_structures(work: Path, table: pd.DataFrame, found: list) -> pd.DataFrame:
    folder = work / "structures"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for row, item in zip(table.itertuples(), found, strict=True):
        if not np.isfinite(row.energy_per_atom):
            paths.append("")
            continue
        name = f"structures/{file_stem(row.formula)}-{row.rank:02d}.cif"
        atomic_write_text(work / name, item.structure.to(fmt="cif"))
        paths.append(name)
    return table.assign(cif=paths)


def _write_xrd(work: Path, table: pd.DataFrame, found: list, top: int) -> None:
    from matlattice.report.structure_plots import save_xrd_plot
    from matlattice.structure.xrd import xrd_pattern

    folder = work / "xrd"
    folder.mkdir(parents=True, exist_ok=True)
    for formula, rows in table.groupby("formula", sort=False):
        patterns = {}
        distinct = rows[rows["same_as"] == 0].sort_values("rank").head(top)
        for i in distinct.index:
            if not np.isfinite(table.at[i, "energy_per_atom"]):
                continue
            pattern = xrd_pattern(found[i].structure)
            rank = int(table.at[i, "rank"])
            atomic_write_table(folder / f"{file_stem(formula)}-{rank:02d}.csv", pattern)
            patterns[f"rank {rank}: {table.at[i, 'spacegroup_symbol']}"] = pattern
        if patterns:
            save_xrd_plot(folder / f"{file_stem(formula)}.png", patterns, title=formula)


def _summary(table: pd.DataFrame) -> list[dict]:
    out = []
    for formula, rows in table.groupby("formula", sort=False):
        best = rows.sort_values("rank").iloc[0]
        out.append({
            "formula": formula, "candidates": len(rows),
            "converged": int(rows["converged"].sum()),
            "collapsed": int((~np.isfinite(rows["energy_per_atom"])).sum()),
            "spacegroup": int(best["spacegroup"]), "symbol": best["spacegroup_symbol"],
            "source": best["source"], "energy_per_atom": best["energy_per_atom"],
            "formation_energy_per_atom": best["formation_energy_per_atom"],
            "e_above_hull": best["e_above_hull"],
            "agrees": bool(best["agrees"]) if "agrees" in rows and pd.notna(best["agrees"])
            else None,
        })  # fmt: skip
    return out


def _second(config: StructureConfig, table: pd.DataFrame, found: list) -> pd.DataFrame:
    from matlattice.structure.potentials import load_potential
    from matlattice.structure.predict import second_opinion

    potential = load_potential(config.second, config.device, config.batch_size)
    other = second_opinion(found, potential, top=3, hull=config.hull, fmax=config.fmax,
                           steps=config.steps)  # fmt: skip
    columns = {"energy_per_atom": "second_energy_per_atom", "spacegroup": "second_spacegroup",
               "formation_energy_per_atom": "second_formation_energy_per_atom",
               "e_above_hull": "second_e_above_hull", "rank": "second_rank"}  # fmt: skip
    other = other.rename(columns=columns)[["formula", "first_rank", *columns.values(), "agrees"]]
    merged = table.merge(other.rename(columns={"first_rank": "rank"}), how="left",
                         on=["formula", "rank"])  # fmt: skip
    merged["agrees"] = merged["formula"].map(other.groupby("formula")["agrees"].first())
    return merged


def structure_run(
    config: StructureConfig, out: Path, *, resume: bool = False, overwrite: bool = False,
    progress: Progress = None,
) -> dict:  # fmt: skip
    """Predict structures for ``config.formulas`` and write the run folder (module docstring);
    returns the ``summary.json`` record."""
    from matlattice.structure.potentials import load_potential
    from matlattice.structure.predict import predict_structures

    say = progress or (lambda _: None)
    started = time.perf_counter()
    work = open_run_folder(Path(out), resume=resume, overwrite=overwrite)
    settings = {k: v for k, v in config.to_dict().items() if k != "formulas"}
    check_fingerprint(work, frame_fingerprint(pd.DataFrame({"formula": config.formulas}), [],
                                              settings))  # fmt: skip
    potential = load_potential(config.potential, config.device, config.batch_size)
    table, found = predict_structures(
        list(config.formulas), potential, hull=config.hull, checkpoint=work / "checkpoints",
        progress=lambda done, total: say(f"relaxed {done}/{total} structures"),
        n_random=config.n_random, prototypes=config.prototypes, max_atoms=config.max_atoms,
        seed=config.seed, fmax=config.fmax, steps=config.steps, chunk=config.chunk,
    )  # fmt: skip
    table["energy_start"] = [f.energy_start for f in found]
    table["spacegroup_symbol"] = [_symbol(g) for g in table["spacegroup"]]
    table = _write_structures(work, table, found)
    if config.second:
        say(f"second opinion: {config.second} on the 3 best structures of each formula")
        table = _second(config, table, found)
    say("predicted XRD patterns")
    _write_xrd(work, table, found, config.xrd_top)
    seconds = round(time.perf_counter() - started, 1)
    record = {"formulas": _summary(table), "structures": len(table), "seconds": seconds,
              "config": config.to_dict()}  # fmt: skip
    atomic_write_table(work / "candidates.csv", table)
    atomic_write_json(work / "summary.json", json_safe(record))
    atomic_write_json(work / "config.json", config.to_dict())
    finish_run_folder(work, Path(out))
    return record


def _symbol(group: int) -> str:
    from pymatgen.symmetry.groups import SpaceGroup

    try:
        return SpaceGroup.from_int_number(int(group)).symbol
    except Exception:  # an unknown number: show it as is
        return str(group)


def match_run(pattern: Path, run: Path, *, fwhm: float = 0.3, max_strain: float = 0.04):
    """A run's relaxed structures ranked against a measured pattern (``two_theta``,
    ``intensity``; :func:`~matlattice.structure.xrd.match_pattern`), with their formula,
    rank, space group and energies; written to ``RUN/xrd_match.csv``."""
    from pymatgen.core import Structure

    from matlattice.data.user_files import read_table
    from matlattice.structure.xrd import match_pattern

    run = Path(run)
    if not (run / "candidates.csv").is_file():
        raise MatlatticeError(f"{run} holds no candidates.csv: not a structure predict run")
    candidates = pd.read_csv(run / "candidates.csv", keep_default_na=False)
    kept = candidates[(candidates["cif"] != "") & (candidates["same_as"] == 0)]
    structures = {cif: Structure.from_file(run / cif) for cif in kept["cif"]}
    scores = match_pattern(read_table(Path(pattern)), structures, fwhm=fwhm,
                           max_strain=max_strain)  # fmt: skip
    columns = ["cif", "formula", "rank", "spacegroup", "formation_energy_per_atom",
               "e_above_hull"]  # fmt: skip
    table = scores.merge(kept[columns], left_on="name", right_on="cif").drop(columns="name")
    table = table[[*columns[1:], "similarity", "strain", "cif"]]
    atomic_write_table(run / "xrd_match.csv", table)
    return table
