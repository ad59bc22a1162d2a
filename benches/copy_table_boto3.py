#!/usr/bin/env python3
"""The boto3 side of benches/compare_copy_table.sh, plus its table helpers.

    copy_table_boto3.py [--endpoint-url URL] [--region R] create TABLE...
    copy_table_boto3.py ... seed TABLE [--items 50000] [--item-bytes 200]
    copy_table_boto3.py ... copy FROM TO
    copy_table_boto3.py ... count TABLE

`copy` is the baseline dr-drill's dynamodb.copy-table step is compared with:
the plain way, one thread, Scan page by page and BatchWriteItem 25 items at a
time, resending UnprocessedItems with a short backoff.  Tables have a string
hash key `pk` and on-demand billing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

BATCH = 25


def client(args: argparse.Namespace):
    return boto3.client(
        "dynamodb", region_name=args.region, endpoint_url=args.endpoint_url,
        config=Config(retries={"max_attempts": 10, "mode": "standard"}),
    )


def write_all(ddb, table: str, items: list[dict]) -> int:
    """BatchWriteItem in batches of 25, resending UnprocessedItems."""
    written = 0
    for start in range(0, len(items), BATCH):
        requests = [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH]]
        delay = 0.05
        while requests:
            out = ddb.batch_write_item(RequestItems={table: requests})
            unprocessed = out.get("UnprocessedItems", {}).get(table, [])
            written += len(requests) - len(unprocessed)
            requests = unprocessed
            if requests:
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
    return written


def cmd_create(args: argparse.Namespace) -> None:
    ddb = client(args)
    for table in args.tables:
        ddb.create_table(
            TableName=table, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        )
        ddb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1})
    print(f"created {', '.join(args.tables)}", file=sys.stderr)


def make_item(i: int, item_bytes: int) -> dict:
    pk = f"item-{i:08d}"
    # pk + name + attribute names + payload come to about item_bytes bytes.
    name = f"customer {i % 9973}"
    pad = max(1, item_bytes - len(pk) - len(name) - len("pkpayloadnamen") - 8)
    payload = (f"{i:08x}" * (pad // 8 + 1))[:pad]
    return {"pk": {"S": pk}, "name": {"S": name}, "n": {"N": str(i)}, "payload": {"S": payload}}


def cmd_seed(args: argparse.Namespace) -> None:
    ddb = client(args)
    t0 = time.time()
    chunk = 1000
    written = 0
    for start in range(0, args.items, chunk):
        items = [make_item(i, args.item_bytes) for i in range(start, min(args.items, start + chunk))]
        written += write_all(ddb, args.table, items)
    print(f"seeded {written} items into {args.table} in {time.time() - t0:.1f}s", file=sys.stderr)


def cmd_copy(args: argparse.Namespace) -> None:
    ddb = client(args)
    t0 = time.time()
    read = written = 0
    kwargs = {"TableName": args.source}
    while True:
        page = ddb.scan(**kwargs)
        items = page.get("Items", [])
        read += len(items)
        written += write_all(ddb, args.target, items)
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    print(f"copied {args.source} -> {args.target}: read {read}, wrote {written} in {time.time() - t0:.2f}s")


def cmd_count(args: argparse.Namespace) -> None:
    ddb = client(args)
    total = 0
    kwargs = {"TableName": args.table, "Select": "COUNT"}
    while True:
        page = ddb.scan(**kwargs)
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    print(total)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("create", help="create empty tables")
    p.add_argument("tables", nargs="+")
    p.set_defaults(fn=cmd_create)
    p = sub.add_parser("seed", help="fill a table with generated items")
    p.add_argument("table")
    p.add_argument("--items", type=int, default=50000)
    p.add_argument("--item-bytes", type=int, default=200)
    p.set_defaults(fn=cmd_seed)
    p = sub.add_parser("copy", help="scan SOURCE, batch-write every item into TARGET")
    p.add_argument("source")
    p.add_argument("target")
    p.set_defaults(fn=cmd_copy)
    p = sub.add_parser("count", help="print the number of items (a COUNT scan)")
    p.add_argument("table")
    p.set_defaults(fn=cmd_count)
    args = parser.parse_args()
    args.fn(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
