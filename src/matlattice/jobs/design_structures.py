"""``matlattice design --structures K``: the best designed compositions get crystal structures.

Seed 001's inverse design is hierarchical: compositions first, structures after. The K best
candidates of a design that can be crystals (integer amounts, at most ``max_atoms`` atoms per
formula unit) go through the structure stage (:func:`~matlattice.jobs.structure.structure_run`:
prototypes and random symmetric crystals relaxed by a pretrained potential, formation energy
against elemental references relaxed the same way, signed distance to the hull of Materials
Project's phases of the chemical system), written to ``RUN/structures/``. The candidates gain

- ``computed_spacegroup``, ``computed_formation_energy`` and ``computed_e_above_hull`` of the
  lowest-energy structure (eV/atom), ``computed_stable`` (hull distance <= ``stable_within``),
  ``structure_cif`` (its CIF, relative to the design run) and ``structure_note`` (why a
  candidate was not computed);
- a new order of the K: the computed-stable ones first, in the design's order, then the
  others by hull distance, then those the stage could not compute; the rest keep their
  place after them. ``rank_before_structures`` holds the design's own order (1 = best).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["structure_check"]

COLUMNS = ("computed_spacegroup", "computed_formation_energy", "computed_e_above_hull")


def _crystal_ready(formulas: list[str], max_atoms: int) -> dict[str, str]:
    """Formula -> why it cannot be given a structure ('' when it can)."""
    from matlattice.structure.candidates import crystal_refusal

    return {formula: crystal_refusal(formula, max_atoms) for formula in formulas}


def _reranked(candidates: pd.DataFrame, k: int) -> pd.DataFrame:
    """The K first rows re-ordered (module docstring), the others after them."""
    top, rest = candidates.iloc[:k], candidates.iloc[k:]
    computed = top["computed_e_above_hull"].notna()
    marked = top["computed_stable"].fillna(False).astype(bool)
    stable, others = top[computed & marked], top[computed & ~marked]
    others = others.sort_values("computed_e_above_hull", kind="stable")
    return pd.concat([stable, others, top[~computed], rest], ignore_index=True)


def structure_check(
    candidates: pd.DataFrame,
    k: int,
    work: Path,
    *,
    stable_within: float,
    say: Callable[[str], None],
    **settings,
) -> tuple[pd.DataFrame, dict]:
    """The candidates with the structure stage's columns and the K re-ranked (module
    docstring), and the record of the check for ``design.json``; ``settings`` go to
    :class:`~matlattice.jobs.structure.StructureConfig` (``potential``, ``n_random``,
    ``seed``, ``max_atoms``, ``device``)."""
    from matlattice.jobs.structure import StructureConfig, structure_run

    candidates = candidates.assign(rank_before_structures=np.arange(1, len(candidates) + 1))
    formulas = candidates["formula"].head(k).tolist()
    notes = _crystal_ready(formulas, settings.get("max_atoms", StructureConfig.max_atoms))
    ready = [f for f in formulas if not notes[f]]
    record = {"k": k, "computed": 0, "computed_stable": 0, "not_computed": {
        f: n for f, n in notes.items() if n}}  # fmt: skip
    for column in COLUMNS:
        candidates[column] = np.nan
    candidates["computed_stable"] = pd.Series(pd.NA, index=candidates.index, dtype="boolean")
    candidates["structure_cif"] = ""
    candidates["structure_note"] = candidates["formula"].map(notes).fillna("")
    if not ready:
        return candidates, record
    say(f"structures for the {len(ready)} best candidates")
    config = StructureConfig(formulas=tuple(ready), xrd_top=1, **settings)
    summary = structure_run(config, work / "structures", progress=say)
    table = pd.read_csv(work / "structures" / "candidates.csv", keep_default_na=False)
    best = table[table["rank"] == 1].set_index("formula")
    found = candidates["formula"].isin(best.index)
    rows = best.loc[candidates.loc[found, "formula"]]
    candidates.loc[found, "computed_spacegroup"] = rows["spacegroup"].to_numpy(float)
    candidates.loc[found, "computed_formation_energy"] = pd.to_numeric(
        rows["formation_energy_per_atom"], errors="coerce").to_numpy()  # fmt: skip
    hull = pd.to_numeric(rows["e_above_hull"], errors="coerce").to_numpy()
    candidates.loc[found, "computed_e_above_hull"] = hull
    candidates.loc[found, "structure_cif"] = ["structures/" + c if c else "" for c in rows["cif"]]
    collapsed = found & candidates["computed_formation_energy"].isna()
    candidates.loc[collapsed, "computed_spacegroup"] = np.nan  # a cell with no energy
    computed = candidates["computed_e_above_hull"].notna()
    candidates.loc[computed, "computed_stable"] = (
        candidates.loc[computed, "computed_e_above_hull"] <= stable_within
    )
    lost = found & ~computed
    note = np.where(
        collapsed[lost],
        "every candidate structure collapsed or failed",
        "no hull distance (MP2020 excludes this chemistry, or no hull data)",
    )
    candidates.loc[lost, "structure_note"] = note
    record["not_computed"].update(dict(zip(candidates.loc[lost, "formula"], note, strict=True)))
    record.update(computed=int(computed.sum()), computed_stable=int(
        candidates["computed_stable"].fillna(False).sum()), potential=config.potential,
        seconds=summary["seconds"], structures=summary["structures"])  # fmt: skip
    return _reranked(candidates, k), record
