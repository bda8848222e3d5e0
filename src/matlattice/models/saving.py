"""A saved model is a folder: ``config.json`` (class, format version, settings, and the sha256
of each weight file) beside its ``*.safetensors`` weights. Shared by every model family;
nothing is ever unpickled, and a weight file whose bytes changed since it was saved is refused."""

from __future__ import annotations

from pathlib import Path

from matlattice.errors import ChecksumError, MatlatticeError
from matlattice.runtime.files import file_sha256, read_json

__all__ = ["read_model_config", "verified_weights"]


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


def verified_weights(folder: Path, config: dict, name: str) -> Path:
    """The path of weight file ``name`` in ``folder`` once its sha256 matches the one its
    ``config.json`` recorded at saving; a missing, changed or unrecorded file is refused."""
    path = Path(folder) / name
    recorded = (config.get("weights_sha256") or {}).get(name)
    if recorded is None:
        raise ChecksumError(
            f"{folder}/config.json records no sha256 for {name} (saved by an older "
            "matlattice?); refit the model so that its weights can be verified"
        )
    if not path.is_file():
        raise MatlatticeError(f"{path} is missing; the saved model is incomplete, refit it")
    actual = file_sha256(path)
    if actual != recorded:
        raise ChecksumError(
            f"{path} has changed since it was saved (sha256 {actual[:12]}..., recorded "
            f"{recorded[:12]}...); the weights are damaged: refit the model or restore the file"
        )
    return path
