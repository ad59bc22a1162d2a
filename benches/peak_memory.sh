#!/usr/bin/env bash
# Benchmark: peak memory (max RSS) of a headless sandbox run whose shell
# step prints 1 GB, once as 100-byte lines and once as one line with no
# newline, and of `dr-drill report` of each resulting journal. Target:
# under 100 MB each. Also prints each journal's size.
#
#   cargo build --release && benches/peak_memory.sh
#
# Env: DR_DRILL (default target/release/dr-drill; nothing is built here),
# BYTES (default 1000000000). Needs /usr/bin/time (GNU time).
set -euo pipefail
cd "$(dirname "$0")/.."

DR_DRILL=${DR_DRILL:-target/release/dr-drill}
BYTES=${BYTES:-1000000000}
[ -x "$DR_DRILL" ] || { echo "no $DR_DRILL: cargo build --release first, or set DR_DRILL" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Prints max RSS in MB of a command (its output goes to $work/out).
max_rss() {
    /usr/bin/time -f '%M' -o "$work/rss" "$@" > "$work/out" 2>&1 || {
        echo "failed: $*" >&2; tail -5 "$work/out" >&2; exit 1; }
    echo "$(( $(tail -1 "$work/rss") / 1024 )) MB"
}

bench() { # name, shell command
    local name=$1 run=$2 data="$work/data-$1"
    cat > "$work/$name.toml" <<TOML
[runbook]
id = "$name"
title = "Peak memory: $name"

[[step]]
id = "loud"
kind = "shell"
run = "$run"
TOML
    local run_rss report_rss journal size
    run_rss=$(DR_DRILL_DATA_DIR=$data max_rss "$DR_DRILL" run --headless --sandbox "$work/$name.toml")
    journal=$(ls "$data"/runs/*/journal.jsonl)
    size=$(( $(stat -c %s "$journal") / 1024 ))
    report_rss=$(DR_DRILL_DATA_DIR=$data max_rss "$DR_DRILL" report "$journal")
    printf '%-12s run: %8s   report: %8s   journal: %6s KiB\n' "$name" "$run_rss" "$report_rss" "$size"
    rm -rf "$data"
}

echo "$BYTES bytes of output per step, $DR_DRILL"
# 99 characters and a newline per line.
bench lines "yes 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' | head -c $BYTES"
bench no-newline "head -c $BYTES /dev/zero | tr '\\\\0' x"
