# Shared by the benches/compare_*.sh scripts (sourced, not run): starts
# tests/support/moto_server.py for the life of the calling script and times
# commands. Expects the repo root as the working directory.

# Fake credentials: moto accepts anything; never let a real profile leak in.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL
export AWS_PAGER=""

PY=.venv/bin/python
AWS=.venv/bin/aws
BENCH_TMP=$(mktemp -d)
MOTO_PID=""

bench_cleanup() {
    if [ -n "$MOTO_PID" ]; then
        kill "$MOTO_PID" 2>/dev/null || true
        wait "$MOTO_PID" 2>/dev/null || true
    fi
    exec 9>&- 2>/dev/null || true
    rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# start_moto: sets MOTO_URL. The server reads its stdin from a FIFO that this
# shell holds open on fd 9, so it also exits if this script is killed hard.
start_moto() {
    mkfifo "$BENCH_TMP/moto.in"
    DR_DRILL_MOTO_JOB_SECONDS=${DR_DRILL_MOTO_JOB_SECONDS:-1} \
        "$PY" tests/support/moto_server.py --port 0 --watch-stdin \
        < "$BENCH_TMP/moto.in" > "$BENCH_TMP/moto.out" 2> "$BENCH_TMP/moto.err" &
    MOTO_PID=$!
    exec 9> "$BENCH_TMP/moto.in"
    local i
    for i in $(seq 300); do
        if grep -q '^READY ' "$BENCH_TMP/moto.out" 2>/dev/null; then
            MOTO_URL=$(sed -n 's/^READY //p' "$BENCH_TMP/moto.out")
            echo "moto server at $MOTO_URL" >&2
            return 0
        fi
        kill -0 "$MOTO_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "the moto server did not start:" >&2
    cat "$BENCH_TMP/moto.err" >&2
    return 1
}

# need_dr_drill: DR_DRILL must be an executable (the scripts build nothing).
need_dr_drill() {
    DR_DRILL=${DR_DRILL:-target/release/dr-drill}
    if [ ! -x "$DR_DRILL" ]; then
        echo "dr-drill binary not found at $DR_DRILL: build it (cargo build --release) or set DR_DRILL" >&2
        exit 2
    fi
    export DR_DRILL_DATA_DIR=$BENCH_TMP/data
    mkdir -p "$DR_DRILL_DATA_DIR"
}

# time_pair RUNS NAME_A CMD_A NAME_B CMD_B: times both shell commands RUNS
# times (hyperfine when installed, else a loop over `date +%s%N`), prints the
# medians and the ratio B/A, and sets MEDIAN_A and MEDIAN_B (seconds).
time_pair() {
    local runs=$1 name_a=$2 cmd_a=$3 name_b=$4 cmd_b=$5
    if command -v hyperfine >/dev/null 2>&1; then
        hyperfine --warmup 1 --runs "$runs" --export-json "$BENCH_TMP/hyperfine.json" \
            -n "$name_a" "$cmd_a" -n "$name_b" "$cmd_b" >&2
        read -r MEDIAN_A MEDIAN_B < <("$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(r[0]["median"], r[1]["median"])' "$BENCH_TMP/hyperfine.json")
    else
        echo "(hyperfine not installed: timing $runs runs of each with date +%s%N)" >&2
        MEDIAN_A=$(time_runs "$runs" "$cmd_a")
        MEDIAN_B=$(time_runs "$runs" "$cmd_b")
    fi
    "$PY" - "$name_a" "$MEDIAN_A" "$name_b" "$MEDIAN_B" <<'PYEOF'
import sys
na, a, nb, b = sys.argv[1], float(sys.argv[2]), sys.argv[3], float(sys.argv[4])
w = max(len(na), len(nb))
print(f"{na:<{w}}  median {a:8.3f} s")
print(f"{nb:<{w}}  median {b:8.3f} s")
print(f"ratio {nb} / {na} = {b / a:.2f}x" + (f"  ({na} is {b / a:.2f}x faster)" if b > a else f"  ({nb} is {a / b:.2f}x faster)"))
PYEOF
}

# time_runs RUNS CMD: prints the median wall time of CMD in seconds.
time_runs() {
    local runs=$1 cmd=$2 i t0 t1
    local times=()
    for i in $(seq "$runs"); do
        t0=$(date +%s%N)
        bash -c "$cmd" || { echo "command failed: $cmd" >&2; return 1; }
        t1=$(date +%s%N)
        times+=("$(( t1 - t0 ))")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.6f\n", m / 1e9 }'
}
