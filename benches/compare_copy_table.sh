#!/usr/bin/env bash
# Benchmark: copy a 50,000-item DynamoDB table (~200 bytes an item) with
# dr-drill's `dynamodb.copy-table` step (benches/copy-table.toml, run
# headless) and with a plain single-threaded boto3 scan -> batch_write_item
# (benches/copy_table_boto3.py), both against the same moto server, check
# that both targets hold every item, and print the medians and their ratio.
#
#   cargo build --release && benches/compare_copy_table.sh
#
# Env: DR_DRILL (default target/release/dr-drill; nothing is built here),
# RUNS (default 3), ITEMS (default 50000).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
ITEMS=${ITEMS:-50000}
REGION=us-east-1

scripts/moto-env
source benches/moto-lib.sh
need_dr_drill
start_moto

copy_py="$PY benches/copy_table_boto3.py --endpoint-url $MOTO_URL --region $REGION"
$copy_py create bench-src bench-dst-1 bench-dst-2
$copy_py seed bench-src --items "$ITEMS" --item-bytes 200

dr_cmd="$DR_DRILL run benches/copy-table.toml --headless --param from=bench-src --param to=bench-dst-1 --confirm copy=bench-dst-1 --endpoint-url $MOTO_URL --region $REGION"
py_cmd="$copy_py copy bench-src bench-dst-2"

time_pair "$RUNS" dr-drill "$dr_cmd > /dev/null" boto3 "$py_cmd > /dev/null"

src=$($copy_py count bench-src)
dst1=$($copy_py count bench-dst-1)
dst2=$($copy_py count bench-dst-2)
echo "items: bench-src $src, bench-dst-1 (dr-drill) $dst1, bench-dst-2 (boto3) $dst2" >&2
if [ "$src" != "$ITEMS" ] || [ "$dst1" != "$ITEMS" ] || [ "$dst2" != "$ITEMS" ]; then
    echo "expected $ITEMS items in every table" >&2
    exit 1
fi
