"""Fetch pinned PyPI wheels that carry real materials data, verify them, cache their data.

Data travel inside ordinary PyPI wheels (CrabNet's benchmark sets, Matbench's official folds,
matminer's transport database). They are downloaded with the ordinary pip client, checked
against a pinned sha256, and only their data files are extracted into
``$MATLATTICE_CACHE/sources/<name>-<version>/`` (default cache ``~/.cache/matlattice``).
Extraction goes to a temporary folder that is renamed into place at the end, so a failed,
tampered or interrupted fetch leaves the cache exactly as it was.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from matlattice.data.integrity import FILES, record_files
from matlattice.errors import ChecksumError, DataNotAvailableError, UnknownDatasetError
from matlattice.runtime.files import file_sha256

__all__ = [
    "SOURCES",
    "WheelSource",
    "cache_root",
    "fetch_source",
    "is_cached",
    "require_source",
    "source_dir",
    "verify_sha256",
]

log = logging.getLogger(__name__)

_COMPLETE = ".complete.json"


@dataclass(frozen=True)
class WheelSource:
    """A pinned wheel on PyPI and the data files matlattice takes from it.

    Attributes
    ----------
    name : str
        Short name of the source (``"crabnet"``).
    requirement : str
        Exact pip requirement (``"crabnet==2.0.8"``).
    sha256 : str
        Pinned sha256 of the wheel file.
    members : tuple of str
        Path prefixes inside the wheel to extract.
    strip : str
        Prefix removed from member paths in the cache.
    pip_args : tuple of str
        Extra ``pip download`` arguments (e.g. a Python version the wheel declares).
    """

    name: str
    requirement: str
    sha256: str
    members: tuple[str, ...]
    strip: str
    pip_args: tuple[str, ...] = ()

    @property
    def version(self) -> str:
        return self.requirement.split("==", 1)[1]

    @property
    def folder_name(self) -> str:
        return f"{self.name}-{self.version}"


SOURCES: dict[str, WheelSource] = {
    s.name: s
    for s in (
        WheelSource(
            name="crabnet",
            requirement="crabnet==2.0.8",
            sha256="4901565abaa5b4cd1a7841b9de647a3906df21676b226a7abf972d113f92054a",
            members=(
                "crabnet/data/benchmark_data/",
                "crabnet/data/matbench/",
                "crabnet/data/element_properties/",
            ),
            strip="crabnet/data/",
            # the wheel declares Python < 3.11: download it for 3.10, never install it
            pip_args=("--only-binary=:all:", "--python-version", "3.10"),
        ),
        WheelSource(
            name="matbench",
            requirement="matbench==0.6",
            sha256="90b131032c3c2afe37c57b8891efefca05efe2d14296ae1f22445f7ddfb14c01",
            members=(
                "matbench/matbench_v0.1_validation.json",
                "matbench/matbench_v0.1_dataset_metadata.json",
            ),
            strip="matbench/",
            pip_args=("--only-binary=:all:",),
        ),
        WheelSource(
            name="matminer",
            requirement="matminer==0.10.1",
            sha256="eb66571c2a961b996855fa2a4cc90a67bdc7a12fa24e254e02681910c3f2e31f",
            members=("matminer/utils/data_files/mp_transport/",),
            strip="matminer/utils/data_files/",
            pip_args=("--only-binary=:all:",),
        ),
    )
}


def cache_root() -> Path:
    """The cache folder: ``$MATLATTICE_CACHE`` or ``~/.cache/matlattice`` (read at call time)."""
    env = os.environ.get("MATLATTICE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "matlattice"


def _get_source(name: str | WheelSource) -> WheelSource:
    if isinstance(name, WheelSource):
        return name
    try:
        return SOURCES[name]
    except KeyError:
        raise UnknownDatasetError(
            f"unknown data source {name!r}; known sources: {', '.join(sorted(SOURCES))}"
        ) from None


def source_dir(name: str | WheelSource, cache_dir: Path | None = None) -> Path:
    """Where the data of source ``name`` live in the cache (whether or not fetched yet)."""
    source = _get_source(name)
    return Path(cache_dir or cache_root()) / "sources" / source.folder_name


def is_cached(name: str | WheelSource, cache_dir: Path | None = None) -> bool:
    """Whether source ``name`` has been fetched and verified into the cache, with the record
    of its files (a cache fetched before files were recorded counts as not fetched)."""
    folder = source_dir(name, cache_dir)
    return (folder / _COMPLETE).is_file() and (folder / FILES).is_file()


def verify_sha256(path: Path, expected: str) -> str:
    """Return the sha256 of ``path``; raise :class:`ChecksumError` if it is not ``expected``."""
    got = file_sha256(path)
    if got != expected:
        raise ChecksumError(
            f"{Path(path).name} has sha256 {got}, but {expected} is pinned: the file is "
            "truncated, corrupt or tampered with. Nothing was written to the cache; delete the "
            "file and fetch again."
        )
    return got


def fetch_source(
    name: str | WheelSource,
    *,
    cache_dir: Path | None = None,
    wheel: Path | None = None,
    force: bool = False,
) -> Path:
    """Download, verify and extract the data of one pinned wheel into the cache.

    Parameters
    ----------
    name : str or WheelSource
        A key of :data:`SOURCES` (``"crabnet"``, ``"matbench"``, ``"matminer"``).
    cache_dir : path, optional
        Cache folder; default :func:`cache_root`.
    wheel : path, optional
        A wheel file already on disk to use instead of downloading (it is still verified).
    force : bool, default False
        Fetch again even if the cache already holds the source.

    Returns
    -------
    Path
        The folder holding the extracted data.

    Raises
    ------
    ChecksumError
        The wheel's sha256 is not the pinned one; the cache is left unchanged.
    DataNotAvailableError
        pip could not download the wheel (e.g. offline).
    """
    source = _get_source(name)
    target = source_dir(source, cache_dir)
    if is_cached(source, cache_dir) and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=target.parent) as tmp:
        tmp_path = Path(tmp)
        wheel_path = Path(wheel) if wheel is not None else _pip_download(source, tmp_path)
        digest = verify_sha256(wheel_path, source.sha256)
        staging = tmp_path / "staging"
        _extract(source, wheel_path, staging)
        record_files(staging)
        (staging / _COMPLETE).write_text(
            json.dumps({"requirement": source.requirement, "sha256": digest}, indent=1)
        )
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    log.info("fetched %s into %s", source.requirement, target)
    return target


def require_source(name: str, cache_dir: Path | None = None, *, download: bool = True) -> Path:
    """The cached folder of source ``name``, fetching it first if allowed and needed."""
    if is_cached(name, cache_dir):
        return source_dir(name, cache_dir)
    if not download:
        raise DataNotAvailableError(
            f"data source {name!r} is not in the cache {source_dir(name, cache_dir)}; "
            f"run `matlattice data fetch {name}` (needs access to PyPI)"
        )
    return fetch_source(name, cache_dir=cache_dir)


def _pip_download(source: WheelSource, dest: Path) -> Path:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        source.requirement,
        "--no-deps",
        "--disable-pip-version-check",
        "-d",
        str(dest),
        *source.pip_args,
    ]
    log.info("running %s", " ".join(cmd))
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheels = sorted(dest.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise DataNotAvailableError(
            f"could not download {source.requirement} with pip (exit {result.returncode}):\n"
            f"{tail}\nConnect to PyPI and run `matlattice data fetch {source.name}`, or download "
            f"the wheel elsewhere and run `matlattice data fetch {source.name} --wheel FILE`."
        )
    return wheels[0]


def _extract(source: WheelSource, wheel_path: Path, dest: Path) -> None:
    dest.mkdir(parents=True)
    try:
        archive = zipfile.ZipFile(wheel_path)
    except zipfile.BadZipFile as exc:
        raise ChecksumError(f"{wheel_path} is not a valid wheel (zip) file") from exc
    with archive:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.startswith(source.members):
                continue
            relative = Path(info.filename[len(source.strip) :])
            if relative.is_absolute() or ".." in relative.parts:
                raise ChecksumError(f"unsafe path {info.filename!r} inside {wheel_path}")
            out = dest / relative
            out.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
            if out.name.endswith(".tar.xz"):
                with tarfile.open(out) as tar:
                    tar.extractall(out.parent, filter="data")
