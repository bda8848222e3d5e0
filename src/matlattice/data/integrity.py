"""Integrity of the data cache after the fetch.

A fetch records the size and sha256 of every file it extracted in ``.files.json`` inside the
source's folder. Readers open cached files only through :func:`checked_file`: the first time a
process reads a file it is hashed; later reads in the process compare its size and
modification time with what was hashed. A truncated, edited or deleted file is refused with the
command that repairs it, never read. :func:`damaged_files` re-hashes a whole folder (``data
fetch`` and ``data verify``).
"""

from __future__ import annotations

import os
from pathlib import Path

from matlattice.errors import ChecksumError, DataNotAvailableError
from matlattice.runtime.files import atomic_write_json, file_sha256, read_json

__all__ = ["FILES", "checked_file", "damaged_files", "record_files"]

FILES = ".files.json"
_IGNORED = (FILES, ".complete.json")
#: (size, mtime_ns) of each file this process has hashed and found as recorded
_verified: dict[Path, tuple[int, int]] = {}


def _files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).as_posix() not in _IGNORED
    )


def record_files(folder: Path) -> dict:
    """Write ``folder/.files.json``: size and sha256 of every file under ``folder``."""
    folder = Path(folder)
    record = {
        p.relative_to(folder).as_posix(): {"size": p.stat().st_size, "sha256": file_sha256(p)}
        for p in _files(folder)
    }
    atomic_write_json(folder / FILES, record)
    return record


def _record(folder: Path) -> dict:
    path = folder / FILES
    if not path.is_file():
        raise DataNotAvailableError(
            f"{folder} has no {FILES} (fetched by an older matlattice); fetch it again with "
            f"`matlattice data fetch --force`"
        )
    return read_json(path)


def damaged_files(folder: Path) -> list[str]:
    """Every file of ``folder`` that is missing, changed or not recorded, with the fault
    (``"benchmark_data/x/train.csv: size 120 bytes, recorded 240"``); ``[]`` when all hold."""
    folder = Path(folder)
    record = _record(folder)
    found = []
    for relative, expected in record.items():
        path = folder / relative
        if not path.is_file():
            found.append(f"{relative}: missing")
        elif (size := path.stat().st_size) != expected["size"]:
            found.append(f"{relative}: size {size} bytes, recorded {expected['size']}")
        elif file_sha256(path) != expected["sha256"]:
            found.append(f"{relative}: sha256 differs from the recorded one (edited)")
        else:
            _remember(path)
    found += [
        f"{p.relative_to(folder).as_posix()}: not recorded at fetch (added since)"
        for p in _files(folder)
        if p.relative_to(folder).as_posix() not in record
    ]
    return found


def _remember(path: Path) -> None:
    stat = path.stat()
    _verified[path] = (stat.st_size, stat.st_mtime_ns)


def checked_file(folder: Path, relative: str, source: str) -> Path:
    """``folder/relative`` once it is known to hold the bytes recorded at fetch time (hashed
    on first use in this process, size and mtime after); refuses a changed or missing file,
    naming it and the ``data fetch`` command that repairs source ``source``."""
    path = Path(folder) / relative
    repair = f"repair it with `matlattice data fetch {source} --force`"
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise ChecksumError(f"{path} is missing from the data cache; {repair}") from None
    if _verified.get(path) == (stat.st_size, stat.st_mtime_ns):
        return path
    expected = _record(Path(folder)).get(Path(relative).as_posix())
    if expected is None:
        raise ChecksumError(f"{path} was not recorded when {source} was fetched; {repair}")
    if stat.st_size != expected["size"]:
        raise ChecksumError(
            f"{path} has {stat.st_size} bytes but {expected['size']} were fetched (truncated "
            f"or edited); {repair}"
        )
    if file_sha256(path) != expected["sha256"]:
        raise ChecksumError(
            f"{path} differs from the file that was fetched (sha256 changed); {repair}"
        )
    _remember(path)
    return path
