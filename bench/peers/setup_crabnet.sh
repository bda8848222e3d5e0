#!/usr/bin/env bash
# Unpack CrabNet's own implementation (the crabnet 2.0.8 wheel) as a peer for bench/crabnet_peer.py.
#
#   bash bench/peers/setup_crabnet.sh            # download and unpack once; verify the sha256
#   bash bench/peers/setup_crabnet.sh --force    # unpack again
#
# The wheel declares Python < 3.11, so it is downloaded and unpacked, never installed: the
# peer runs in a subprocess of the project's interpreter with PYTHONPATH=bench/.peers/crabnet
# (its imports, torch, pandas, scikit-learn, matplotlib, seaborn, are the project's). Lives at
# bench/.peers/crabnet (git-ignored). Needs access to PyPI the first time.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dest="$repo/bench/.peers/crabnet"
sha="4901565abaa5b4cd1a7841b9de647a3906df21676b226a7abf972d113f92054a"
python="${PYTHON:-$repo/.venv/bin/python}"

force=0
for arg in "$@"; do
    case "$arg" in
        --force) force=1 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

if [[ "$force" == 0 && -f "$dest/.sha256" && "$(cat "$dest/.sha256")" == "$sha" ]]; then
    echo "crabnet peer is unpacked: $dest"
    exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$python" -m pip download crabnet==2.0.8 --no-deps --only-binary=:all: --python-version 3.10 \
    -d "$tmp" --quiet
wheel="$(ls "$tmp"/crabnet-2.0.8-*.whl)"
got="$(sha256sum "$wheel" | cut -d' ' -f1)"
if [[ "$got" != "$sha" ]]; then
    echo "error: $wheel has sha256 $got, expected $sha" >&2
    exit 1
fi
rm -rf "$dest"
mkdir -p "$dest"
"$python" -m zipfile -e "$wheel" "$dest"
PYTHONPATH="$dest" "$python" -c 'import crabnet.crabnet_' 2>/dev/null
echo "$sha" > "$dest/.sha256"
echo "crabnet peer unpacked: $dest"
