"""A saved model is a folder: ``config.json`` (class, format version, settings) beside its
``*.safetensors`` weights. Shared by every model family; nothing is ever unpickled."""

from __future__ import annotations

from pathlib import Path

from matlattice.errors import MatlatticeError
from matlattice.runtime.files import read_json

__all__ = ["read_model_config"]


def read_model_config(folder: Path, class_name: str, format_version: int) -> dict:
    """Read ``folder/config.json`` and check that it holds ``class_name`` at ``format_version``.

    Raises :class:`MatlatticeError` naming the folder when the file is missing, holds another
    class, or was written by another format version.
    """
    folder = Path(folder)
    path = folder / "config.json"
    if not path.is_file():
        raise MatlatticeError(f"no saved model in {folder} (missing config.json)")
    config = read_json(path)
    if config.get("class") != class_name:
        raise MatlatticeError(f"{folder} holds a {config.get('class')!r}, not a {class_name}")
    if config.get("format_version") != format_version:
        raise MatlatticeError(
            f"{folder} has format version {config.get('format_version')}; this matlattice "
            f"reads version {format_version}"
        )
    return config
