#!/usr/bin/env python3
"""Self-test of moto_server.py + moto_backup.py with boto3 and the AWS CLI.

    .venv/bin/python tests/support/test_moto_backup.py [--url http://127.0.0.1:PORT]

Without --url it starts its own server (DR_DRILL_MOTO_JOB_SECONDS=1) with a
piped stdin and stops it at the end.  Prints one line per check and closes
with 'N passed, M failed'; exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import traceback
import urllib.request
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "moto_server.py")
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/backup-role"

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

PASSED: list[str] = []
FAILED: list[str] = []


def check(name: str):
    def wrap(fn):
        def run(*args, **kwargs):
            try:
                fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001
                FAILED.append(name)
                print(f"FAIL - {name}: {type(exc).__name__}: {exc}")
                traceback.print_exc(limit=3)
                return
            PASSED.append(name)
            print(f"ok   - {name}")

        run.__name__ = fn.__name__
        return run

    return wrap


def start_server(env_extra: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ)
    env.update(env_extra or {})
    proc = subprocess.Popen(
        [sys.executable, SERVER, "--port", "0"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True,
    )
    line = proc.stdout.readline().strip()
    if not line.startswith("READY "):
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return proc, line.split(" ", 1)[1]


class World:
    def __init__(self, url: str):
        self.url = url
        cfg = Config(retries={"max_attempts": 2}, s3={"addressing_style": "path"})
        self.b1 = boto3.client("backup", region_name="us-east-1", endpoint_url=url, config=cfg)
        self.b2 = boto3.client("backup", region_name="us-west-2", endpoint_url=url, config=cfg)
        self.d1 = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=url, config=cfg)
        self.d2 = boto3.client("dynamodb", region_name="us-west-2", endpoint_url=url, config=cfg)
        self.s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=url, config=cfg)
        self.point = ""
        self.table_arn = ""
        self.copy_point = ""
        self.snapshot: list[str] = []


def expect_error(code: str, fn, *args, **kwargs) -> ClientError:
    try:
        fn(*args, **kwargs)
    except ClientError as err:
        got = err.response["Error"]["Code"]
        assert got == code, f"expected {code}, got {got}: {err}"
        return err
    raise AssertionError(f"expected {code}, got success")


def wait_job(describe, key: str, done=("COMPLETED", "FAILED", "ABORTED"), timeout=20.0) -> tuple[dict, list]:
    seen = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = describe()
        job = job.get("CopyJob", job)
        state = job.get(key)
        seen.append((state, job.get("PercentDone")))
        if state in done:
            return job, seen
        time.sleep(0.1)
    raise AssertionError(f"job not done after {timeout}s: {seen[-3:]}")


def items(client, table: str) -> list[str]:
    out, kwargs = [], {"TableName": table}
    while True:
        r = client.scan(**kwargs)
        out += [i["pk"]["S"] for i in r["Items"]]
        if "LastEvaluatedKey" not in r:
            return sorted(out)
        kwargs["ExclusiveStartKey"] = r["LastEvaluatedKey"]


def all_points(client, vault: str, **filters) -> list[dict]:
    pages = client.get_paginator("list_recovery_points_by_backup_vault").paginate(BackupVaultName=vault, **filters)
    return [p for page in pages for p in page["RecoveryPoints"]]


def run(w: World) -> None:
    @check("setup: table with items, vaults in us-east-1 and us-west-2")
    def setup():
        w.d1.create_table(
            TableName="orders", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        )
        for i in range(5):
            w.d1.put_item(TableName="orders", Item={"pk": {"S": f"order-{i}"}, "n": {"N": str(i)}})
        w.table_arn = w.d1.describe_table(TableName="orders")["Table"]["TableArn"]
        w.b1.create_backup_vault(BackupVaultName="primary")
        w.b2.create_backup_vault(BackupVaultName="primary-dr")
        names = [v["BackupVaultName"] for v in w.b2.list_backup_vaults()["BackupVaultList"]]
        assert names == ["primary-dr"], names

    setup()

    @check("StartBackupJob (DynamoDB) goes CREATED -> RUNNING -> COMPLETED, PercentDone rises")
    def backup():
        r = w.b1.start_backup_job(BackupVaultName="primary", ResourceArn=w.table_arn, IamRoleArn=ROLE,
                                  Lifecycle={"MoveToColdStorageAfterDays": 30, "DeleteAfterDays": 365})
        w.point = r["RecoveryPointArn"]
        assert w.point.startswith(f"arn:aws:backup:us-east-1:{ACCOUNT}:recovery-point:"), w.point
        p = w.b1.describe_recovery_point(BackupVaultName="primary", RecoveryPointArn=w.point)
        assert p["Status"] == "CREATING", p["Status"]
        w.snapshot = items(w.d1, "orders")
        job, seen = wait_job(lambda: w.b1.describe_backup_job(BackupJobId=r["BackupJobId"]), "State")
        states = [s for s, _ in seen]
        assert job["State"] == "COMPLETED", job
        assert states[0] == "CREATED" and "RUNNING" in states, states
        running = [float(p) for s, p in seen if s == "RUNNING"]
        assert running == sorted(running) and running[-1] > running[0], running
        assert job["PercentDone"] == "100.0" and job["CompletionDate"] > job["CreationDate"]
        assert job["RecoveryPointArn"] == w.point and job["ResourceType"] == "DynamoDB"
        # A real DynamoDB backup exists behind it (type AWS_BACKUP), listed
        # only when asked for by name: ALL is USER and SYSTEM (the model).
        backups = w.d1.list_backups(TableName="orders", BackupType="AWS_BACKUP")["BackupSummaries"]
        assert any(b["BackupType"] == "AWS_BACKUP" for b in backups), backups
        every = w.d1.list_backups(TableName="orders", BackupType="ALL")["BackupSummaries"]
        assert not any(b["BackupType"] == "AWS_BACKUP" for b in every), every
        # Backup lists the table's points by its ARN.
        by_resource = w.b1.list_recovery_points_by_resource(ResourceArn=w.table_arn)["RecoveryPoints"]
        assert [p["RecoveryPointArn"] for p in by_resource] == [w.point], by_resource
        # As DynamoDB: without BackupType, only USER backups are listed.
        users = w.d1.list_backups(TableName="orders")["BackupSummaries"]
        assert not any(b["BackupType"] == "AWS_BACKUP" for b in users), users
        # Change the table after the backup: the restore must not see this.
        w.d1.put_item(TableName="orders", Item={"pk": {"S": "order-late"}})
        w.d1.delete_item(TableName="orders", Key={"pk": {"S": "order-0"}})

    backup()

    @check("DescribeRecoveryPoint has the AWS fields, StorageClass WARM, CalculatedLifecycle")
    def describe_point():
        p = w.b1.describe_recovery_point(BackupVaultName="primary", RecoveryPointArn=w.point)
        for key in ("RecoveryPointArn", "BackupVaultName", "BackupVaultArn", "ResourceArn", "ResourceType",
                    "ResourceName", "CreationDate", "CompletionDate", "Status", "BackupSizeInBytes",
                    "CalculatedLifecycle", "Lifecycle", "EncryptionKeyArn", "IsEncrypted", "IamRoleArn",
                    "IsParent", "StorageClass"):
            assert key in p, key
        assert p["Status"] == "COMPLETED" and p["StorageClass"] == "WARM" and p["ResourceName"] == "orders"
        assert p["IsParent"] is False and "SourceBackupVaultArn" not in p
        cl = p["CalculatedLifecycle"]
        assert (cl["DeleteAt"] - p["CreationDate"]).days == 365 and (cl["MoveToColdStorageAt"] - p["CreationDate"]).days == 30

    describe_point()

    @check("EFS and S3 backup jobs record points; list filters byResourceType/byResourceArn/byCreated*")
    def filters():
        efs = f"arn:aws:elasticfilesystem:us-east-1:{ACCOUNT}:file-system/fs-0123456789abcdef0"
        s3 = "arn:aws:s3:::cabal-backups"
        jobs = [w.b1.start_backup_job(BackupVaultName="primary", ResourceArn=a, IamRoleArn=ROLE)["BackupJobId"]
                for a in (efs, efs, s3)]
        for j in jobs:
            wait_job(lambda j=j: w.b1.describe_backup_job(BackupJobId=j), "State")
        everything = all_points(w.b1, "primary")
        assert len(everything) == 4, len(everything)
        assert len(all_points(w.b1, "primary", ByResourceType="EFS")) == 2
        assert len(all_points(w.b1, "primary", ByResourceType="DynamoDB")) == 1
        assert len(all_points(w.b1, "primary", ByResourceArn=s3)) == 1
        first = min(p["CreationDate"] for p in everything)
        assert len(all_points(w.b1, "primary", ByCreatedAfter=first)) == 3
        assert len(all_points(w.b1, "primary", ByCreatedBefore=first + timedelta(milliseconds=1))) == 1
        r = w.b1.list_recovery_points_by_backup_vault(BackupVaultName="primary", MaxResults=3)
        assert len(r["RecoveryPoints"]) == 3 and "NextToken" in r
        r2 = w.b1.list_recovery_points_by_backup_vault(BackupVaultName="primary", MaxResults=3, NextToken=r["NextToken"])
        assert len(r2["RecoveryPoints"]) == 1 and "NextToken" not in r2
        arns = [p["RecoveryPointArn"] for p in r["RecoveryPoints"] + r2["RecoveryPoints"]]
        assert arns == [p["RecoveryPointArn"] for p in everything], "pages are not in a stable order"
        efs_point = all_points(w.b1, "primary", ByResourceType="EFS")[0]
        meta = w.b1.get_recovery_point_restore_metadata(BackupVaultName="primary", RecoveryPointArn=efs_point["RecoveryPointArn"])
        m = meta["RestoreMetadata"]
        assert m["file-system-id"] == "fs-0123456789abcdef0" and m["newFileSystem"] == "true", m
        assert {"Encrypted", "PerformanceMode", "CreationToken"} <= set(m), m
        rj = w.b1.start_restore_job(RecoveryPointArn=efs_point["RecoveryPointArn"], Metadata=m, IamRoleArn=ROLE)
        job, _ = wait_job(lambda: w.b1.describe_restore_job(RestoreJobId=rj["RestoreJobId"]), "Status")
        assert job["Status"] == "COMPLETED" and job["CreatedResourceArn"].startswith(
            f"arn:aws:elasticfilesystem:us-east-1:{ACCOUNT}:file-system/fs-"), job
        expect_error("InvalidParameterValueException", w.b1.list_recovery_points_by_backup_vault,
                     BackupVaultName="primary", NextToken="garbage")

    filters()

    @check("GetRecoveryPointRestoreMetadata + StartRestoreJob (DynamoDB) restores the items as backed up")
    def restore():
        meta = w.b1.get_recovery_point_restore_metadata(BackupVaultName="primary", RecoveryPointArn=w.point)
        assert meta["ResourceType"] == "DynamoDB"
        assert meta["RestoreMetadata"]["targetTableName"] == "orders", meta
        md = dict(meta["RestoreMetadata"], targetTableName="orders-restored")
        rj = w.b1.start_restore_job(RecoveryPointArn=w.point, Metadata=md, IamRoleArn=ROLE)
        first = w.b1.describe_restore_job(RestoreJobId=rj["RestoreJobId"])["Status"]
        assert first in ("PENDING", "RUNNING"), first
        job, _ = wait_job(lambda: w.b1.describe_restore_job(RestoreJobId=rj["RestoreJobId"]), "Status")
        assert job["Status"] == "COMPLETED", job
        arn = w.d1.describe_table(TableName="orders-restored")["Table"]["TableArn"]
        assert job["CreatedResourceArn"] == arn, (job["CreatedResourceArn"], arn)
        got = items(w.d1, "orders-restored")
        assert got == w.snapshot, (got, w.snapshot)
        assert "order-late" in items(w.d1, "orders")

    restore()

    @check("StartRestoreJob into an existing table ends FAILED with a StatusMessage")
    def restore_fails():
        rj = w.b1.start_restore_job(RecoveryPointArn=w.point, Metadata={"targetTableName": "orders"}, IamRoleArn=ROLE)
        job, _ = wait_job(lambda: w.b1.describe_restore_job(RestoreJobId=rj["RestoreJobId"]), "Status")
        assert job["Status"] == "FAILED" and "already exists" in job["StatusMessage"], job
        assert "CreatedResourceArn" not in job
        listed = w.b1.list_restore_jobs(ByStatus="FAILED")["RestoreJobs"]
        assert [j["RestoreJobId"] for j in listed] == [rj["RestoreJobId"]], listed

    restore_fails()

    @check("StartCopyJob to us-west-2: a new point there, restorable in us-west-2")
    def copy():
        dest = f"arn:aws:backup:us-west-2:{ACCOUNT}:backup-vault:primary-dr"
        cj = w.b1.start_copy_job(RecoveryPointArn=w.point, SourceBackupVaultName="primary",
                                 DestinationBackupVaultArn=dest, IamRoleArn=ROLE)
        job, seen = wait_job(lambda: w.b1.describe_copy_job(CopyJobId=cj["CopyJobId"]), "State")
        assert job["State"] == "COMPLETED", job
        assert seen[0][0] == "CREATED", seen
        w.copy_point = job["DestinationRecoveryPointArn"]
        assert w.copy_point.startswith(f"arn:aws:backup:us-west-2:{ACCOUNT}:recovery-point:"), w.copy_point
        pts = all_points(w.b2, "primary-dr")
        assert [p["RecoveryPointArn"] for p in pts] == [w.copy_point], pts
        assert pts[0]["SourceBackupVaultArn"] == f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-vault:primary"
        assert pts[0]["ResourceArn"] == w.table_arn and pts[0]["Status"] == "COMPLETED"
        assert len(all_points(w.b1, "primary")) == 4  # source untouched
        assert w.b2.list_copy_jobs()["CopyJobs"] == [] and len(w.b1.list_copy_jobs()["CopyJobs"]) == 1
        rj = w.b2.start_restore_job(RecoveryPointArn=w.copy_point, Metadata={"targetTableName": "orders"}, IamRoleArn=ROLE)
        job, _ = wait_job(lambda: w.b2.describe_restore_job(RestoreJobId=rj["RestoreJobId"]), "Status")
        assert job["Status"] == "COMPLETED", job
        assert job["CreatedResourceArn"] == f"arn:aws:dynamodb:us-west-2:{ACCOUNT}:table/orders", job
        assert items(w.d2, "orders") == w.snapshot
        # A copy to a vault that does not exist fails the job.
        bad = w.b1.start_copy_job(RecoveryPointArn=w.point, SourceBackupVaultName="primary",
                                  DestinationBackupVaultArn=f"arn:aws:backup:eu-west-1:{ACCOUNT}:backup-vault:nope",
                                  IamRoleArn=ROLE)
        job, _ = wait_job(lambda: w.b1.describe_copy_job(CopyJobId=bad["CopyJobId"]), "State")
        assert job["State"] == "FAILED" and job["StatusMessage"], job

    copy()

    @check("vault lock: DescribeBackupVault fields; DeleteRecoveryPoint refused while locked")
    def lock():
        v = w.b1.describe_backup_vault(BackupVaultName="primary")
        assert v["Locked"] is False and v["NumberOfRecoveryPoints"] == 4, v
        w.b1.put_backup_vault_lock_configuration(BackupVaultName="primary", MinRetentionDays=7, MaxRetentionDays=365)
        v = w.b1.describe_backup_vault(BackupVaultName="primary")
        assert v["Locked"] is True and v["MinRetentionDays"] == 7 and v["MaxRetentionDays"] == 365, v
        assert "LockDate" not in v  # governance mode: no ChangeableForDays
        err = expect_error("InvalidRequestException", w.b1.delete_recovery_point,
                           BackupVaultName="primary", RecoveryPointArn=w.point)
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert err.response["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-errortype") == "InvalidRequestException"
        assert "locked" in err.response["Error"]["Message"]
        w.b1.delete_backup_vault_lock_configuration(BackupVaultName="primary")
        w.b1.put_backup_vault_lock_configuration(BackupVaultName="primary", MinRetentionDays=7, ChangeableForDays=3)
        v = w.b1.describe_backup_vault(BackupVaultName="primary")
        assert v["Locked"] is True and (v["LockDate"] - datetime.now(timezone.utc)).days in (2, 3), v
        w.b1.delete_backup_vault_lock_configuration(BackupVaultName="primary")

    lock()

    @check("DeleteRecoveryPoint removes the point and its DynamoDB backup; errors for missing ones")
    def delete():
        w.b1.delete_recovery_point(BackupVaultName="primary", RecoveryPointArn=w.point)
        assert w.b1.describe_backup_vault(BackupVaultName="primary")["NumberOfRecoveryPoints"] == 3
        assert not any(b["BackupType"] == "AWS_BACKUP"
                       for b in w.d1.list_backups(TableName="orders", BackupType="ALL")["BackupSummaries"])
        err = expect_error("ResourceNotFoundException", w.b1.describe_recovery_point,
                           BackupVaultName="primary", RecoveryPointArn=w.point)
        assert err.response["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-errortype") == "ResourceNotFoundException"
        expect_error("ResourceNotFoundException", w.b1.list_recovery_points_by_backup_vault, BackupVaultName="nope")
        expect_error("ResourceNotFoundException", w.b1.describe_restore_job, RestoreJobId="nope")
        expect_error("InvalidRequestException", w.b1.delete_backup_vault, BackupVaultName="primary")

    delete()

    @check("Describe/UpdateRegionSettings; a DynamoDB cross-region copy fails without the opt-in")
    def region_settings():
        cfg = Config(retries={"max_attempts": 2})
        b = boto3.client("backup", region_name="eu-west-1", endpoint_url=w.url, config=cfg)
        d = boto3.client("dynamodb", region_name="eu-west-1", endpoint_url=w.url, config=cfg)
        got = b.describe_region_settings()
        assert got["ResourceTypeManagementPreference"] == {"DynamoDB": True, "EFS": True}, got
        assert got["ResourceTypeOptInPreference"]["DynamoDB"] is True
        assert got["ResourceTypeOptInPreference"]["S3"] is False
        d.create_table(TableName="settings", BillingMode="PAY_PER_REQUEST",
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                       KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        b.create_backup_vault(BackupVaultName="settings")
        job = b.start_backup_job(BackupVaultName="settings", IamRoleArn=ROLE,
                                 ResourceArn=f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/settings")
        wait_job(lambda: b.describe_backup_job(BackupJobId=job["BackupJobId"]), "State")
        b.update_region_settings(ResourceTypeManagementPreference={"DynamoDB": False})
        assert b.describe_region_settings()["ResourceTypeManagementPreference"]["DynamoDB"] is False
        # Other regions keep their own settings.
        assert w.b1.describe_region_settings()["ResourceTypeManagementPreference"]["DynamoDB"] is True
        dest = f"arn:aws:backup:us-west-2:{ACCOUNT}:backup-vault:primary-dr"
        copy = b.start_copy_job(RecoveryPointArn=job["RecoveryPointArn"], SourceBackupVaultName="settings",
                                DestinationBackupVaultArn=dest, IamRoleArn=ROLE)
        done, _ = wait_job(lambda: b.describe_copy_job(CopyJobId=copy["CopyJobId"]), "State")
        assert done["State"] == "FAILED" and "DynamoDB=true" in done["StatusMessage"], done
        failed = b.list_copy_jobs(ByState="FAILED")["CopyJobs"]
        assert [j["CopyJobId"] for j in failed] == [copy["CopyJobId"]], failed
        b.update_region_settings(ResourceTypeManagementPreference={"DynamoDB": True})
        copy = b.start_copy_job(RecoveryPointArn=job["RecoveryPointArn"], SourceBackupVaultName="settings",
                                DestinationBackupVaultArn=dest, IamRoleArn=ROLE)
        done, _ = wait_job(lambda: b.describe_copy_job(CopyJobId=copy["CopyJobId"]), "State")
        assert done["State"] == "COMPLETED", done
        expect_error("InvalidParameterValueException", b.update_region_settings,
                     ResourceTypeManagementPreference={"RDS": True})

    region_settings()

    @check("EFS item-level restore into a mapped filesystem writes aws-backup-restore_<time>/<item>")
    def efs_item_restore():
        import tempfile
        mount = tempfile.mkdtemp()
        os.makedirs(os.path.join(mount, "alice", "Maildir", "cur"))
        with open(os.path.join(mount, "alice", "Maildir", "cur", "1.eml"), "w") as f:
            f.write("hello")
        os.makedirs(os.path.join(mount, "bob"))
        fs = "fs-0123456789abcdef0"
        body = json.dumps({"file_system_id": fs, "path": mount}).encode()
        urllib.request.urlopen(urllib.request.Request(w.url + "/_dr_drill/efs-mount", data=body, method="POST"))
        job = w.b1.start_backup_job(BackupVaultName="primary", IamRoleArn=ROLE,
                                    ResourceArn=f"arn:aws:elasticfilesystem:us-east-1:{ACCOUNT}:file-system/{fs}")
        wait_job(lambda: w.b1.describe_backup_job(BackupJobId=job["BackupJobId"]), "State")
        os.remove(os.path.join(mount, "alice", "Maildir", "cur", "1.eml"))  # the user deletes mail
        meta = w.b1.get_recovery_point_restore_metadata(BackupVaultName="primary",
                                                        RecoveryPointArn=job["RecoveryPointArn"])["RestoreMetadata"]
        assert meta["file-system-id"] == fs, meta
        meta.update({"newFileSystem": "false", "itemsToRestore": json.dumps(["/alice"])})
        r = w.b1.start_restore_job(RecoveryPointArn=job["RecoveryPointArn"], Metadata=meta, IamRoleArn=ROLE)
        done, _ = wait_job(lambda: w.b1.describe_restore_job(RestoreJobId=r["RestoreJobId"]), "Status")
        assert done["Status"] == "COMPLETED", done
        dirs = [d for d in os.listdir(mount) if d.startswith("aws-backup-restore_")]
        assert len(dirs) == 1 and sorted(os.listdir(mount)) == sorted(["alice", "bob", dirs[0]]), os.listdir(mount)
        with open(os.path.join(mount, dirs[0], "alice", "Maildir", "cur", "1.eml")) as f:
            assert f.read() == "hello"
        assert not os.path.exists(os.path.join(mount, dirs[0], "bob"))
        meta["itemsToRestore"] = json.dumps(["/carol"])
        r = w.b1.start_restore_job(RecoveryPointArn=job["RecoveryPointArn"], Metadata=meta, IamRoleArn=ROLE)
        done, _ = wait_job(lambda: w.b1.describe_restore_job(RestoreJobId=r["RestoreJobId"]), "Status")
        assert done["Status"] == "FAILED" and "/carol" in done["StatusMessage"], done
        w.b1.delete_recovery_point(BackupVaultName="primary", RecoveryPointArn=job["RecoveryPointArn"])

    efs_item_restore()

    @check("seed 10,000 points and list them all (boto3 paginator, 10 pages)")
    def seed():
        w.b1.create_backup_vault(BackupVaultName="bench-vault")
        body = json.dumps({"region": "us-east-1", "vault": "bench-vault", "count": 10000,
                           "resource_arn": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/bench",
                           "resource_type": "DynamoDB", "start": "2024-01-01T00:00:00Z",
                           "interval_seconds": 60}).encode()
        req = urllib.request.Request(w.url + "/_dr_drill/seed-recovery-points", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        t0 = time.time()
        out = json.load(urllib.request.urlopen(req))
        seeded = time.time() - t0
        assert out["Created"] == 10000 and out["NumberOfRecoveryPoints"] == 10000, out
        t0 = time.time()
        pages = list(w.b1.get_paginator("list_recovery_points_by_backup_vault").paginate(BackupVaultName="bench-vault"))
        listed = time.time() - t0
        pts = [p for page in pages for p in page["RecoveryPoints"]]
        assert len(pages) == 10 and len(pts) == 10000 and len({p["RecoveryPointArn"] for p in pts}) == 10000
        assert pts[0]["CreationDate"] == datetime(2024, 1, 1, tzinfo=timezone.utc)
        assert w.b1.describe_backup_vault(BackupVaultName="bench-vault")["NumberOfRecoveryPoints"] == 10000
        cut = datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=60 * 100)
        assert len(all_points(w.b1, "bench-vault", ByCreatedBefore=cut)) == 100
        print(f"       (seeded in {seeded:.2f}s, listed in {listed:.2f}s)")
        try:
            urllib.request.urlopen(urllib.request.Request(
                w.url + "/_dr_drill/seed-recovery-points", method="POST",
                data=json.dumps({"vault": "missing", "count": 1}).encode()))
            raise AssertionError("seeding a missing vault succeeded")
        except urllib.error.HTTPError as err:
            assert err.code == 400 and json.load(err)["Code"] == "ResourceNotFoundException"

    seed()

    @check("AWS CLI v1 parses ListRecoveryPointsByBackupVault (10,000 points)")
    def cli():
        aws = os.path.join(os.path.dirname(sys.executable), "aws")
        out = subprocess.run(
            [aws, "backup", "list-recovery-points-by-backup-vault", "--backup-vault-name", "bench-vault",
             "--region", "us-east-1", "--endpoint-url", w.url, "--output", "json"],
            check=True, capture_output=True, text=True, timeout=300,
        )
        pts = json.loads(out.stdout)["RecoveryPoints"]
        assert len(pts) == 10000, len(pts)
        # CLI v1 prints timestamps as they come over the wire: epoch seconds.
        assert pts[0]["CreationDate"] == 1704067200, pts[0]["CreationDate"]
        out = subprocess.run(
            [aws, "backup", "describe-recovery-point", "--backup-vault-name", "primary-dr",
             "--recovery-point-arn", w.copy_point, "--region", "us-west-2", "--endpoint-url", w.url],
            check=True, capture_output=True, text=True, timeout=60,
        )
        assert json.loads(out.stdout)["StorageClass"] == "WARM"

    cli()


def lifecycle_checks() -> None:
    @check("server exits when its stdin closes, and on SIGTERM")
    def lifecycle():
        proc, url = start_server()
        urllib.request.urlopen(url + "/_dr_drill/health").read()
        proc.stdin.close()
        proc.wait(timeout=5)
        proc, url = start_server()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=5)

    lifecycle()


def iam_checks(url: str) -> None:
    cfg = Config(retries={"max_attempts": 1})
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=url, config=cfg)
    rp = f"arn:aws:backup:us-east-1:{ACCOUNT}:recovery-point:*"
    role = f"arn:aws:iam::{ACCOUNT}:role/cabal-backup-role"
    user = "sim-operator"
    allow = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["backup:start*", "backup:Describe?estoreJob"], "Resource": rp},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": role,
         "Condition": {"StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}}},
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
    ]}
    deny = {"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*"}}

    def decide(source: str, action: str, resource: str) -> dict:
        out = iam.simulate_principal_policy(PolicySourceArn=source, ActionNames=[action], ResourceArns=[resource])
        [result] = out["EvaluationResults"]
        return result

    @check("SimulatePrincipalPolicy: Allow with * and ? wildcards, actions case-insensitive")
    def wildcards():
        arn = iam.create_user(UserName=user)["User"]["Arn"]
        iam.put_user_policy(UserName=user, PolicyName="drill", PolicyDocument=json.dumps(allow, indent=2))
        r = decide(arn, "backup:StartRestoreJob", f"arn:aws:backup:us-east-1:{ACCOUNT}:recovery-point:*")
        assert r["EvalDecision"] == "allowed", r
        [m] = r["MatchedStatements"]
        assert m["SourcePolicyId"] == f"user_{user}_drill" and m["SourcePolicyType"] == "user", m
        assert m["StartPosition"]["Line"] < m["EndPosition"]["Line"], m
        assert decide(arn, "BACKUP:describerestorejob", rp)["EvalDecision"] == "allowed"
        assert decide(arn, "backup:StartRestoreJob", "arn:aws:backup:us-west-2:1:recovery-point:x")["EvalDecision"] == "implicitDeny"

    wildcards()

    @check("SimulatePrincipalPolicy: a Condition on a key not given does not match (implicitDeny); no statement = implicitDeny")
    def conditions():
        arn = f"arn:aws:iam::{ACCOUNT}:user/{user}"
        r = decide(arn, "iam:PassRole", role)
        assert r["EvalDecision"] == "implicitDeny" and r["MatchedStatements"] == [], r
        assert decide(arn, "s3:GetObject", "arn:aws:s3:::b/k")["EvalDecision"] == "implicitDeny"

    conditions()

    def decide_in(source: str, action: str, resource: str, context: dict[str, str]) -> dict:
        entries = [{"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"} for k, v in context.items()]
        out = iam.simulate_principal_policy(PolicySourceArn=source, ActionNames=[action], ResourceArns=[resource],
                                            ContextEntries=entries)
        [result] = out["EvaluationResults"]
        return result

    @check("SimulatePrincipalPolicy: StringEquals/StringLike on the ContextEntries given; key names case-insensitive")
    def context_conditions():
        arn = f"arn:aws:iam::{ACCOUNT}:user/{user}"
        r = decide_in(arn, "iam:PassRole", role, {"iam:PassedToService": "backup.amazonaws.com"})
        assert r["EvalDecision"] == "allowed" and len(r["MatchedStatements"]) == 1, r
        r = decide_in(arn, "iam:PassRole", role, {"IAM:passedtoservice": "backup.amazonaws.com"})
        assert r["EvalDecision"] == "allowed", r
        # Another service, or another value's case: not matched.
        for other in ("ec2.amazonaws.com", "BACKUP.amazonaws.com"):
            r = decide_in(arn, "iam:PassRole", role, {"iam:PassedToService": other})
            assert r["EvalDecision"] == "implicitDeny", (other, r)
        like = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
             "Condition": {"StringLike": {"iam:PassedToService": "backup.*"}, "StringEquals": {"aws:RequestedRegion": "us-east-1"}}},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
             "Condition": {"NumericLessThan": {"s3:max-keys": "10"}}}]}
        iam.create_user(UserName="like-user")
        iam.put_user_policy(UserName="like-user", PolicyName="p", PolicyDocument=json.dumps(like))
        like_arn = f"arn:aws:iam::{ACCOUNT}:user/like-user"
        both = {"iam:PassedToService": "backup.amazonaws.com", "aws:RequestedRegion": "us-east-1"}
        assert decide_in(like_arn, "iam:PassRole", role, both)["EvalDecision"] == "allowed"
        # Every block must hold: one key missing is no match.
        assert decide_in(like_arn, "iam:PassRole", role, {"iam:PassedToService": "backup.amazonaws.com"})["EvalDecision"] == "implicitDeny"
        # An operator this simulator does not evaluate never matches.
        assert decide_in(like_arn, "s3:GetObject", "arn:aws:s3:::b/k", {"s3:max-keys": "5"})["EvalDecision"] == "implicitDeny"

    context_conditions()

    @check("SimulatePrincipalPolicy: a role under a path is found by its whole ARN only")
    def role_path():
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
        arn = iam.create_role(RoleName="pathed-operator", Path="/service-role/", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        assert arn == f"arn:aws:iam::{ACCOUNT}:role/service-role/pathed-operator", arn
        iam.put_role_policy(RoleName="pathed-operator", PolicyName="p", PolicyDocument=json.dumps(allow))
        assert decide(arn, "dynamodb:Scan", "*")["EvalDecision"] == "allowed"
        expect_error("NoSuchEntity", iam.simulate_principal_policy,
                     PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:role/pathed-operator", ActionNames=["dynamodb:Scan"])

    role_path()

    @check("SimulatePrincipalPolicy: an explicit Deny in a managed policy wins over an Allow")
    def explicit_deny():
        arn = f"arn:aws:iam::{ACCOUNT}:user/{user}"
        policy = iam.create_policy(PolicyName="no-deletes", PolicyDocument=json.dumps(deny))["Policy"]["Arn"]
        iam.attach_user_policy(UserName=user, PolicyArn=policy)
        r = decide(arn, "dynamodb:DeleteTable", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t")
        assert r["EvalDecision"] == "explicitDeny", r
        assert [m["SourcePolicyId"] for m in r["MatchedStatements"]] == ["no-deletes"], r
        assert r["MatchedStatements"][0]["SourcePolicyType"] == "user-managed", r
        assert decide(arn, "dynamodb:Scan", "*")["EvalDecision"] == "allowed"

    explicit_deny()

    @check("SimulatePrincipalPolicy: a role's inline policy; pages with MaxItems/Marker; unknown role NoSuchEntity")
    def roles_and_pages():
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
        arn = iam.create_role(RoleName="dr-operator", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(RoleName="dr-operator", PolicyName="p", PolicyDocument=json.dumps(allow))
        actions = [f"dynamodb:Action{i}" for i in range(5)]
        seen, marker = [], None
        while True:
            kw = {"Marker": marker} if marker else {}
            out = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=actions, MaxItems=2, **kw)
            seen += [r["EvalActionName"] for r in out["EvaluationResults"]]
            if not out["IsTruncated"]:
                break
            marker = out["Marker"]
        assert seen == actions, seen
        expect_error("NoSuchEntity", iam.simulate_principal_policy, PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:role/none", ActionNames=["s3:GetObject"])

    roles_and_pages()

    @check("SimulatePrincipalPolicy: a caller without iam:SimulatePrincipalPolicy gets AccessDenied")
    def refused():
        key = iam.create_access_key(UserName=user)["AccessKey"]
        as_user = boto3.client("iam", region_name="us-east-1", endpoint_url=url, config=cfg,
                               aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
        expect_error("AccessDenied", as_user.simulate_principal_policy,
                     PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/{user}", ActionNames=["s3:GetObject"])

    refused()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", help="use a running server instead of starting one")
    args = parser.parse_args()
    proc = None
    url = args.url
    if not url:
        proc, url = start_server({"DR_DRILL_MOTO_JOB_SECONDS": "1"})
    try:
        print(f"moto server at {url}")
        run(World(url))
        iam_checks(url)
        if proc is not None:
            lifecycle_checks()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
    print(f"moto_backup: {len(PASSED)} passed, {len(FAILED)} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
