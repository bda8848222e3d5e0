#!/usr/bin/env bash
# (Re)create the matminer peer venv used by bench/featurize.py, idempotently.
#
#   bash bench/peers/setup_matminer.sh            # create, or repair if incomplete/outdated
#   bash bench/peers/setup_matminer.sh --force    # delete and rebuild from scratch
#
# The venv lives at bench/.peers/matminer (git-ignored). It is rebuilt only when it is missing,
# broken, or was built from a different requirements-matminer.txt (a stamp file records the
# sha256 of the requirements it was built from). Needs python >= 3.11 (matminer 0.10.1) and
# access to PyPI. Set PYTHON=/path/to/python3.x to choose the interpreter.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$repo/bench/.peers/matminer"
reqs="$here/requirements-matminer.txt"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

force=0
for arg in "$@"; do
    case "$arg" in
        --force) force=1 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: $python is $("$python" --version 2>&1); matminer 0.10.1 needs python >= 3.11" >&2
    echo "       set PYTHON=/path/to/python3.11+ and rerun" >&2
    exit 1
fi

want="$(sha256sum "$reqs" | cut -d' ' -f1)"

healthy() {
    [[ -x "$venv/bin/python" ]] || return 1
    [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] || return 1
    "$venv/bin/python" - <<'PY' >/dev/null 2>&1 || return 1
import matminer.featurizers.composition  # noqa: F401
from importlib.metadata import version
assert version("matminer") == "0.10.1", version("matminer")
PY
}

if [[ "$force" == 0 ]] && healthy; then
    echo "matminer peer venv is up to date: $venv"
    exit 0
fi

if [[ "$force" == 1 || ! -x "$venv/bin/python" ]]; then
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
fi

rm -f "$stamp"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r "$reqs"
"$venv/bin/python" -m pip check
"$venv/bin/python" -c 'import matminer.featurizers.composition, pymatgen.core; print("ok")' >/dev/null
echo "$want" > "$stamp"
echo "matminer peer venv ready: $venv"
"$venv/bin/python" -c 'import sys; from importlib.metadata import version as v
print("python", sys.version.split()[0], "| matminer", v("matminer"), "| pymatgen", v("pymatgen"))'
