#!/usr/bin/env bash
# Run benchmark jobs one after another (2 cores: never two torch jobs at once; thread
# oversubscription slows both many times over).
#
#   bash bench/run_queue.sh [--after PID] [--dry-run] QUEUE_FILE... [--job 'LOG COMMAND'...]
#
# A queue file (bench/queues/*.txt) holds one job per line; blank lines and lines starting
# with '#' are skipped. A job is
#
#   LOG [VAR=value ...] SCRIPT [ARGS ...]
#
# LOG: the file under bench/logs/ that gets the job's stdout and stderr ('-': this script's
# own output); the first job of a run that names a log starts it afresh, later ones append.
# VAR=value: environment of that job only (OMP_NUM_THREADS=1 ...). SCRIPT: a bench/*.py script
# (run with .venv/bin/python) or any other command, from the repository root. Words are split
# on spaces; there is no quoting.
#
# --after PID: wait until process PID has ended before the first job.
# --dry-run: check that every job's script exists and print the commands; run nothing.
# Every job runs even when an earlier one fails; the exit status counts the failures.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

jobs=()
after=""
dry=0
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --after) after="${2:?--after needs a PID}"; shift 2 ;;
        --dry-run) dry=1; shift ;;
        --job) jobs+=("${2:?--job needs 'LOG COMMAND'}"); shift 2 ;;
        -*) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
        *)
            if [ ! -f "$1" ]; then echo "no queue file $1" >&2; exit 2; fi
            while IFS= read -r line || [ -n "$line" ]; do
                case "$line" in ''|'#'*) continue ;; esac
                jobs+=("$line")
            done < "$1"
            shift ;;
    esac
done
if [ ${#jobs[@]} -eq 0 ]; then usage >&2; exit 2; fi

# parse every job before running any: a typo fails now, not hours into the queue
failed=0
declare -a logs commands envs
for i in "${!jobs[@]}"; do
    read -ra words <<< "${jobs[$i]}"
    log="${words[0]}"
    vars=()
    k=1
    while [ $k -lt ${#words[@]} ] && [[ "${words[$k]}" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; do
        vars+=("${words[$k]}")
        k=$((k + 1))
    done
    argv=("${words[@]:$k}")
    if [ ${#argv[@]} -eq 0 ]; then
        echo "job $((i + 1)) has no command: ${jobs[$i]}" >&2; exit 2
    fi
    case "${argv[0]}" in
        *.py)
            if [ ! -f "${argv[0]}" ]; then echo "no script ${argv[0]}" >&2; exit 2; fi
            argv=("$PY" "${argv[@]}") ;;
        *)
            if ! command -v "${argv[0]}" >/dev/null; then
                echo "no command ${argv[0]}" >&2; exit 2
            fi ;;
    esac
    logs[$i]="$log"
    envs[$i]="${vars[*]}"
    commands[$i]="${argv[*]}"
done

declare -A started
if [ "$dry" = 1 ]; then
    for i in "${!jobs[@]}"; do
        log="${logs[$i]}"
        line="${envs[$i]:+${envs[$i]} }${commands[$i]}"
        if [ "$log" != "-" ]; then
            if [ -n "${started[$log]:-}" ]; then op=">>"; else op=">"; started[$log]=1; fi
            line+=" $op bench/logs/$log"
        fi
        echo "$line"
    done
    exit 0
fi

if [ -n "$after" ]; then
    while kill -0 "$after" 2>/dev/null; do sleep 20; done
fi

mkdir -p bench/logs
for i in "${!jobs[@]}"; do
    log="${logs[$i]}"
    read -ra vars <<< "${envs[$i]}"
    read -ra argv <<< "${commands[$i]}"
    echo "[$(date -u +%FT%TZ)] ${envs[$i]:+${envs[$i]} }${commands[$i]}"
    if [ "$log" = "-" ]; then
        env "${vars[@]}" "${argv[@]}"
    else
        if [ -z "${started[$log]:-}" ]; then : > "bench/logs/$log"; started[$log]=1; fi
        env "${vars[@]}" "${argv[@]}" >> "bench/logs/$log" 2>&1
    fi
    status=$?
    if [ $status -ne 0 ]; then
        echo "  failed ($status)" >&2
        failed=$((failed + 1))
    fi
done
exit $failed
