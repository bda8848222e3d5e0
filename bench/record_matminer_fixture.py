"""Record matminer's Magpie features for 200 formulas as a test fixture.

Run from the repository root with matlattice's venv (the matminer peer venv must exist,
``bash bench/peers/setup_matminer.sh``)::

    .venv/bin/python bench/record_matminer_fixture.py

Formulas are drawn exactly as in ``bench/featurize.py`` (same pool and filters) with seed 1.
Writes ``tests/fixtures/matminer_magpie_200.csv``: a ``formula`` column plus matminer's 132
``ElementProperty.from_preset("magpie")`` columns under matminer's own names, values as
written by pandas (shortest round-trip repr of each float64). Read it back with
``pandas.read_csv(path, keep_default_na=False)`` so that no formula becomes NaN.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
from pathlib import Path

from featurize import REPO, allowed_elements, draw, load_pool, matminer_table, run_peer

from matlattice.runtime.files import atomic_write

FIXTURE = REPO / "tests" / "fixtures" / "matminer_magpie_200.csv"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=FIXTURE)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="matminer-fixture-") as tmp:
        workdir = Path(tmp)
        table = matminer_table(workdir)
        allowed = allowed_elements(table)
        formulas = draw(load_pool(allowed), args.n, args.seed, allowed)
        source = workdir / "formulas.json"
        source.write_text(json.dumps(formulas))
        staged = workdir / "fixture.csv"
        run_peer(
            [
                "--formulas",
                str(source),
                "--features",
                str(staged),
                "--timing",
                str(workdir / "timing.json"),
            ]
        )
        versions = json.loads((workdir / "timing.json").read_text())["versions"]
        atomic_write(args.out, lambda path: shutil.copyfile(staged, path))
    print(
        f"wrote {args.out} ({args.out.stat().st_size:,} bytes, {len(formulas)} formulas) "
        f"on {dt.datetime.now(dt.UTC).date()} with "
        f"{', '.join(f'{k} {v}' for k, v in versions.items())}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
