"""A structure oracle: a campaign measured by physics instead of hidden labels.

:class:`StructureOracle` answers a batch of proposed compositions with a property computed by
the structure stage (:func:`~matlattice.structure.predict.predict_structures`: prototypes and
random symmetric crystals relaxed by a pretrained potential, the lowest one kept):

- ``formation_energy_per_atom``: against elemental references relaxed by the same potential
  (eV/atom);
- ``e_above_hull``: its signed distance to the hull of Materials Project's phases of its
  chemical system (eV/atom; below zero: below the known hull).

A composition the stage cannot give a crystal (amounts not integer, more atoms per formula
unit than ``max_atoms``, every structure collapsed) is answered with an empty value, which a
single-objective campaign records as not measurable; an element the potential has no
parameters for stops the call with an error naming it (choose another potential).

Every answer is kept in ``folder/values-<potential>.json`` with the settings it was computed
with (an entry of other settings is computed again, never reused) and the lowest structure as
CIF under ``folder/structures/``, so a killed campaign, another method or another seed reuses
what was already relaxed. Two oracles of two potentials are two fidelities of one property
(CHGNet the cheaper, SevenNet the better on Matbench Discovery).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from matlattice.composition import parse_formulas
from matlattice.errors import DataFormatError, InvalidParameterError, MatlatticeError
from matlattice.runtime.files import atomic_write_json, atomic_write_text, file_stem, read_json

__all__ = ["ORACLE_TARGETS", "StructureOracle", "computed_pool"]

log = logging.getLogger(__name__)

ORACLE_TARGETS = ("formation_energy_per_atom", "e_above_hull")


class StructureOracle:
    """``oracle(formulas) -> DataFrame(formula, value)`` by the structure stage (module
    docstring). ``potential``: a name (``chgnet``, ``sevennet``, ``sevennet-l3i5``) or a
    :class:`~matlattice.structure.potentials.Potential`."""

    def __init__(
        self,
        potential="chgnet",
        target: str = "e_above_hull",
        *,
        folder: Path,
        n_random: int = 6,
        max_atoms: int = 24,
        seed: int = 0,
        device: str = "cpu",
    ):
        from matlattice.structure.potentials import load_potential

        if target not in ORACLE_TARGETS:
            raise InvalidParameterError(
                f"oracle target {target!r}; a structure oracle computes one of {ORACLE_TARGETS}"
            )
        self.potential = load_potential(potential, device) if isinstance(potential, str) \
            else potential  # fmt: skip
        self.target, self.folder = target, Path(folder)
        self.settings = {"n_random": n_random, "max_atoms": max_atoms, "seed": seed}
        self.computed = 0  # compositions this oracle relaxed (not read from the folder)

    @property
    def _path(self) -> Path:
        return self.folder / f"values-{self.potential.name}.json"

    def _stored(self) -> dict:
        """The stored answers, each checked: a file edited into something else is refused
        by name rather than read as values."""
        stored = read_json(self._path) if self._path.is_file() else {}
        if not isinstance(stored, dict):
            raise DataFormatError(f"{self._path} holds no answers by formula; delete it to "
                                  "compute them again")  # fmt: skip
        for formula, entry in stored.items():
            if not _valid_entry(entry):
                raise DataFormatError(
                    f"{self._path}: the entry of {formula!r} is not an oracle answer "
                    f"({str(entry)[:80]}); delete that entry (or the file) to compute it again"
                )
        return stored

    def __call__(self, formulas: Sequence[str]) -> pd.DataFrame:
        formulas = list(formulas)
        stored = self._stored()
        missing = [f for f in dict.fromkeys(formulas)
                   if (stored.get(f) or {}).get("settings") != self.settings]  # fmt: skip
        if missing:
            stored = {**stored, **self._compute(missing)}
        values = [(stored.get(f) or {}).get(self.target) for f in formulas]
        return pd.DataFrame({"formula": formulas,
                             "value": [math.nan if v is None else v for v in values]})  # fmt: skip

    def _compute(self, formulas: list[str]) -> dict:
        """Relax ``formulas`` (those that can be crystals) and store their answers."""
        from matlattice.structure.candidates import crystal_refusal
        from matlattice.structure.predict import predict_structures

        notes = {f: crystal_refusal(f, self.settings["max_atoms"]) for f in formulas}
        ready = [f for f in formulas if not notes[f]]
        fresh = {f: {"settings": self.settings, "note": notes[f]} for f in formulas}
        if ready:
            log.info("oracle %s: relaxing structures of %d compositions", self.potential.name,
                     len(ready))  # fmt: skip
            try:
                hull = "dft" if self.target == "e_above_hull" else "none"
                table, found = predict_structures(ready, self.potential, hull=hull,
                                                  **self.settings)  # fmt: skip
            except InvalidParameterError as error:  # an element the potential lacks
                raise MatlatticeError(f"the {self.potential.name} oracle refused: {error}") \
                    from error  # fmt: skip
            self.computed += len(ready)
            for i in table.index[table["rank"] == 1]:
                row = table.loc[i]
                fresh[row["formula"]].update(self._answer(row, found[i].structure))
        latest = self._stored()  # another campaign may have added answers meanwhile
        atomic_write_json(self._path, {**latest, **fresh})
        return fresh

    def _answer(self, row, structure) -> dict:
        from pymatgen.core import Composition

        if not math.isfinite(row["energy_per_atom"]):
            return {"note": "every candidate structure collapsed or failed"}
        # by the reduced formula: two spellings of two compositions never share a file
        reduced = Composition(row["formula"]).reduced_formula
        name = f"structures/{self.potential.name}-{file_stem(reduced)}.cif"
        self.folder.joinpath("structures").mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.folder / name, structure.to(fmt="cif"))
        hull = row["e_above_hull"]
        return {"formation_energy_per_atom": float(row["formation_energy_per_atom"]),
                "e_above_hull": None if pd.isna(hull) else float(hull),
                "spacegroup": int(row["spacegroup"]), "cif": name}  # fmt: skip


def _valid_entry(entry) -> bool:
    """An answer: its settings, and each target a finite number or null."""
    if not isinstance(entry, dict) or not isinstance(entry.get("settings"), dict):
        return False
    for target in ORACLE_TARGETS:
        value = entry.get(target)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):  # fmt: skip
            return False
    return True


def computed_pool(
    data: str, oracles: Sequence[StructureOracle], pool_size: int, *, seed: int = 0,
    chunk: int = 4, progress=None,
) -> pd.DataFrame:  # fmt: skip
    """``formula`` and one column per oracle (``<target>@<potential>``) for ``pool_size``
    compositions of dataset ``data`` that can be crystals, drawn seeded; computed ``chunk``
    compositions at a time (each chunk stored before the next, so a killed run loses at most
    one), with ``progress(message)`` after each."""
    from matlattice.structure.candidates import crystal_refusal

    if not oracles:
        raise InvalidParameterError("computed_pool needs at least one oracle")
    from matlattice.data.parts import frame_keys

    frame = _formulas_of(data)  # one row per composition below: Fe2O3 = Fe4O6
    formulas = frame.loc[~pd.Series(frame_keys(frame)).duplicated().to_numpy(), "formula"]
    limit = min(o.settings["max_atoms"] for o in oracles)
    pool: list[str] = []
    for formula in formulas.sample(frac=1.0, random_state=seed):
        if len(pool) == pool_size:
            break
        if not crystal_refusal(formula, limit):
            pool.append(formula)
    frame = pd.DataFrame({"formula": pool})
    for oracle in oracles:
        column = f"{oracle.target}@{oracle.potential.name}"
        values = []
        for start in range(0, len(pool), chunk):
            values += oracle(pool[start : start + chunk])["value"].tolist()
            if progress:
                progress(f"{oracle.potential.name}: {min(start + chunk, len(pool))}/{len(pool)} "
                         "pool compositions computed")  # fmt: skip
        frame[column] = values
    return frame


def _formulas_of(data: str) -> pd.DataFrame:
    """The ``formula`` column of a dataset, or of a CSV/parquet file that may hold nothing
    else (an oracle needs no labels)."""
    from matlattice.data import load_dataset
    from matlattice.data.user_files import read_table

    path = Path(data)
    if not path.is_file():
        return load_dataset(data, clean=True).frame[["formula"]]
    frame = read_table(path)
    if "formula" not in frame:
        raise DataFormatError(f"{path} has no 'formula' column; found {list(frame.columns)[:10]}")
    faults = parse_formulas(frame["formula"].astype(str).tolist(), errors="report").faults
    if faults:
        raise DataFormatError(f"{path}: formulas that do not parse, e.g. {faults[:3]}")
    return frame[["formula"]].astype(str)
