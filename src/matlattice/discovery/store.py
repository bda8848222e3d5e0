"""The campaign database: every proposal, result and model version, in SQLite (WAL mode).

One file per campaign. ``fidelity`` in the results table names what was measured: ``"main"``
for a single-objective campaign, the objective for a multi-objective one, the fidelity level
for a multi-fidelity one. Writes are transactions, so a campaign killed at any point reopens
with every committed proposal and result; a result is stored once per (formula, fidelity)
and a proposal once per (iteration, formula), so a repeated ``tell`` or a resumed ``ask``
duplicates nothing. A corrected result replaces the stored one only through
:meth:`CampaignStore.amend_results`, which keeps the old value in ``amendments``.

One writer at a time: a store opened for writing holds an advisory lock on ``.<file>.lock``
(released by the system when the process ends, however it ends), and a second writer is
refused with the PID of the first. Readers (``read_only=True``) take no lock.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pandas as pd

from matlattice.errors import MatlatticeError
from matlattice.runtime.locks import hold_lock

__all__ = ["CampaignStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS proposals (
    iteration INTEGER NOT NULL, formula TEXT NOT NULL, mean REAL, std REAL, score REAL,
    reason TEXT, created REAL NOT NULL, fidelity TEXT NOT NULL DEFAULT 'main',
    PRIMARY KEY (iteration, formula, fidelity));
CREATE TABLE IF NOT EXISTS unavailable (
    formula TEXT NOT NULL, fidelity TEXT NOT NULL, PRIMARY KEY (formula, fidelity));
CREATE TABLE IF NOT EXISTS results (
    formula TEXT NOT NULL, fidelity TEXT NOT NULL DEFAULT 'main', value REAL NOT NULL,
    iteration INTEGER NOT NULL, told REAL NOT NULL, PRIMARY KEY (formula, fidelity));
CREATE TABLE IF NOT EXISTS pool (formula TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS amendments (
    formula TEXT NOT NULL, fidelity TEXT NOT NULL, old_value REAL NOT NULL,
    new_value REAL NOT NULL, told REAL NOT NULL);
CREATE TABLE IF NOT EXISTS models (
    iteration INTEGER PRIMARY KEY, n_train INTEGER, fit_seconds REAL, info TEXT);
"""


class CampaignStore:
    """SQLite store of one campaign (``path``: the ``.sqlite`` file, created if missing)."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = None if read_only else hold_lock(self.path, "campaign")
        self._db = sqlite3.connect(self.path)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            columns = {r[1] for r in self._db.execute("PRAGMA table_info(proposals)")}
            if "fidelity" not in columns:  # a store written before fidelities existed
                self._db.execute(
                    "ALTER TABLE proposals ADD COLUMN fidelity TEXT NOT NULL DEFAULT 'main'"
                )
            self._db.commit()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise MatlatticeError(
                f"{self.path} is not a campaign database ({exc}); expected a .sqlite file "
                "written by matlattice"
            ) from exc

    def close(self) -> None:
        self._db.close()
        if self._lock is not None:
            self._lock.close()  # releases the lock
            self._lock = None

    # --- config -----------------------------------------------------------------------
    def config(self) -> dict | None:
        """The campaign's settings as stored (JSON object), or None in a new store."""
        row = self._db.execute("SELECT value FROM config WHERE key = 'campaign'").fetchone()
        if row is None:
            return None
        try:
            config = json.loads(row[0])
        except json.JSONDecodeError as exc:
            raise MatlatticeError(f"{self.path} holds unreadable settings ({exc})") from exc
        if not isinstance(config, dict):
            raise MatlatticeError(f"{self.path} holds settings {config!r}; expected a JSON object")
        return config

    def save_config(self, config: dict) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO config VALUES ('campaign', ?)", (json.dumps(config),)
            )

    def pool(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT formula FROM pool ORDER BY rowid")]

    def save_pool(self, formulas: list[str]) -> None:
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO pool VALUES (?)", [(f,) for f in formulas])

    # --- proposals and results -----------------------------------------------------------
    def iteration(self) -> int:
        """The number of asks so far (the next ask's iteration index)."""
        row = self._db.execute("SELECT MAX(iteration) FROM proposals").fetchone()
        return 0 if row[0] is None else int(row[0]) + 1

    def add_proposals(self, iteration: int, frame: pd.DataFrame) -> None:
        """Store an ask: ``formula, mean, std, score, reason`` (and ``fidelity``, default
        ``"main"``)."""
        now = time.time()
        fidelity = frame["fidelity"] if "fidelity" in frame else ["main"] * len(frame)
        rows = [
            (iteration, r.formula, r.mean, r.std, r.score, r.reason, now, f)
            for r, f in zip(frame.itertuples(index=False), fidelity, strict=True)
        ]
        with self._db:
            self._db.executemany(
                "INSERT OR IGNORE INTO proposals (iteration, formula, mean, std, score, reason, "
                "created, fidelity) VALUES (?,?,?,?,?,?,?,?)",
                rows,
            )

    def proposals(self) -> pd.DataFrame:
        return pd.read_sql_query("SELECT * FROM proposals ORDER BY iteration, rowid", self._db)

    def pending(self, fidelity: str | None = None) -> pd.DataFrame:
        """Proposals of the last ask with no result yet: at their own fidelity, or at
        ``fidelity`` when given (an objective of a multi-objective campaign). A material
        marked unavailable at that fidelity is not pending."""
        return pd.read_sql_query(
            "SELECT p.* FROM proposals p WHERE p.iteration = (SELECT MAX(iteration) FROM "
            "proposals) AND NOT EXISTS (SELECT 1 FROM results r WHERE r.formula = p.formula "
            "AND r.fidelity = COALESCE(?, p.fidelity)) AND NOT EXISTS (SELECT 1 FROM "
            "unavailable u WHERE u.formula = p.formula AND u.fidelity = "
            "COALESCE(?, p.fidelity)) ORDER BY p.rowid",
            self._db,
            params=(fidelity, fidelity),
        )

    def add_unavailable(self, formulas: list[str], fidelity: str) -> None:
        """Mark materials that cannot be measured at ``fidelity`` (never proposed again)."""
        with self._db:
            self._db.executemany(
                "INSERT OR IGNORE INTO unavailable VALUES (?, ?)", [(f, fidelity) for f in formulas]
            )

    def remove_unavailable(self, formulas: list[str], fidelity: str) -> None:
        """Lift the mark of :meth:`add_unavailable` (a corrected result)."""
        with self._db:
            self._db.executemany(
                "DELETE FROM unavailable WHERE formula = ? AND fidelity = ?",
                [(f, fidelity) for f in formulas],
            )

    def unavailable(self, fidelity: str) -> set[str]:
        rows = self._db.execute("SELECT formula FROM unavailable WHERE fidelity = ?", (fidelity,))
        return {r[0] for r in rows}

    def add_results(
        self, frame: pd.DataFrame, iteration: int, fidelity: str | dict[str, str] = "main"
    ) -> int:
        """Store results; returns how many values were new. ``fidelity`` names what was
        measured (a fidelity level, or an objective): with a string, ``frame`` has
        ``formula`` and ``value``; with ``{column: fidelity}``, every column of ``frame`` so
        named is stored under its fidelity, all in one transaction."""
        now = time.time()
        columns = {"value": fidelity} if isinstance(fidelity, str) else fidelity
        rows = [
            (f, name, float(v), iteration, now)
            for column, name in columns.items()
            for f, v in zip(frame["formula"], frame[column], strict=True)
        ]
        with self._db:
            before = self._db.total_changes
            self._db.executemany("INSERT OR IGNORE INTO results VALUES (?,?,?,?,?)", rows)
            return self._db.total_changes - before

    def amend_results(self, frame: pd.DataFrame, fidelity: str = "main") -> int:
        """Replace stored values by ``frame``'s (``formula, value``) where they differ, keeping
        each old value in ``amendments``; returns how many changed."""
        now = time.time()
        stored = dict(
            self._db.execute("SELECT formula, value FROM results WHERE fidelity = ?", (fidelity,))
        )
        changed = [
            (f, float(v)) for f, v in zip(frame["formula"], frame["value"], strict=True)
            if f in stored and stored[f] != float(v)
        ]  # fmt: skip
        with self._db:
            self._db.executemany(
                "INSERT INTO amendments VALUES (?,?,?,?,?)",
                [(f, fidelity, stored[f], v, now) for f, v in changed],
            )
            self._db.executemany(
                "UPDATE results SET value = ?, told = ? WHERE formula = ? AND fidelity = ?",
                [(v, now, f, fidelity) for f, v in changed],
            )
        return len(changed)

    def amendments(self) -> pd.DataFrame:
        """Every correction: ``formula, fidelity, old_value, new_value, told``."""
        return pd.read_sql_query("SELECT * FROM amendments ORDER BY told, rowid", self._db)

    def results(self, fidelity: str = "main") -> pd.DataFrame:
        return pd.read_sql_query(
            "SELECT formula, value, iteration, told FROM results WHERE fidelity = ? "
            "ORDER BY told, rowid",
            self._db,
            params=(fidelity,),
        )

    def add_model(self, iteration: int, n_train: int, fit_seconds: float, info: dict) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO models VALUES (?,?,?,?)",
                (iteration, n_train, fit_seconds, json.dumps(info)),
            )

    def models(self) -> pd.DataFrame:
        return pd.read_sql_query("SELECT * FROM models ORDER BY iteration", self._db)
