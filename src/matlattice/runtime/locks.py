"""One writer at a time: an advisory lock on a hidden ``.<name>.lock`` file beside what is
written (hidden, so that a glob over the folder's stores never picks it up).

The lock is ``flock``-based, so the system releases it when its process ends, however it
ends (a ``kill -9`` leaves no stale lock). The file holds the holder's PID, which a refused
second writer is told.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO

from matlattice.errors import MatlatticeError

__all__ = ["hold_lock"]


def hold_lock(path: Path, what: str) -> IO:
    """Take the exclusive lock of ``path`` (a ``.<name>.lock`` file beside it) and return the
    open lock file; closing it releases the lock. Refuses, naming ``what`` and the PID of
    the holder, when another process holds it."""
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path.with_name(f".{path.name}.lock"), "a+")  # noqa: SIM115 - held open
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise MatlatticeError(
            f"{what} {path} is in use by PID {holder}; wait for it to finish (or stop it) "
            "before writing to it"
        ) from None
    with contextlib.suppress(OSError):
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
    return handle
