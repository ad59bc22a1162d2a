#!/usr/bin/env bash
# Benchmark: what sharing a run costs its driver. The same headless run
# (STEPS shell steps, each a few evidence events) in the sandbox, without
# and with `--team` on a table in moto's DynamoDB (tests/support/moto_server.py):
# wall time of each, the journal's evidence lines, and the added latency
# per evidence event (the difference over the evidence lines: each waits
# for its TransactWriteItems before the engine goes on).
#
#   DR_DRILL=target/debug/dr-drill benches/team_run_moto.sh
#   STEPS=100 RUNS=5 benches/team_run_moto.sh
#
# Env: STEPS (default 40), RUNS (default 3; the median is printed), DR_DRILL
# (default target/release/dr-drill). moto is a Python server on loopback:
# the figures bound what dr-drill adds, not what DynamoDB takes.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-40}
RUNS=${RUNS:-3}
source benches/moto-lib.sh
need_dr_drill
scripts/moto-env >/dev/null
start_moto
export AWS_ENDPOINT_URL=$MOTO_URL
TABLE=bench-team
"$DR_DRILL" team init "$TABLE" >/dev/null

RUNBOOK=$BENCH_TMP/team-bench.toml
{
    printf '[runbook]\nid = "team-bench"\ntitle = "Team bench"\n'
    prev=""
    for i in $(seq "$STEPS"); do
        printf '\n[[step]]\nid = "s%d"\nkind = "shell"\nrun = "echo step %d"\n' "$i" "$i"
        if [ -n "$prev" ]; then printf 'needs = ["%s"]\n' "$prev"; fi
        prev="s$i"
    done
} > "$RUNBOOK"

# one_run LABEL ARGS...: prints the wall seconds of one headless run.
one_run() {
    local start end
    start=$(date +%s.%N)
    "$DR_DRILL" run "$RUNBOOK" --headless --sandbox --no-preflight "$@" >/dev/null 2>"$BENCH_TMP/err" \
        || { cat "$BENCH_TMP/err" >&2; exit 1; }
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

solo=$(for _ in $(seq "$RUNS"); do one_run; done | median)
team=$(for _ in $(seq "$RUNS"); do one_run --team "$TABLE"; done | median)
journal=$(ls -t "$DR_DRILL_DATA_DIR"/runs/*/journal.jsonl | head -1)
lines=$(($(wc -l < "$journal") - 1))
evidence=$(grep -vcE '"event":"(step_output|step_progress|step_queued)"' "$journal" || true)
evidence=$((evidence - 1))
added=$(echo "($team - $solo) * 1000 / $evidence" | bc -l)
printf 'team run through moto: %d steps, %d journal lines (%d evidence)\n' "$STEPS" "$lines" "$evidence"
printf '  solo  %.2f s (median of %d)\n' "$solo" "$RUNS"
printf '  team  %.2f s (median of %d)\n' "$team" "$RUNS"
printf '  added per evidence event: %.1f ms\n' "$added"
