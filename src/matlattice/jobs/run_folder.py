"""A run folder owns its contents.

A fit writes into a fresh folder, continues its own unfinished work (``resume``) or replaces
an old run (``overwrite``) by building the new one beside it and swapping it in only once it is
complete, so the old run stays usable until then. A folder that already holds files is
refused otherwise.

``checkpoints/fingerprint.json`` records what the run is of: a content hash of the data (the
formulas and every label), of the split, and the settings that shape training. ``resume``
compares it with the run being asked for and names what differs, so a checkpoint is never
reused for other data, another split or other settings.

``manifest.json``, written last, lists the model folders the run saved and the sha256 of their
weights: :func:`run_model_folders` (and so ``predict``) reads exactly those, and a folder
without a manifest is an unfinished or foreign run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import pandas as pd

from matlattice.errors import CheckpointMismatchError, MatlatticeError
from matlattice.runtime.files import atomic_write_json, read_json

__all__ = [
    "RUN_SETTINGS_IGNORED",
    "check_fingerprint",
    "finish_run_folder",
    "frame_fingerprint",
    "open_run_folder",
    "run_model_folders",
    "write_manifest",
]

log = logging.getLogger(__name__)

#: Settings that do not change what a run computes, so a resume may change them;
#: ``data`` names where the data came from; its content is hashed on its own.
RUN_SETTINGS_IGNORED = ("data", "resume", "overwrite", "device", "n_jobs", "executor")
MANIFEST = "manifest.json"
FINGERPRINT = Path("checkpoints") / "fingerprint.json"


def _digest(values: pd.Series | pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(values, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def frame_fingerprint(frame: pd.DataFrame, tasks: list[str], settings: dict) -> dict:
    """What a run is of: ``data`` (hash of formulas and labels, with the row count), ``split``
    (hash of the part or fold of every row) and ``settings`` (those that shape training)."""
    split_column = "_part" if "_part" in frame.columns else "fold"
    labels = frame[["formula", *tasks]].astype({"formula": str})
    return {
        "data": {"rows": len(frame), "sha256": _digest(labels)},
        "split": _digest(frame[split_column].astype(str)) if split_column in frame else None,
        "settings": json.loads(
            json.dumps({k: v for k, v in settings.items() if k not in RUN_SETTINGS_IGNORED})
        ),
    }


def _differences(saved: dict, current: dict) -> list[str]:
    found = []
    if saved.get("data") != current["data"]:
        rows = (saved.get("data") or {}).get("rows")
        found.append(f"the data ({rows} rows then, {current['data']['rows']} now, or labels)")
    if saved.get("split") != current["split"]:
        found.append("the split (other parts or folds)")
    old, new = saved.get("settings") or {}, current["settings"]
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            found.append(f"{key} ({old.get(key)!r} then, {new.get(key)!r} now)")
    return found


def check_fingerprint(work: Path, fingerprint: dict) -> None:
    """Record ``fingerprint`` in a run being started; for a run being resumed, refuse one whose
    recorded fingerprint differs, naming each difference."""
    path = Path(work) / FINGERPRINT
    if path.is_file():
        saved = read_json(path)
        differences = _differences(saved, fingerprint)
        if differences:
            raise CheckpointMismatchError(
                f"cannot resume {work}: its checkpoints are of another run; what differs: "
                + "; ".join(differences)
                + ". Resume with the original settings, or start afresh with --overwrite"
            )
        return
    atomic_write_json(path, fingerprint)


def _holds_files(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def _staging(out: Path) -> Path:
    return out.parent / f".{out.name}.partial"


def open_run_folder(out: Path, *, resume: bool, overwrite: bool) -> Path:
    """The folder to write the run into: ``out`` itself, or with ``overwrite`` a staging
    folder beside it (see :func:`finish_run_folder`).

    Refuses an ``out`` that is a file, and one that already holds files unless ``resume``
    (continue that run: :func:`check_fingerprint` then checks it is the same run) or
    ``overwrite`` is given.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise MatlatticeError(f"--out {out} is a file; give a folder for the run")
    work = _staging(out) if overwrite and _holds_files(out) else out
    if work.exists() and not resume:
        if work == out and _holds_files(out):
            raise MatlatticeError(
                f"{out} already holds files; pass --overwrite to replace that run, --resume "
                "to continue it, or choose another --out"
            )
        shutil.rmtree(work, ignore_errors=True)  # a stale staging folder of a killed overwrite
    if resume and _holds_files(work) and not (work / FINGERPRINT).is_file():
        raise CheckpointMismatchError(
            f"cannot resume {work}: it holds no {FINGERPRINT} (not a fit run, or one written "
            "by an older matlattice); start afresh with --overwrite"
        )
    if resume and not _holds_files(work):
        log.info("nothing to resume in %s; starting afresh", work)
    return work  # created by check_fingerprint, once the run's data and settings are known


def finish_run_folder(work: Path, out: Path) -> Path:
    """Swap a complete staging folder in for ``out`` (two renames; the old run is removed
    only after the new one is in place). A no-op when the run was written in place."""
    work, out = Path(work), Path(out)
    if work == out:
        return out
    retired = out.parent / f".{out.name}.retired"
    shutil.rmtree(retired, ignore_errors=True)
    out.rename(retired)
    work.rename(out)
    shutil.rmtree(retired, ignore_errors=True)
    return out


def write_manifest(run: Path, model_folders: list[str]) -> None:
    """Record the model folders of a complete run with their weight checksums."""
    models = {
        name: read_json(Path(run) / name / "config.json").get("weights_sha256", {})
        for name in model_folders
    }
    atomic_write_json(Path(run) / MANIFEST, {"models": models})


def run_model_folders(run: Path) -> list[Path]:
    """The model folders ``run``'s manifest lists; refuses a run without a manifest (unfinished
    or not written by ``matlattice fit``) and one whose listed folder is missing."""
    run = Path(run)
    path = run / MANIFEST
    if not path.is_file():
        hint = (
            "its fit did not finish (continue it with --resume)"
            if (run / FINGERPRINT).is_file()
            else "is it a run folder of `matlattice fit`, written by this version?"
        )
        raise MatlatticeError(f"{run} has no {MANIFEST}: {hint}")
    listed = read_json(path).get("models")
    if not isinstance(listed, dict) or not listed:
        raise MatlatticeError(f"{path} lists no models; refit the run")
    folders = [run / name for name in listed]
    missing = [str(f) for f in folders if not (f / "config.json").is_file()]
    if missing:
        raise MatlatticeError(f"{run}'s manifest lists models that are missing: {missing}")
    return folders
