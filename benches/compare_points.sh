#!/usr/bin/env bash
# Benchmark: list 10,000 AWS Backup recovery points with `dr-drill points`
# and with the AWS CLI v1 (`aws backup list-recovery-points-by-backup-vault`,
# which follows every NextToken by itself), both against the same moto server
# (tests/support/moto_server.py), and print the medians and their ratio.
#
#   cargo build --release && benches/compare_points.sh
#
# Env: DR_DRILL (default target/release/dr-drill; nothing is built here),
# RUNS (default 10), COUNT (default 10000).
# Needs scripts/moto-env (run here) and optionally hyperfine
# (Debian: apt-get install hyperfine); without it a date +%s%N loop times it.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-10}
COUNT=${COUNT:-10000}
VAULT=bench-vault
REGION=us-east-1

scripts/moto-env
source benches/moto-lib.sh
need_dr_drill
start_moto

"$AWS" backup create-backup-vault --backup-vault-name "$VAULT" \
    --region "$REGION" --endpoint-url "$MOTO_URL" > /dev/null
"$PY" - "$MOTO_URL" "$VAULT" "$REGION" "$COUNT" <<'PYEOF'
import json, sys, urllib.request
url, vault, region, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
body = json.dumps({
    "region": region, "vault": vault, "count": count,
    "resource_arn": f"arn:aws:dynamodb:{region}:123456789012:table/bench",
    "resource_type": "DynamoDB", "interval_seconds": 3600,
    "lifecycle": {"DeleteAfterDays": 3650},
}).encode()
req = urllib.request.Request(url + "/_dr_drill/seed-recovery-points", data=body, method="POST",
                             headers={"Content-Type": "application/json"})
out = json.load(urllib.request.urlopen(req))
assert out["NumberOfRecoveryPoints"] == count, out
print(f"seeded {out['Created']} recovery points in {vault}", file=sys.stderr)
PYEOF

dr_cmd="$DR_DRILL points --vault $VAULT --region $REGION --endpoint-url $MOTO_URL --output json"
aws_cmd="$AWS backup list-recovery-points-by-backup-vault --backup-vault-name $VAULT --region $REGION --endpoint-url $MOTO_URL"

# Both must see every point before their times mean anything.
count_points() {
    "$PY" -c '
import json, sys
text = sys.stdin.read()
try:
    doc = json.loads(text)
except ValueError:  # JSON Lines: one point per line
    print(sum(1 for line in text.splitlines() if line.strip()))
    sys.exit()
if isinstance(doc, dict):
    lists = [v for k, v in doc.items() if isinstance(v, list)]
    doc = lists[0] if len(lists) == 1 else doc.get("RecoveryPoints", doc.get("points", []))
print(len(doc))'
}
dr_count=$($dr_cmd | count_points)
aws_count=$($aws_cmd | count_points)
echo "dr-drill lists $dr_count points, aws-cli lists $aws_count" >&2
if [ "$dr_count" != "$COUNT" ] || [ "$aws_count" != "$COUNT" ]; then
    echo "expected $COUNT points from both" >&2
    exit 1
fi

time_pair "$RUNS" dr-drill "$dr_cmd > /dev/null" aws-cli "$aws_cmd > /dev/null"
