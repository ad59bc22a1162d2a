#!/usr/bin/env bash
# Benchmark: the team's shared log (team::DynamoStore) through moto's
# DynamoDB (tests/support/moto_server.py): LINES appends of a 300-byte
# event line, one after the other as the engine's recorder makes them,
# each a TransactWriteItems (the line put and the lease's token check).
# Prints lines/s and the latency per append (p50, p95, max), then the time
# to read the log back.
#
#   benches/team_log_moto.sh            # LINES=500
#   LINES=2000 PROFILE=release benches/team_log_moto.sh
#
# Env: LINES (default 500), PROFILE (dev, the default: the prebuilt test
# profile; or release). The figures are moto's (a Python server on
# loopback), not DynamoDB's: they bound what dr-drill itself adds.
# Needs scripts/moto-env (run here); the test starts its own moto server.
set -euo pipefail
cd "$(dirname "$0")/.."

LINES=${LINES:-500}
PROFILE=${PROFILE:-dev}

scripts/moto-env
profile_flag=()
if [ "$PROFILE" = release ]; then profile_flag=(--release); fi
TEAM_BENCH_LINES=$LINES cargo test --quiet "${profile_flag[@]}" --test it \
    team_store::team_log_throughput -- --ignored --nocapture --exact 2>&1 \
    | grep -E '^team log through moto' \
    || { echo "the benchmark did not print its figures (run the command above by hand to see why)" >&2; exit 1; }
