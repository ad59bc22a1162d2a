#!/usr/bin/env bash
# Benchmark: `dr-drill preflight` of a shipped runbook (cabal-addresses-restore)
# against moto (tests/support/moto_server.py), timed RUNS times (median and
# worst), and, for comparison, the AWS CLI v1 calls a person would make by
# hand for the same checks, on the same emulator. Target (issue 16): preflight
# under 2 s.
#
#   cargo build --release && benches/preflight_moto.sh
#
# Seeded for the runbook: an IAM user `drill` with an inline policy allowing
# the actions the plan calls (so the policy simulation runs) and its own keys;
# the restore role `cabal-backup-role`; the vaults `cabal-backup` (us-east-1)
# and `cabal-backup-dr` (us-west-2), each with nightly recovery points of the
# `cabal-addresses` table (/_dr_drill/seed-recovery-points); the table
# `cabal-addresses` in us-east-1. The restore target `cabal-addresses-restored`
# does not exist, as on a real drill.
#
# Env: DR_DRILL (default target/release/dr-drill; nothing is built here),
# RUNS (default 10), POINTS (recovery points per vault, default 30).
# Needs scripts/moto-env (run here); hyperfine is not used: the worst run is
# wanted too, so a date +%s%N loop times each.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-10}
POINTS=${POINTS:-30}
RUNBOOK=runbooks/cabal-addresses-restore.toml
ACCOUNT=123456789012

scripts/moto-env
source benches/moto-lib.sh
need_dr_drill
start_moto

aws_() { "$AWS" --endpoint-url "$MOTO_URL" "$@"; }

# --- seed (as moto's default account, keys `testing`)
aws_ iam create-role --role-name cabal-backup-role --assume-role-policy-document \
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"backup.amazonaws.com"},"Action":"sts:AssumeRole"}]}' > /dev/null
ROLE_ARN="arn:aws:iam::$ACCOUNT:role/cabal-backup-role"
aws_ iam create-user --user-name drill > /dev/null
aws_ iam put-user-policy --user-name drill --policy-name drill --policy-document \
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["backup:*","dynamodb:*","iam:PassRole","iam:GetRole","iam:SimulatePrincipalPolicy","sts:GetCallerIdentity"],"Resource":"*"}]}'
read -r DRILL_KEY DRILL_SECRET < <(aws_ iam create-access-key --user-name drill \
    --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)

aws_ backup create-backup-vault --backup-vault-name cabal-backup --region us-east-1 > /dev/null
aws_ backup create-backup-vault --backup-vault-name cabal-backup-dr --region us-west-2 > /dev/null
aws_ dynamodb create-table --region us-east-1 --table-name cabal-addresses \
    --attribute-definitions AttributeName=address,AttributeType=S \
    --key-schema AttributeName=address,KeyType=HASH --billing-mode PAY_PER_REQUEST > /dev/null
"$PY" - "$MOTO_URL" "$POINTS" "$ACCOUNT" <<'PYEOF'
import json, sys, urllib.request
url, count, account = sys.argv[1], int(sys.argv[2]), sys.argv[3]
table = f"arn:aws:dynamodb:us-east-1:{account}:table/cabal-addresses"
for vault, region in (("cabal-backup", "us-east-1"), ("cabal-backup-dr", "us-west-2")):
    body = json.dumps({
        "region": region, "vault": vault, "count": count, "resource_arn": table,
        "resource_type": "DynamoDB", "interval_seconds": 86400,
        "backup_size_bytes": 50 * 1024 * 1024, "lifecycle": {"DeleteAfterDays": 35},
    }).encode()
    req = urllib.request.Request(url + "/_dr_drill/seed-recovery-points", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    out = json.load(urllib.request.urlopen(req))
    print(f"seeded {out['Created']} recovery points in {vault} ({region})", file=sys.stderr)
PYEOF

# From here on, the drill user's keys: the simulation is of this principal.
export AWS_ACCESS_KEY_ID=$DRILL_KEY AWS_SECRET_ACCESS_KEY=$DRILL_SECRET

dr_cmd="$DR_DRILL preflight $RUNBOOK --param role_arn=$ROLE_ARN --endpoint-url $MOTO_URL --region us-east-1 --output json"

# The preflight must have run every area before its time means anything.
status=0
$dr_cmd > "$BENCH_TMP/preflight.json" || status=$?
"$PY" - "$BENCH_TMP/preflight.json" "$status" <<'PYEOF'
import collections, json, sys
doc = json.load(open(sys.argv[1]))
findings = doc.get("findings", [])
count = collections.Counter((f.get("area"), f.get("verdict")) for f in findings)
print(f"preflight exit {sys.argv[2]}, {len(findings)} findings:", file=sys.stderr)
for (area, verdict), n in sorted(count.items()):
    print(f"  {area:<12} {verdict:<10} {n}", file=sys.stderr)
for f in findings:
    if f.get("verdict") in ("fail", "unchecked"):
        print(f"  {f.get('verdict')}: {f.get('subject')}: {f.get('detail')}", file=sys.stderr)
PYEOF
# Exit 1 (a check failed) still times a whole preflight; 2 is a usage error.
[ "$status" -le 1 ] || { echo "preflight exited $status" >&2; exit 1; }

# The same questions by hand: who am I, do both vaults and their points
# exist, does the live table exist and the target not, is PITR on, may I
# start the restore and pass the role.
aws_cmd="set -e
a() { $AWS --endpoint-url $MOTO_URL \"\$@\" > /dev/null; }
a sts get-caller-identity
a backup describe-backup-vault --backup-vault-name cabal-backup --region us-east-1
a backup describe-backup-vault --backup-vault-name cabal-backup-dr --region us-west-2
a backup list-recovery-points-by-backup-vault --backup-vault-name cabal-backup --region us-east-1
a backup list-recovery-points-by-backup-vault --backup-vault-name cabal-backup-dr --region us-west-2
a dynamodb describe-table --table-name cabal-addresses --region us-east-1
a dynamodb describe-continuous-backups --table-name cabal-addresses --region us-east-1
! a dynamodb describe-table --table-name cabal-addresses-restored --region us-east-1 2> /dev/null
a iam simulate-principal-policy --policy-source-arn arn:aws:iam::$ACCOUNT:user/drill \
    --action-names backup:StartRestoreJob backup:DescribeRestoreJob dynamodb:DescribeTable dynamodb:Scan \
    dynamodb:BatchWriteItem dynamodb:DeleteTable backup:ListRecoveryPointsByBackupVault
a iam simulate-principal-policy --policy-source-arn arn:aws:iam::$ACCOUNT:user/drill \
    --action-names iam:PassRole --resource-arns $ROLE_ARN"
bash -c "$aws_cmd" || { echo "the AWS CLI calls failed" >&2; exit 1; }

# time_all RUNS CMD: prints the median and the worst wall time in seconds.
time_all() {
    local runs=$1 cmd=$2 i t0 t1
    local times=()
    for i in $(seq "$runs"); do
        t0=$(date +%s%N)
        bash -c "$cmd" > /dev/null 2>&1 || [ $? -le 1 ] || { echo "command failed: $cmd" >&2; return 1; }
        t1=$(date +%s%N)
        times+=("$(( t1 - t0 ))")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.3f %.3f\n", m / 1e9, v[NR] / 1e9 }'
}

echo "$RUNS runs each, $DR_DRILL" >&2
read -r dr_median dr_worst < <(time_all "$RUNS" "$dr_cmd")
read -r aws_median aws_worst < <(time_all "$RUNS" "$aws_cmd")
printf '%-34s median %7s s   worst %7s s\n' "dr-drill preflight" "$dr_median" "$dr_worst"
printf '%-34s median %7s s   worst %7s s\n' "aws-cli, 10 calls one by one" "$aws_median" "$aws_worst"
"$PY" -c 'import sys; m, w = float(sys.argv[1]), float(sys.argv[2]); print("target: under 2 s:", "met" if w < 2 else ("median met, worst not" if m < 2 else "NOT met"))' "$dr_median" "$dr_worst"
