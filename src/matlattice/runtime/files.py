"""Atomic writes: write to a temporary file beside the target, then rename over it.

A reader never sees a half-written file, and a crash leaves the old file (or none).
``read_json`` reads one back and refuses, by path, a file that is missing or not JSON;
``file_sha256`` is the checksum every integrity check compares.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from matlattice.errors import MatlatticeError

__all__ = [
    "atomic_write",
    "atomic_write_json",
    "atomic_write_table",
    "atomic_write_text",
    "file_sha256",
    "file_stem",
    "read_json",
]


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` and rename the result to ``path`` (parents are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with contextlib.suppress(OSError):  # mkstemp makes 0600; give the usual mode
            os.chmod(tmp, 0o666 & ~_umask())
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@functools.cache
def _umask() -> int:
    """The process umask (read once: setting it is the only way to read it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> Path:
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def json_safe(obj: object) -> object:
    """NaN and infinities become ``null`` (strict JSON); NumPy scalars become Python ones."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def atomic_write_json(path: Path, obj: object) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def atomic_write_table(path: Path, frame: pd.DataFrame) -> Path:
    """Write a DataFrame as parquet (``.parquet``/``.pq``) or CSV (``.csv``); any other suffix
    is refused rather than written as CSV under a misleading name."""
    suffix = Path(path).suffix.lower()
    if suffix in (".parquet", ".pq"):
        return atomic_write(path, lambda p: frame.to_parquet(p, index=False))
    if suffix != ".csv":
        raise MatlatticeError(
            f"cannot write a table to {path}: unknown suffix {suffix!r}; use .csv or .parquet"
        )
    return atomic_write(path, lambda p: frame.to_csv(p, index=False))


def read_json(path: Path) -> object:
    """The JSON value in ``path``; a :class:`MatlatticeError` naming the file when it is
    missing, unreadable or not valid JSON."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MatlatticeError(f"{path} does not exist") from None
    except OSError as exc:  # a folder, no permission, ...
        raise MatlatticeError(f"{path} cannot be read: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MatlatticeError(
            f"{path} is not valid JSON ({exc}); restore it or write the folder again"
        ) from exc


def file_sha256(path: Path) -> str:
    """Hex sha256 of the file at ``path``, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_stem(name: str) -> str:
    """``name`` (a formula, a label) reduced to characters safe in a file name on every
    system: letters, digits, ``.``, ``_`` and ``-``."""
    return "".join(c for c in name if c.isalnum() or c in "._-")
