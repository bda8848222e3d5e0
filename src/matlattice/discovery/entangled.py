"""Entanglement-guided acquisition: the entanglement lattice names the property most
strongly coupled to the target, and a two-fidelity campaign measures that property as the
cheap channel (:mod:`matlattice.discovery.multifidelity`), sharpening the target's
predictions where it is known."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from matlattice.errors import MatlatticeError

__all__ = ["coupled_property"]


def coupled_property(
    lattice: dict | Path, target: str, among: Iterable[str] | None = None
) -> tuple[str, float]:
    """``(property, weight)``: the property with the largest combined entanglement weight to
    ``target`` in a ``lattice.json`` (a dict or its path), over edges in either direction that
    no risk gate cuts; ``among`` restricts the choice (e.g. to the properties that are cheap
    to measure)."""
    if not isinstance(lattice, dict):
        lattice = json.loads(Path(lattice).read_text())
    if target not in lattice.get("tasks", []):
        raise MatlatticeError(f"{target!r} is not a property of the lattice {lattice['tasks']}")
    allowed = set(among) if among is not None else None
    best: dict[str, float] = {}
    for edge in lattice["edges"]:
        if target not in (edge["source"], edge["target"]) or edge.get("gated"):
            continue
        other = edge["target"] if edge["source"] == target else edge["source"]
        if allowed is not None and other not in allowed:
            continue
        best[other] = max(best.get(other, 0.0), float(edge["weight"]))
    if not best:
        raise MatlatticeError(f"no ungated edge of {target!r} to {sorted(allowed or [])}")
    name = max(best, key=best.get)
    return name, best[name]
