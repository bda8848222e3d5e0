"""The campaigns a service holds: one ``<name>.sqlite`` store per campaign in one folder, the
same stores ``matlattice campaign`` reads and writes.

Each operation opens the campaign, does its work and closes it, so the CLI can use a store
between requests; inside the service a lock per campaign makes its threads take turns, and the
store's own file lock refuses a second process (a 409). A proposal's id is a digest of its
iteration, formula and fidelity: the same proposal has the same id after a restart.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from matlattice.errors import ConflictingResultError, MatlatticeError

__all__ = ["NAME_PATTERN", "CampaignHub", "ServiceError", "proposal_id"]

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ServiceError(Exception):
    """A refusal with its HTTP status: the message names the bad value."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def proposal_id(iteration: int, formula: str, fidelity: str) -> str:
    text = f"{int(iteration)}\0{formula}\0{fidelity}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def checked_name(name: str, what: str = "campaign") -> str:
    """``name`` when it is a safe file stem (letters, digits, ``._-``; no separator)."""
    if not NAME_PATTERN.fullmatch(name) or name.endswith(".sqlite"):
        raise ServiceError(
            422,
            f"{what} name {name!r}: use 1-64 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit (no path separators)",
        )
    return name


def _number(value: object) -> float | None:
    """JSON-safe: NaN and infinities become null."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class CampaignHub:
    """The campaigns in ``folder`` (created if missing)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def path(self, name: str) -> Path:
        return self.folder / f"{checked_name(name)}.sqlite"

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.sqlite"))

    def _lock(self, name: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(name, threading.Lock())

    @contextlib.contextmanager
    def campaign(self, name: str, *, read_only: bool = False) -> Iterator:
        """The open campaign ``name`` (404 if none; 409 while another process writes it)."""
        from matlattice.discovery import resume_campaign

        path = self.path(name)
        if not path.is_file():
            raise ServiceError(404, f"no campaign {name!r}; create it with POST /campaigns")
        with self._lock(name):
            try:
                opened = resume_campaign(path, read_only=read_only)
            except MatlatticeError as exc:
                raise ServiceError(409 if "in use by PID" in str(exc) else 422, str(exc)) from exc
            with opened as campaign:
                if campaign.settings.fidelities:
                    raise ServiceError(
                        422,
                        f"campaign {name!r} has two fidelities; the service "
                        "serves single-fidelity campaigns: use the CLI for it",
                    )
                yield campaign

    # --- create -------------------------------------------------------------------------
    def create(self, name: str, pool: list[str], settings: dict) -> dict:
        """Create ``name`` over ``pool`` (formulas) with ``settings`` (CampaignSettings
        fields). The same request again is answered as the first was (``created: false``);
        another pool or other settings under the name is a 409."""
        from matlattice.discovery import CampaignSettings, open_campaign

        path = self.path(name)
        try:
            wanted = CampaignSettings(**settings)
        except (MatlatticeError, TypeError) as exc:
            raise ServiceError(422, str(exc)) from exc
        frame = pd.DataFrame({"formula": list(dict.fromkeys(pool))})
        with self._lock(name):
            if path.is_file():
                return self._same_campaign(name, path, frame, wanted)
            try:
                with open_campaign(path, frame, wanted) as campaign:
                    size = len(campaign.pool)
            except MatlatticeError as exc:
                path.unlink(missing_ok=True)
                raise ServiceError(422, str(exc)) from exc
        return {"name": name, "created": True, "pool_size": size}

    def _same_campaign(self, name: str, path: Path, frame: pd.DataFrame, wanted) -> dict:
        from matlattice.discovery import resume_campaign

        try:
            opened = resume_campaign(path, read_only=True)
        except MatlatticeError as exc:
            raise ServiceError(
                409,
                f"{path.name} exists and is not a campaign this request "
                f"can reuse ({exc}); choose another name",
            ) from exc
        with opened as campaign:
            same = campaign.settings == wanted and set(campaign.pool["formula"]) == set(
                frame["formula"]
            )
            size = len(campaign.pool)
        if not same:
            raise ServiceError(
                409,
                f"campaign {name!r} exists with another pool or other "
                "settings; choose another name",
            )
        return {"name": name, "created": False, "pool_size": size}

    # --- ask ------------------------------------------------------------------------------
    def ask(self, name: str, n: int | None) -> dict:
        """The next proposals (an unanswered ask is proposed again), each with its id."""
        from matlattice.design import campaign_generator

        with self.campaign(name) as campaign:
            campaign.generator = campaign_generator(campaign.settings, campaign.pool["formula"])
            try:
                batch = campaign.ask(n)
            except MatlatticeError as exc:
                raise ServiceError(422, str(exc)) from exc
            ids = {place: key for key, place in self._proposals_by_id(campaign).items()}
        proposals = []
        for row in batch.to_dict("records"):
            fidelity = row.get("fidelity", "main")
            proposals.append(
                {
                    "id": ids[(row["formula"], fidelity)],
                    "formula": row["formula"],
                    "mean": _number(row.get("mean")),
                    "std": _number(row.get("std")),
                    "score": _number(row.get("score")),
                    "reason": row.get("reason"),
                    "fidelity": fidelity,
                }
            )
        return {"proposals": proposals}

    # --- tell -----------------------------------------------------------------------------
    def tell(self, name: str, results: list[dict], amend: bool = False) -> dict:
        """Record ``[{"id", "value"}]`` (``"values": {objective: number}`` for objectives;
        ``value: null`` for a proposal that could not be measured). A result told again with
        the same value is one result; another value for a told proposal is a 409 unless
        ``amend``. Unknown ids and one id twice with two values are refused (422) before
        anything is stored."""
        with self.campaign(name) as campaign:
            by_id = self._proposals_by_id(campaign)
            columns = list(campaign.settings.objectives or {}) or ["value"]
            frame = self._results_frame(results, by_id, columns)
            try:  # the engine stores a repeated value once and refuses a conflicting one
                stored = campaign.tell(frame.drop(columns="fidelity"), amend=amend)
            except ConflictingResultError as exc:
                raise ServiceError(409, f"{exc} (over HTTP: amend: true)") from exc
            except MatlatticeError as exc:
                raise ServiceError(422, str(exc)) from exc
            measured = int(frame[columns].notna().all(axis=1).sum())
            repeated = measured - stored  # measured values already told as they are now
            return {
                "stored": int(stored),
                "repeated": int(repeated),
                "n_results": len(campaign.results()),
                "spent": campaign.n_spent,
                "budget": campaign.settings.budget,
            }

    @staticmethod
    def _proposals_by_id(campaign) -> dict[str, tuple[str, str]]:
        """id -> (formula, fidelity) of every proposal (in iteration order, so the latest
        proposal of a formula comes last)."""
        stored = campaign.store.proposals()
        return {
            proposal_id(i, f, d): (f, d)
            for i, f, d in zip(
                stored["iteration"], stored["formula"], stored["fidelity"], strict=True
            )
        }

    @staticmethod
    def _results_frame(results: list[dict], by_id: dict, columns: list[str]) -> pd.DataFrame:
        unknown = [r["id"] for r in results if r["id"] not in by_id]
        if unknown:
            raise ServiceError(
                422, f"unknown proposal ids {unknown[:5]}; tell the ids an ask returned"
            )
        rows = []
        for r in results:
            values = r.get("values") or {"value": r.get("value")}
            if set(values) != set(columns):
                raise ServiceError(
                    422,
                    f"result {r['id']}: values for {sorted(values)}; this campaign takes {columns}",
                )
            formula, fidelity = by_id[r["id"]]
            rows.append({"formula": formula, "fidelity": fidelity, **values})
        frame = pd.DataFrame(rows, columns=["formula", "fidelity", *columns])
        frame[columns] = frame[columns].astype(float)
        twice = frame.drop_duplicates().duplicated(["formula", "fidelity"])
        if twice.any():
            raise ServiceError(
                422,
                "one proposal told twice with two values in one request: "
                f"{frame.drop_duplicates()[twice]['formula'].tolist()[:5]}",
            )
        return frame.drop_duplicates(["formula", "fidelity"]).reset_index(drop=True)

    # --- read -----------------------------------------------------------------------------
    def status(self, name: str) -> dict:
        """Counts (``n_results`` among them), best so far, model versions, settings."""
        with self.campaign(name, read_only=True) as campaign:
            results, best = campaign.results(), campaign.best()
            models = campaign.store.models()
            settings = campaign.settings
            return {
                "name": name,
                "target": settings.target,
                "goal": settings.goal,
                "pool_size": len(campaign.pool),
                "n_proposals": len(campaign.store.proposals()),
                "n_results": len(results),
                "n_pending": len(campaign.pending()),
                "n_unmeasurable": len(campaign.unmeasurable()),
                "spent": campaign.n_spent,
                "budget": settings.budget,
                "done": campaign.done,
                "best": [
                    {
                        k: _number(v) if k != "formula" else v
                        for k, v in row.items()
                        if k not in ("told", "iteration")
                    }
                    for row in best.to_dict("records")
                ],
                "models": [
                    {
                        "iteration": int(m.iteration),
                        "n_train": int(m.n_train),
                        "fit_seconds": _number(m.fit_seconds),
                    }
                    for m in models.itertuples()
                ],
            }

    def export(self, name: str) -> list[dict]:
        """Every proposal with its id and its result (null where none yet)."""
        with self.campaign(name, read_only=True) as campaign:
            frame = campaign.proposals()
        out = []
        for row in frame.to_dict("records"):
            record = {"id": proposal_id(row["iteration"], row["formula"], row["fidelity"])}
            for key, value in row.items():
                if isinstance(value, float) or key in ("mean", "std", "score", "value"):
                    value = _number(value)
                record[key] = value.item() if hasattr(value, "item") else value
            out.append(record)
        return out
