"""AWS Backup operations that moto 5.2.5 lacks, for dr-drill's wire tests.

Import this module and call ``install()`` before the moto server handles its
first request (``moto_server.py`` does).  It extends moto's own backup service
in place, so vaults made with CreateBackupVault are the same vaults:

* ``DrDrillBackupBackend`` subclasses ``moto.backup.models.BackupBackend`` and
  is swapped into ``moto.backup.models.backup_backends`` (the BackendDict), so
  every account/region gets one; it keeps recovery points and jobs per region.
* ``DrDrillBackupResponse`` subclasses ``moto.backup.responses.BackupResponse``
  with one method per added operation.  moto picks the operation from
  botocore's service model (method + requestUri), so the method names are the
  snake_case operation names.
* ``moto.backup.urls.url_paths`` gets the extra paths, and every path
  (moto's and ours) is pointed at ``DrDrillBackupResponse.dispatch``.
  ``create_backend_app`` reads that dict lazily, on the first backup request.

Operations added (shapes as botocore's ``backup`` 2018-11-15 model):
StartBackupJob, DescribeBackupJob, ListBackupJobs,
ListRecoveryPointsByBackupVault, DescribeRecoveryPoint, DeleteRecoveryPoint,
ListRecoveryPointsByResource, GetRecoveryPointRestoreMetadata, StartRestoreJob, DescribeRestoreJob,
ListRestoreJobs, StartCopyJob, DescribeCopyJob, ListCopyJobs,
DescribeRegionSettings, UpdateRegionSettings.
IAM's SimulatePrincipalPolicy (identity policies only; see its section).
Replaced: DescribeBackupVault (adds VaultType, VaultState, NumberOfRecoveryPoints
and the lock fields), CreateBackupVault (a default EncryptionKeyArn, as AWS
gives one), DeleteBackupVault (refuses a vault that holds recovery points).
moto's Put/DeleteBackupVaultLockConfiguration are used as they are.
DynamoDB's ListBackups honours ``BackupType`` as DynamoDB does (USER when
absent; ALL for USER and SYSTEM, never AWS_BACKUP): moto 5.2.5 ignores it and
lists every type.

Recovery point ARNs: always ``arn:aws:backup:<region>:<account>:recovery-point:<UUID>``
(upper-case UUID), for every resource type, as AWS does for DynamoDB tables
with advanced backup features (the default since 2021).  A DynamoDB point also
owns a real backup in moto's dynamodb backend of the vault's region (type
AWS_BACKUP); restores go through ``restore_table_from_backup``.  A copy to
another region clones that backup into the destination region's backend.

Region settings: each region starts as an account that opted in after
November 2021 (advanced DynamoDB backup features on by default):
ResourceTypeManagementPreference {DynamoDB: true, EFS: true} and every
ResourceTypeOptInPreference true except S3.  UpdateRegionSettings changes
them.  With DynamoDB management off in the source region, a cross-region copy
of a DynamoDB point fails, as AWS's does until the opt-in.

Jobs are time-based: each job takes ``DR_DRILL_MOTO_JOB_SECONDS`` seconds
(env, float, default 2; 0 = done at once).  Backup and copy jobs go
CREATED -> RUNNING -> COMPLETED, restore jobs PENDING -> RUNNING -> COMPLETED
(RestoreJobStatus has no CREATED); the first fifth of the time is
CREATED/PENDING, then RUNNING with PercentDone rising.  A job whose side effect
fails ends FAILED with a StatusMessage.  Side effects happen when the job
completes: a backup snapshots the table at start, a restore creates the table
at completion, a copy creates the destination point at completion.  A
background thread completes due jobs every 0.1 s, so the restored table
appears even if nobody polls the job.

Errors: HTTP 400 for every error, ResourceNotFoundException included (the
model gives no other status), header ``x-amzn-ErrorType: <Code>``, body
``{"__type": Code, "Code": Code, "Message": ...}``: botocore and the Rust SDK
both read the code from the header and the message from "Message".

Test-only endpoint (not AWS; unsigned, any host):

    POST /_dr_drill/seed-recovery-points
    {"vault": "bench-vault",             required; must exist unless create_vault
     "count": 10000,                     required, 1..1000000
     "region": "us-east-1",              default us-east-1
     "account_id": "123456789012",       default 123456789012
     "resource_arn": "arn:aws:dynamodb:us-east-1:123456789012:table/bench",
                                         default a table ARN named "seeded"
     "resource_type": "DynamoDB",        default derived from resource_arn
     "start": 1700000000 | "2024-01-01T00:00:00Z",
                                         creation time of the first point;
                                         default now - count * interval_seconds
     "interval_seconds": 3600,           default 3600; point i is created at
                                         start + i * interval_seconds
     "lifecycle": {"DeleteAfterDays": 35},  optional Lifecycle for every point
     "backup_size_bytes": 1024,          default 1024
     "status": "COMPLETED",              default COMPLETED; PARTIAL for a composite
                                         point missing nested points
     "create_vault": false,              create the vault if missing
     "continuous": false}                points of a continuous backup: their ARNs
                                         read recovery-point:continuous:ID
    -> 200 {"Created": N, "BackupVaultArn": ..., "FirstRecoveryPointArn": ...,
            "LastRecoveryPointArn": ..., "NumberOfRecoveryPoints": total}
    Errors: 400/404 with the same JSON error shape as above.
    The points are COMPLETED, have no side effects (no DynamoDB backup behind
    them: restoring one fails the restore job) and are listed in creation order.

    GET /_dr_drill/continuous-backups?region=us-east-1&account_id=123456789012
    -> 200 {"Stopped": [resource ARN, ...]}: the resources whose continuous
    backup stopped because its recovery point was deleted (botocore backup
    2018-11-15, DeleteRecoveryPoint).
    POST /_dr_drill/s3-archive-status {"bucket", "key", "status"}
        puts an INTELLIGENT_TIERING object in an archive tier
        (ARCHIVE_ACCESS | DEEP_ARCHIVE_ACCESS), which moto lacks.

    POST /_dr_drill/efs-mount
    {"file_system_id": "fs-0c4b7e2d91a35f862",   required
     "path": "/tmp/.../mount",                   required: a local directory
     "region": "us-east-1", "account_id": "123456789012"}   defaults as above
    -> 200 {"ok": true}
    Stands a local directory in for the filesystem's mount.  From then on a
    backup job of that filesystem reads the directory's files into memory
    (the snapshot, taken when the job starts; copies of the point share it;
    symbolic links are left out), and a restore job
    into that filesystem (newFileSystem=false) writes what EFS would when it
    completes: a recovery directory aws-backup-restore_<UTC time> at its
    root holding the items of itemsToRestore (a JSON list of absolute paths,
    any number within the 200 KB metadata limit, hierarchy kept), or the whole snapshot without it.  An item not
    in the snapshot fails the job.  Restores of unmapped filesystems, or to
    a new filesystem, write nothing.

    GET /_dr_drill/health -> 200 {"ok": true}

moto's own ``POST /moto-api/reset`` also clears everything added here.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from moto.backup import urls as backup_urls
from moto.backup.models import BackupBackend, Vault, backup_backends
from moto.backup.responses import BackupResponse
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.responses import DynamoHandler, DynamoResult
from moto.s3.responses import S3Response
import xmltodict

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_MAX_RESULTS = 1000
MAX_RESULTS_CAP = 1000
DEFAULT_IAM_ROLE = "arn:aws:iam::{account}:role/service-role/AWSBackupDefaultServiceRole"

# The most restore metadata StartRestoreJob takes, in bytes (200 KB).
RESTORE_METADATA_LIMIT = 200 * 1024

# Resource types whose points a lifecycle moves to cold storage.
COLD_STORAGE_TYPES = ("DynamoDB", "EFS")

# One lock for all state added here (moto's server is threaded).
LOCK = threading.RLock()

# (account, region, file system id) -> the local directory standing in for
# its mount.
EFS_MOUNTS: dict[tuple[str, str, str], str] = {}


def snapshot(mount: str) -> dict[str, bytes | None]:
    """The tree under `mount`, in memory: relative path -> bytes (None: a
    directory). Earlier recovery directories at the root are left out."""
    tree: dict[str, bytes | None] = {}
    for top, dirs, files in os.walk(mount):
        rel = os.path.relpath(top, mount)
        if rel == ".":
            dirs[:] = [d for d in dirs if not d.startswith("aws-backup-restore_")]
        else:
            tree[rel] = None
        for f in files:
            path = os.path.join(top, f)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as fh:
                    tree[os.path.normpath(os.path.join(rel, f))] = fh.read()
    return tree


def job_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get("DR_DRILL_MOTO_JOB_SECONDS", "2")))
    except ValueError:
        return 2.0


# --------------------------------------------------------------------- errors


class BackupApiError(JsonRESTError):
    """AWS Backup's restJson1 error: x-amzn-ErrorType header plus JSON body."""

    code = 400

    def __init__(self, error_type: str, message: str, status: int = 400):
        super().__init__(error_type, message)
        self.code = status
        self.description = json.dumps(
            {"__type": error_type, "Code": error_type, "Message": message}
        )


def not_found(message: str) -> BackupApiError:
    return BackupApiError("ResourceNotFoundException", message)


def invalid_param(message: str) -> BackupApiError:
    return BackupApiError("InvalidParameterValueException", message)


def table_encryption_refused(kind: str | None, key: str | None) -> str | None:
    """Why a DynamoDB restore's encryption metadata is refused, if it is.

    AWS Backup documents encryptionType Default (the DynamoDB-owned key) and
    KMS (with kmsMasterKeyArn; without it DynamoDB's AWS managed key) for a
    restored table (developer guide, "Restore a DynamoDB table", encryption
    settings; botocore dynamodb 2012-08-10, SSESpecification.KMSMasterKeyId).
    Any other type, or a key with Default, is refused, as in the sandbox's
    table_encryption_refused: our reading, not an error text AWS documents.
    """
    if not kind:
        return None
    if kind.lower() == "default":
        return f"Invalid restore metadata: encryptionType Default takes no kmsMasterKeyArn (got {key})" if key else None
    if kind.lower() == "kms":
        return None
    return f"Invalid restore metadata: encryptionType must be Default or KMS, not {kind}"


def invalid_request(message: str) -> BackupApiError:
    return BackupApiError("InvalidRequestException", message)


def missing_param(message: str) -> BackupApiError:
    return BackupApiError("MissingParameterValueException", message)


# -------------------------------------------------------------------- helpers

ARN_RE = re.compile(r"^arn:(?P<partition>[^:]+):(?P<service>[^:]+):(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.+)$")


def parse_arn(arn: str) -> dict[str, str] | None:
    m = ARN_RE.match(arn or "")
    return m.groupdict() if m else None


def resource_type_of(arn: str) -> str:
    p = parse_arn(arn)
    if not p:
        return "Unknown"
    service, res = p["service"], p["resource"]
    if service == "dynamodb":
        return "DynamoDB"
    if service == "elasticfilesystem":
        return "EFS"
    if service == "s3":
        return "S3"
    if service == "ec2":
        return "EBS" if res.startswith("volume/") else "EC2"
    if service == "rds":
        return "Aurora" if res.startswith("cluster:") else "RDS"
    if service == "fsx":
        return "FSx"
    if service == "storagegateway":
        return "Storage Gateway"
    if service == "docdb":
        return "DocumentDB"
    if service == "redshift":
        return "Redshift"
    return service


def resource_name_of(arn: str) -> str:
    p = parse_arn(arn)
    if not p:
        return arn
    res = p["resource"]
    if p["service"] == "dynamodb" and res.startswith("table/"):
        return res.split("/")[1]
    if p["service"] == "s3":
        return res.split("/")[0]
    if "/" in res:
        return res.split("/")[-1]
    if ":" in res:
        return res.split(":")[-1]
    return res


def parse_time(value: Any, what: str) -> float:
    """Epoch seconds (number or numeric string) or ISO 8601 -> epoch seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        if text.endswith("Z") or text.endswith("z"):
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return dt.timestamp()
    except ValueError:
        raise invalid_param(f"Invalid timestamp for {what}: {value}")


def now() -> float:
    """Current time, to the millisecond (AWS's precision; exact round trips)."""
    return round(time.time(), 3)


def ms(t: float) -> int:
    return int(round(t * 1000))


def new_id() -> str:
    return str(uuid.uuid4()).upper()


def drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"drdrill:{offset}".encode()).decode()


def decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        prefix, offset = text.split(":")
        if prefix != "drdrill" or int(offset) < 0:
            raise ValueError
        return int(offset)
    except Exception:
        raise invalid_param(f"Invalid NextToken: {token}")


def page(items: list[Any], max_results: Any, token: str | None) -> tuple[list[Any], str | None]:
    if max_results in (None, ""):
        n = DEFAULT_MAX_RESULTS
    else:
        try:
            n = int(max_results)
        except (TypeError, ValueError):
            raise invalid_param(f"Invalid MaxResults: {max_results}")
        if n < 1:
            raise invalid_param("MaxResults must be between 1 and 1000")
        n = min(n, MAX_RESULTS_CAP)
    start = decode_token(token)
    chunk = items[start : start + n]
    nxt = encode_token(start + n) if start + n < len(items) else None
    return chunk, nxt


def lifecycle_of(value: Any) -> dict[str, Any] | None:
    if not value:
        return None
    if not isinstance(value, dict):
        raise invalid_param("Lifecycle must be an object")
    out: dict[str, Any] = {}
    for key in ("MoveToColdStorageAfterDays", "DeleteAfterDays"):
        if value.get(key) is not None:
            out[key] = int(value[key])
    for key in ("OptInToArchiveForSupportedResources", "DeleteAfterEvent"):
        if value.get(key) is not None:
            out[key] = value[key]
    if (
        "MoveToColdStorageAfterDays" in out
        and "DeleteAfterDays" in out
        and out["DeleteAfterDays"] < out["MoveToColdStorageAfterDays"] + 90
    ):
        raise invalid_param(
            "DeleteAfterDays must be at least 90 days greater than MoveToColdStorageAfterDays"
        )
    return out


def backup_backend(account: str, region: str) -> "DrDrillBackupBackend":
    return backup_backends[account][region]  # type: ignore[return-value]


def dynamodb_backend(account: str, region: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[account][region]


# --------------------------------------------------------------------- models

DAY = 86400.0

# DescribeRegionSettings' ResourceTypeOptInPreference keys.
OPT_IN_TYPES = [
    "Aurora", "CloudFormation", "DocumentDB", "DynamoDB", "EBS", "EC2", "EFS",
    "FSx", "Neptune", "RDS", "Redshift", "S3", "SAP HANA on Amazon EC2",
    "Storage Gateway", "Timestream", "VirtualMachine",
]


class RecoveryPoint:
    def __init__(
        self,
        backend: "DrDrillBackupBackend",
        vault: Vault,
        resource_arn: str,
        resource_type: str | None = None,
        creation_date: float | None = None,
        status: str = "COMPLETED",
        lifecycle: dict[str, Any] | None = None,
        iam_role_arn: str | None = None,
        size: int = 0,
        source_vault_arn: str | None = None,
        resource_name: str | None = None,
        continuous: bool = False,
    ):
        self.region = backend.region_name
        self.account = backend.account_id
        # A continuous backup's point: no listing field marks it (botocore
        # backup 2018-11-15); AWS writes its ARN
        # arn:aws:backup:REGION:ACCOUNT:recovery-point:continuous:ID (the
        # developer guide's point-in-time restore examples, RDS
        # AwsBackupRecoveryPointArn).
        kind = "continuous:" if continuous else ""
        self.arn = f"arn:aws:backup:{self.region}:{self.account}:recovery-point:{kind}{new_id()}"
        self.continuous = continuous
        self.vault_name = vault.backup_vault_name
        self.vault_arn = vault.backup_vault_arn
        self.source_vault_arn = source_vault_arn
        self.resource_arn = resource_arn
        self.resource_type = resource_type or resource_type_of(resource_arn)
        self.resource_name = resource_name or resource_name_of(resource_arn)
        self.creation_date = creation_date if creation_date is not None else now()
        self.initiation_date = self.creation_date
        self.completion_date: float | None = self.creation_date if status == "COMPLETED" else None
        self.status = status
        self.status_message: str | None = None
        self.lifecycle = lifecycle
        self.iam_role_arn = iam_role_arn or DEFAULT_IAM_ROLE.format(account=self.account)
        self.size = size
        self.encryption_key_arn = vault.encryption_key_arn
        self.last_restore_time: float | None = None
        self.created_by: dict[str, Any] | None = None
        # Side-effect data: the moto dynamodb Backup behind a DynamoDB point.
        self.ddb_backup_arn: str | None = None
        self.source_table_name: str | None = None
        # For an EFS point of a mapped filesystem: its files at backup time.
        self.efs_snapshot: dict[str, bytes | None] | None = None

    def calculated_lifecycle(self) -> dict[str, float] | None:
        if not self.lifecycle:
            return None
        out = {}
        if self.lifecycle.get("MoveToColdStorageAfterDays") is not None:
            out["MoveToColdStorageAt"] = self.creation_date + DAY * self.lifecycle["MoveToColdStorageAfterDays"]
        if self.lifecycle.get("DeleteAfterDays") is not None:
            out["DeleteAt"] = self.creation_date + DAY * self.lifecycle["DeleteAfterDays"]
        return out or None

    def storage_class(self) -> str:
        # botocore backup 2018-11-15, Lifecycle: "Resource types that can
        # transition to cold storage are listed in the Feature availability by
        # resource table. Backup ignores this expression for other resource
        # types."  Of the types dr-drill restores, DynamoDB (advanced
        # features) and EFS can; S3 cannot.
        if self.resource_type not in COLD_STORAGE_TYPES:
            return "WARM"
        cl = self.calculated_lifecycle() or {}
        cold = cl.get("MoveToColdStorageAt")
        return "COLD" if cold is not None and time.time() >= cold else "WARM"

    def to_list_dict(self) -> dict[str, Any]:
        return drop_none(
            {
                "RecoveryPointArn": self.arn,
                "BackupVaultName": self.vault_name,
                "BackupVaultArn": self.vault_arn,
                "SourceBackupVaultArn": self.source_vault_arn,
                "ResourceArn": self.resource_arn,
                "ResourceType": self.resource_type,
                "ResourceName": self.resource_name,
                "CreatedBy": self.created_by,
                "IamRoleArn": self.iam_role_arn,
                "Status": self.status,
                "StatusMessage": self.status_message,
                "CreationDate": self.creation_date,
                "InitiationDate": self.initiation_date,
                "CompletionDate": self.completion_date,
                "BackupSizeInBytes": self.size,
                "CalculatedLifecycle": self.calculated_lifecycle(),
                "Lifecycle": self.lifecycle,
                "EncryptionKeyArn": self.encryption_key_arn,
                "IsEncrypted": True,
                "LastRestoreTime": self.last_restore_time,
                "IsParent": False,
                "VaultType": "BACKUP_VAULT",
            }
        )

    def to_resource_dict(self) -> dict[str, Any]:
        """RecoveryPointByResource (botocore backup 2018-11-15)."""
        return drop_none(
            {
                "RecoveryPointArn": self.arn,
                "CreationDate": self.creation_date,
                "Status": self.status,
                "StatusMessage": self.status_message,
                "EncryptionKeyArn": self.encryption_key_arn,
                "BackupSizeBytes": self.size,
                "BackupVaultName": self.vault_name,
                "IsParent": False,
                "ResourceName": self.resource_name,
                "VaultType": "BACKUP_VAULT",
            }
        )

    def to_describe_dict(self) -> dict[str, Any]:
        d = self.to_list_dict()
        d["StorageClass"] = self.storage_class()
        return d


class Job:
    """Time-based job: CREATED/PENDING for the first fifth, RUNNING, then done."""

    first_state = "CREATED"

    def __init__(self, backend: "DrDrillBackupBackend"):
        self.backend = backend
        self.account = backend.account_id
        self.region = backend.region_name
        self.job_id = new_id()
        self.creation_date = now()
        self.duration = job_seconds()
        self.completion_date: float | None = None
        self.final_state: str | None = None
        self.status_message: str | None = None

    def state(self) -> str:
        if self.final_state:
            return self.final_state
        elapsed = time.time() - self.creation_date
        return self.first_state if elapsed < self.duration / 5 else "RUNNING"

    def percent_done(self) -> str:
        if self.final_state == "COMPLETED":
            return "100.0"
        if self.final_state:
            return "0.0"
        if self.duration <= 0:
            return "0.0"
        elapsed = time.time() - self.creation_date
        return f"{min(99.0, max(0.0, 100.0 * elapsed / self.duration)):.1f}"

    def due(self, now: float) -> bool:
        return self.final_state is None and now >= self.creation_date + self.duration

    def finish(self) -> None:
        """Run the side effect once; set final_state and completion_date."""
        try:
            self.complete()
            self.final_state = "COMPLETED"
        except JobFailed as failure:
            self.final_state = "FAILED"
            self.status_message = str(failure)
            self.failed()
        except Exception as exc:  # a bug or a moto error: fail the job, say why
            self.final_state = "FAILED"
            self.status_message = f"{type(exc).__name__}: {exc}"
            self.failed()
        self.completion_date = self.creation_date + self.duration

    def complete(self) -> None:
        pass

    def failed(self) -> None:
        pass


class JobFailed(Exception):
    pass


class BackupJob(Job):
    def __init__(self, backend, vault: Vault, resource_arn: str, iam_role_arn: str,
                 lifecycle: dict[str, Any] | None, start_window: int | None,
                 complete_window: int | None, backup_options: dict[str, Any] | None):
        super().__init__(backend)
        self.vault_name = vault.backup_vault_name
        self.vault_arn = vault.backup_vault_arn
        self.encryption_key_arn = vault.encryption_key_arn
        self.resource_arn = resource_arn
        self.resource_type = resource_type_of(resource_arn)
        self.resource_name = resource_name_of(resource_arn)
        self.iam_role_arn = iam_role_arn
        self.lifecycle = lifecycle
        self.start_window = start_window or 480
        self.complete_window = complete_window or 10080
        self.backup_options = backup_options
        self.size = 0
        self.point: RecoveryPoint | None = None
        self.recovery_point_arn = ""
        self.start_error: str | None = None

    def complete(self) -> None:
        if self.start_error:
            raise JobFailed(self.start_error)
        if self.point is not None:
            self.point.status = "COMPLETED"
            self.point.completion_date = self.creation_date + self.duration

    def failed(self) -> None:
        if self.point is not None:
            self.backend.remove_point(self.point)

    def to_dict(self) -> dict[str, Any]:
        state = self.state()
        return drop_none(
            {
                "AccountId": self.account,
                "BackupJobId": self.job_id,
                "BackupVaultName": self.vault_name,
                "BackupVaultArn": self.vault_arn,
                "VaultType": "BACKUP_VAULT",
                "RecoveryPointArn": self.recovery_point_arn,
                "RecoveryPointLifecycle": self.lifecycle,
                "EncryptionKeyArn": self.encryption_key_arn,
                "IsEncrypted": True,
                "ResourceArn": self.resource_arn,
                "CreationDate": self.creation_date,
                "CompletionDate": self.completion_date,
                "State": state,
                "StatusMessage": self.status_message,
                "PercentDone": self.percent_done(),
                "BackupSizeInBytes": self.size,
                "BytesTransferred": self.size if state == "COMPLETED" else 0,
                "IamRoleArn": self.iam_role_arn,
                "ResourceType": self.resource_type,
                "ResourceName": self.resource_name,
                "ExpectedCompletionDate": self.creation_date + self.duration,
                "StartBy": self.creation_date + 60 * self.start_window,
                "BackupOptions": self.backup_options,
                "BackupType": "FULL",
                "IsParent": False,
                "InitiationDate": self.creation_date,
            }
        )


class RestoreJob(Job):
    first_state = "PENDING"

    def __init__(self, backend, point: RecoveryPoint, metadata: dict[str, str],
                 iam_role_arn: str | None, resource_type: str | None):
        super().__init__(backend)
        self.point = point
        self.metadata = metadata
        self.iam_role_arn = iam_role_arn
        self.resource_type = resource_type or point.resource_type
        self.created_resource_arn: str | None = None

    def complete(self) -> None:
        p = self.point
        if p.resource_type == "DynamoDB":
            target = self.metadata.get("targetTableName")
            ddb = dynamodb_backend(self.account, self.region)
            if not p.ddb_backup_arn or p.ddb_backup_arn not in ddb.backups:
                raise JobFailed(
                    f"Recovery point {p.arn} has no DynamoDB backup to restore from"
                )
            if target in ddb.tables:
                raise JobFailed(f"Table already exists: {target}")
            table = ddb.restore_table_from_backup(target_table_name=target, backup_arn=p.ddb_backup_arn)
            # The restored table is encrypted as the metadata asks: Default
            # (the DynamoDB-owned key) or KMS (kmsMasterKeyArn, else the AWS
            # managed key), AWS Backup developer guide, "Restore a DynamoDB
            # table", encryption settings.
            if (self.metadata.get("encryptionType") or "Default").lower() == "kms":
                table.sse_specification = {
                    "Enabled": True, "SSEType": "KMS",
                    "KMSMasterKeyId": self.metadata.get("kmsMasterKeyArn") or "alias/aws/dynamodb",
                }
            else:
                table.sse_specification = None
            self.created_resource_arn = table.table_arn
        elif p.resource_type == "EFS":
            if self.metadata.get("newFileSystem", "true").lower() == "false" and self.metadata.get("file-system-id"):
                fs = self.metadata["file-system-id"]
                self.restore_into_mount(fs)
            else:
                fs = "fs-" + uuid.uuid4().hex[:17]
            self.created_resource_arn = f"arn:aws:elasticfilesystem:{self.region}:{self.account}:file-system/{fs}"
        elif p.resource_type == "S3":
            bucket = self.metadata.get("DestinationBucketName") or p.resource_name
            self.created_resource_arn = f"arn:aws:s3:::{bucket}"
        else:
            self.created_resource_arn = p.resource_arn
        p.last_restore_time = self.creation_date + self.duration

    def restore_into_mount(self, fs: str) -> None:
        """EFS into an existing filesystem: a dated recovery directory at its root."""
        mount = EFS_MOUNTS.get((self.account, self.region, fs))
        snap = self.point.efs_snapshot
        if mount is None or snap is None:
            return
        raw = next((v for k, v in self.metadata.items() if k.lower() == "itemstorestore"), None)
        try:
            items = json.loads(raw) if raw else []
        except ValueError:
            raise JobFailed(f"itemsToRestore is not a JSON list of paths: {raw}")
        # AWS Backup developer guide, "Restore an Amazon EFS file system": "There
        # is no item limit when you use CLI to restore; however, there is a 200
        # KB limit on the length of the restore metadata" (checked in
        # start_restore_job).  The old "one to five strings" was the console's
        # and an old model's wording.
        if not isinstance(items, list) or \
                not all(isinstance(i, str) and i.startswith("/") for i in items):
            raise JobFailed(f"itemsToRestore must be a JSON list of absolute paths: {raw}")
        stamp = datetime.fromtimestamp(self.creation_date + self.duration, timezone.utc)
        dest = os.path.join(mount, "aws-backup-restore_" + stamp.strftime("%Y-%m-%dT%H-%M-%S-%f")[:-3] + "Z")
        wanted = [i.strip("/") for i in items]
        for item, rel in zip(items, wanted):
            if rel not in snap:
                raise JobFailed(f"The item {item} does not exist in recovery point {self.point.arn}")
        os.makedirs(dest)
        for rel, content in sorted(snap.items()):
            if wanted and not any(rel == w or rel.startswith(w + "/") for w in wanted):
                continue
            target = os.path.join(dest, rel)
            if content is None:
                os.makedirs(target, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as fh:
                    fh.write(content)

    def to_dict(self) -> dict[str, Any]:
        p = self.point
        return drop_none(
            {
                "AccountId": self.account,
                "RestoreJobId": self.job_id,
                "RecoveryPointArn": p.arn,
                "SourceResourceArn": p.resource_arn,
                "BackupVaultArn": p.vault_arn,
                "CreationDate": self.creation_date,
                "CompletionDate": self.completion_date,
                "Status": self.state(),
                "StatusMessage": self.status_message,
                "PercentDone": self.percent_done(),
                "BackupSizeInBytes": p.size,
                "IamRoleArn": self.iam_role_arn,
                "ExpectedCompletionTimeMinutes": max(1, int(self.duration // 60)),
                "CreatedResourceArn": self.created_resource_arn,
                "ResourceType": self.resource_type,
                "RecoveryPointCreationDate": p.creation_date,
                "IsParent": False,
            }
        )


def copy_lock_failure(dest_vault: Any, lifecycle: dict[str, Any] | None) -> str | None:
    """Why a copy job into a locked vault fails: the copy's retention
    (DeleteAfterDays; none, kept indefinitely) is outside the lock's
    bounds. botocore backup 2018-11-15,
    PutBackupVaultLockConfigurationInput.MinRetentionDays/MaxRetentionDays:
    "any backup or copy job to the vault must have a lifecycle policy with a
    retention period equal to or longer than the minimum retention period
    [...] then the vault fails that backup or copy job" (the same for the
    maximum); AWS Backup developer guide, "AWS Backup Vault Lock". AWS
    starts the job and fails it; its exact message is not documented. The
    sandbox's world/copy_lock.rs follows the same rule."""
    if not dest_vault.locked:
        return None
    days = (lifecycle or {}).get("DeleteAfterDays")
    if days is not None and days < 0:
        days = None
    low, high = dest_vault.min_retention_days, dest_vault.max_retention_days
    too_short = days is not None and low is not None and days < low
    too_long = high is not None and (days is None or days > high)
    if not (too_short or too_long):
        return None
    shown = "no retention end" if days is None else f"{days} days"
    return (
        f"Copy job failed: the copy's retention ({shown}) is outside the Vault Lock of backup vault "
        f"{dest_vault.backup_vault_name} (minimum {low} days, maximum {high} days); give the copy "
        "a Lifecycle within those bounds"
    )


class CopyJob(Job):
    def __init__(self, backend, point: RecoveryPoint, dest_vault_arn: str,
                 iam_role_arn: str, lifecycle: dict[str, Any] | None):
        super().__init__(backend)
        self.point = point
        self.dest_vault_arn = dest_vault_arn
        self.iam_role_arn = iam_role_arn
        self.lifecycle = lifecycle if lifecycle is not None else point.lifecycle
        self.dest_point_arn: str | None = None
        self.dest_key_arn: str | None = None

    def complete(self) -> None:
        p = self.point
        parsed = parse_arn(self.dest_vault_arn)
        if not parsed or parsed["service"] != "backup" or not parsed["resource"].startswith("backup-vault:"):
            raise JobFailed(f"Invalid destination backup vault ARN: {self.dest_vault_arn}")
        dest_name = parsed["resource"].split(":", 1)[1]
        dest_backend = backup_backend(parsed["account"], parsed["region"])
        dest_vault = dest_backend.vaults.get(dest_name)
        if dest_vault is None:
            raise JobFailed(f"Backup vault {dest_name} does not exist in {parsed['region']}")
        locked_out = copy_lock_failure(dest_vault, self.lifecycle)
        if locked_out:
            raise JobFailed(locked_out)
        if p.resource_type == "DynamoDB" and parsed["region"] != p.region \
                and not self.backend.management.get("DynamoDB", False):
            raise JobFailed(
                "Cross-Region copy of DynamoDB recovery points requires advanced DynamoDB backup "
                "features; opt in with UpdateRegionSettings ResourceTypeManagementPreference DynamoDB=true"
            )
        copy = RecoveryPoint(
            dest_backend,
            dest_vault,
            resource_arn=p.resource_arn,
            resource_type=p.resource_type,
            # A copy keeps its source's creation date (AWS Backup developer
            # guide, "Creating backup copies"; botocore backup 2018-11-15,
            # RecoveryPointByBackupVault.CreationDate), not the job's end.
            creation_date=p.creation_date,
            lifecycle=self.lifecycle,
            iam_role_arn=self.iam_role_arn,
            size=p.size,
            source_vault_arn=p.vault_arn,
            resource_name=p.resource_name,
        )
        copy.source_table_name = p.source_table_name
        copy.efs_snapshot = p.efs_snapshot
        if p.resource_type == "DynamoDB" and p.ddb_backup_arn:
            src_ddb = dynamodb_backend(p.account, p.region)
            src_backup = src_ddb.backups.get(p.ddb_backup_arn)
            if src_backup is None:
                raise JobFailed(f"The DynamoDB backup behind {p.arn} no longer exists")
            from moto.dynamodb.models.table import Backup as DdbBackup

            clone = DdbBackup(parsed["account"], parsed["region"], src_backup.name, src_backup.table, type_="AWS_BACKUP")
            dest_ddb = dynamodb_backend(parsed["account"], parsed["region"])
            dest_ddb.backups[clone.arn] = clone
            copy.ddb_backup_arn = clone.arn
        dest_backend.add_point(copy)
        self.dest_point_arn = copy.arn
        self.dest_key_arn = dest_vault.encryption_key_arn

    def to_dict(self) -> dict[str, Any]:
        p = self.point
        return drop_none(
            {
                "AccountId": self.account,
                "CopyJobId": self.job_id,
                "SourceBackupVaultArn": p.vault_arn,
                "SourceRecoveryPointArn": p.arn,
                "DestinationBackupVaultArn": self.dest_vault_arn,
                "DestinationVaultType": "BACKUP_VAULT",
                "DestinationRecoveryPointArn": self.dest_point_arn,
                "DestinationEncryptionKeyArn": self.dest_key_arn,
                "DestinationRecoveryPointLifecycle": self.lifecycle,
                "ResourceArn": p.resource_arn,
                "CreationDate": self.creation_date,
                "CompletionDate": self.completion_date,
                "State": self.state(),
                "StatusMessage": self.status_message,
                "BackupSizeInBytes": p.size,
                "IamRoleArn": self.iam_role_arn,
                "ResourceType": p.resource_type,
                "ResourceName": p.resource_name,
                "IsParent": False,
            }
        )


class DrDrillBackupBackend(BackupBackend):
    """moto's BackupBackend plus recovery points and jobs (per account/region)."""

    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        # vault name -> {recovery point arn -> point}, in creation order
        self.points: dict[str, dict[str, RecoveryPoint]] = {}
        self.backup_jobs: dict[str, BackupJob] = {}
        self.restore_jobs: dict[str, RestoreJob] = {}
        self.copy_jobs: dict[str, CopyJob] = {}
        self.opt_in: dict[str, bool] = {t: t != "S3" for t in OPT_IN_TYPES}
        self.management: dict[str, bool] = {"DynamoDB": True, "EFS": True}
        # Resources whose continuous backup stopped: its point was deleted.
        self.continuous_stopped: set[str] = set()

    @property
    def _url_module(self) -> Any:  # moto derives urls.py from the class's module
        return backup_urls

    # -- vaults

    def create_backup_vault(self, backup_vault_name, backup_vault_tags, encryption_key_arn, creator_request_id):  # type: ignore[override]
        if not encryption_key_arn:
            encryption_key_arn = f"arn:aws:kms:{self.region_name}:{self.account_id}:key/{uuid.uuid5(uuid.NAMESPACE_URL, 'dr-drill/' + self.region_name)}"
        return super().create_backup_vault(backup_vault_name, backup_vault_tags, encryption_key_arn, creator_request_id)

    def delete_backup_vault(self, backup_vault_name: str) -> None:
        if backup_vault_name not in self.vaults:
            raise not_found(f"Backup vault {backup_vault_name} does not exist")
        if self.points.get(backup_vault_name):
            raise invalid_request("Backup vault cannot be deleted because it contains recovery points.")
        self.points.pop(backup_vault_name, None)
        super().delete_backup_vault(backup_vault_name)

    def vault(self, name: str) -> Vault:
        v = self.vaults.get(name)
        if v is None:
            raise not_found(f"Backup vault {name} does not exist")
        return v

    # -- points

    def add_point(self, point: RecoveryPoint) -> None:
        self.points.setdefault(point.vault_name, {})[point.arn] = point
        self._count(point.vault_name)

    def remove_point(self, point: RecoveryPoint) -> None:
        self.points.get(point.vault_name, {}).pop(point.arn, None)
        self._count(point.vault_name)

    def _count(self, vault_name: str) -> None:
        v = self.vaults.get(vault_name)
        if v is not None:
            v.num_of_recovery_points = len(self.points.get(vault_name, {}))

    def point(self, vault_name: str, arn: str) -> RecoveryPoint:
        self.vault(vault_name)
        p = self.points.get(vault_name, {}).get(arn)
        if p is None:
            raise not_found(f"Recovery point {arn} does not exist in backup vault {vault_name}")
        return p

    def find_point(self, arn: str) -> RecoveryPoint:
        for pts in self.points.values():
            if arn in pts:
                return pts[arn]
        raise not_found(f"Recovery point {arn} does not exist")

    def table_encryption(self, p: RecoveryPoint) -> dict[str, str]:
        """The backed-up table's encryption as restore metadata keys."""
        ddb = dynamodb_backend(p.account, p.region)
        backup = ddb.backups.get(p.ddb_backup_arn) if p.ddb_backup_arn else None
        sse = backup.table.sse_specification if backup is not None else None
        if not sse or sse.get("Enabled") is not True:
            return {"encryptionType": "Default"}
        meta = {"encryptionType": "KMS"}
        if sse.get("KMSMasterKeyId"):
            meta["kmsMasterKeyArn"] = sse["KMSMasterKeyId"]
        return meta

    # -- jobs

    def jobs(self) -> list[Job]:
        return [*self.backup_jobs.values(), *self.restore_jobs.values(), *self.copy_jobs.values()]

    def advance(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        for job in self.jobs():
            if job.due(now):
                job.finish()


def advance_all() -> None:
    """Complete every due job in every account and region."""
    with LOCK:
        try:
            backends = list(backup_backends.iter_backends())
        except RuntimeError:  # a dict changed size under us; next tick
            return
        for _, _, backend in backends:
            if isinstance(backend, DrDrillBackupBackend):
                backend.advance()


# ------------------------------------------------------------------ responses


class DrDrillBackupResponse(BackupResponse):
    @property
    def b(self) -> DrDrillBackupBackend:
        return self.backup_backend  # type: ignore[return-value]

    @staticmethod
    def _ok(obj: Any) -> tuple[int, dict[str, str], str]:
        return 200, {"Content-Type": "application/json"}, json.dumps(obj)

    def _json_body(self) -> dict[str, Any]:
        if not self.body:
            return {}
        try:
            body = json.loads(self.body)
        except ValueError:
            raise invalid_param("The request body is not valid JSON")
        return body if isinstance(body, dict) else {}

    def _uri(self, name: str) -> str:
        value = self.uri_match.get(name)
        if value is None:
            raise missing_param(f"Missing required parameter {name}")
        return value

    def _query(self, name: str) -> str | None:
        values = self.querystring.get(name)
        if not values:
            return None
        return values[0] if isinstance(values, list) else values

    # -- vaults

    def describe_backup_vault(self) -> str:  # type: ignore[override]
        with LOCK:
            self.b.advance()
            v = self.b.vault(self._uri("backupVaultName"))
            return self._ok(
                drop_none(
                    {
                        "BackupVaultName": v.backup_vault_name,
                        "BackupVaultArn": v.backup_vault_arn,
                        "VaultType": "BACKUP_VAULT",
                        "VaultState": "AVAILABLE",
                        "EncryptionKeyArn": v.encryption_key_arn,
                        "CreationDate": v.creation_date,
                        "CreatorRequestId": v.creator_request_id,
                        "NumberOfRecoveryPoints": len(self.b.points.get(v.backup_vault_name, {})),
                        "Locked": bool(v.locked),
                        "MinRetentionDays": v.min_retention_days,
                        "MaxRetentionDays": v.max_retention_days,
                        "LockDate": v.lock_date,
                    }
                )
            )

    def delete_backup_vault(self) -> str:  # type: ignore[override]
        with LOCK:
            self.b.delete_backup_vault(self._uri("backupVaultName"))
        return 200, {"Content-Type": "application/json"}, ""

    # -- backup jobs

    def start_backup_job(self) -> str:
        body = self._json_body()
        for key in ("BackupVaultName", "ResourceArn", "IamRoleArn"):
            if not body.get(key):
                raise missing_param(f"Missing required parameter {key}")
        resource_arn = body["ResourceArn"]
        parsed = parse_arn(resource_arn)
        if not parsed:
            raise invalid_param(f"Invalid ARN: {resource_arn}")
        with LOCK:
            self.b.advance()
            vault = self.b.vault(body["BackupVaultName"])
            lifecycle = lifecycle_of(body.get("Lifecycle"))
            job = BackupJob(
                self.b, vault, resource_arn, body["IamRoleArn"], lifecycle,
                body.get("StartWindowMinutes"), body.get("CompleteWindowMinutes"),
                body.get("BackupOptions"),
            )
            point = RecoveryPoint(
                self.b, vault, resource_arn, creation_date=job.creation_date,
                status="CREATING", lifecycle=lifecycle, iam_role_arn=body["IamRoleArn"],
            )
            job.recovery_point_arn = point.arn
            if parsed["region"] and parsed["region"] != self.b.region_name:
                job.start_error = (
                    f"Resource {resource_arn} is not in {self.b.region_name}, the region of backup vault {vault.backup_vault_name}"
                )
            elif point.resource_type == "DynamoDB":
                try:
                    ddb = dynamodb_backend(parsed["account"] or self.b.account_id, self.b.region_name)
                    table_name = resource_name_of(resource_arn)
                    table = ddb.get_table(table_name)
                    backup = ddb.create_backup(table_name, f"awsbackup_{job.job_id}")
                    backup.type = "AWS_BACKUP"
                    point.ddb_backup_arn = backup.arn
                    point.source_table_name = table_name
                    try:
                        point.size = sum(item.size() for item in table.all_items())
                    except Exception:
                        point.size = 0
                except Exception:
                    job.start_error = f"Resource not found: {resource_arn}"
            elif point.resource_type == "EFS":
                mount = EFS_MOUNTS.get((parsed["account"] or self.b.account_id, self.b.region_name,
                                        resource_name_of(resource_arn)))
                if mount is not None:
                    point.efs_snapshot = snapshot(mount)
            if job.start_error is None:
                job.point = point
                job.size = point.size
                self.b.add_point(point)
            self.b.backup_jobs[job.job_id] = job
            self.b.advance()
            return self._ok(
                {
                    "BackupJobId": job.job_id,
                    "RecoveryPointArn": point.arn,
                    "CreationDate": job.creation_date,
                    "IsParent": False,
                }
            )

    def describe_backup_job(self) -> str:
        job_id = self._uri("backupJobId")
        with LOCK:
            self.b.advance()
            job = self.b.backup_jobs.get(job_id)
            if job is None:
                raise not_found(f"Backup job {job_id} does not exist")
            return self._ok(job.to_dict())

    def list_backup_jobs(self) -> str:
        with LOCK:
            self.b.advance()
            jobs = list(self.b.backup_jobs.values())
            filters = {
                "state": lambda j, v: j.state() == v,
                "resourceArn": lambda j, v: j.resource_arn == v,
                "backupVaultName": lambda j, v: j.vault_name == v,
                "resourceType": lambda j, v: j.resource_type == v,
            }
            jobs = self._filter_jobs(jobs, filters)
            chunk, nxt = page(jobs, self._query("maxResults"), self._query("nextToken"))
            return self._ok(drop_none({"BackupJobs": [j.to_dict() for j in chunk], "NextToken": nxt}))

    def _filter_jobs(self, jobs: list[Any], filters: dict[str, Any]) -> list[Any]:
        for name, pred in filters.items():
            value = self._query(name)
            if value is not None:
                jobs = [j for j in jobs if pred(j, value)]
        before, after = self._query("createdBefore"), self._query("createdAfter")
        if before is not None:
            t = ms(parse_time(before, "createdBefore"))
            jobs = [j for j in jobs if ms(j.creation_date) < t]
        if after is not None:
            t = ms(parse_time(after, "createdAfter"))
            jobs = [j for j in jobs if ms(j.creation_date) > t]
        return jobs

    # -- recovery points

    def list_recovery_points_by_backup_vault(self) -> str:
        vault_name = self._uri("backupVaultName")
        with LOCK:
            self.b.advance()
            self.b.vault(vault_name)
            points = list(self.b.points.get(vault_name, {}).values())
            rtype = self._query("resourceType")
            if rtype is not None:
                points = [p for p in points if p.resource_type == rtype]
            rarn = self._query("resourceArn")
            if rarn is not None:
                points = [p for p in points if p.resource_arn == rarn]
            before = self._query("createdBefore")
            if before is not None:
                t = ms(parse_time(before, "ByCreatedBefore"))
                points = [p for p in points if ms(p.creation_date) < t]
            after = self._query("createdAfter")
            if after is not None:
                t = ms(parse_time(after, "ByCreatedAfter"))
                points = [p for p in points if ms(p.creation_date) > t]
            plan = self._query("backupPlanId")
            if plan is not None:
                points = [p for p in points if (p.created_by or {}).get("BackupPlanId") == plan]
            if self._query("parentRecoveryPointArn") is not None:
                points = []  # no composite points here
            chunk, nxt = page(points, self._query("maxResults"), self._query("nextToken"))
            return self._ok(drop_none({"RecoveryPoints": [p.to_list_dict() for p in chunk], "NextToken": nxt}))

    def list_recovery_points_by_resource(self) -> str:
        """botocore backup 2018-11-15, ListRecoveryPointsByResource: GET
        /resources/{resourceArn}/recovery-points/, answers
        RecoveryPointByResource (BackupVaultName, no ResourceArn) for every
        vault of the region, as AWS does."""
        from urllib.parse import unquote

        resource_arn = unquote(self._uri("resourceArn"))
        with LOCK:
            self.b.advance()
            points = [
                p
                for vault_points in self.b.points.values()
                for p in vault_points.values()
                if p.resource_arn == resource_arn
            ]
            points.sort(key=lambda p: p.creation_date, reverse=True)
            chunk, nxt = page(points, self._query("maxResults"), self._query("nextToken"))
            return self._ok(drop_none({"RecoveryPoints": [p.to_resource_dict() for p in chunk], "NextToken": nxt}))

    def describe_recovery_point(self) -> str:
        with LOCK:
            self.b.advance()
            p = self.b.point(self._uri("backupVaultName"), self._uri("recoveryPointArn"))
            return self._ok(p.to_describe_dict())

    def delete_recovery_point(self) -> str:
        vault_name = self._uri("backupVaultName")
        arn = self._uri("recoveryPointArn")
        with LOCK:
            self.b.advance()
            vault = self.b.vault(vault_name)
            p = self.b.point(vault_name, arn)
            if p.status == "CREATING":
                raise BackupApiError(
                    "InvalidResourceStateException",
                    "AWS Backup is already performing an action on this recovery point. Try again later.",
                )
            # botocore backup 2018-11-15, PutBackupVaultLockConfiguration:
            # Vault Lock "prevent[s] attempts to delete any recovery point
            # stored in or created in a backup vault"; the Vault Lock guide:
            # no user, root included, deletes a point of a locked vault before
            # its retention ends.  A point goes only once
            # CalculatedLifecycle.DeleteAt has passed; one without a DeleteAt
            # stays while the lock does, whatever its age.
            if vault.locked:
                delete_at = (p.calculated_lifecycle() or {}).get("DeleteAt")
                if delete_at is None or time.time() < delete_at:
                    until = (
                        "it has no retention end, so it stays while the lock does"
                        if delete_at is None
                        else "its retention ends at "
                        + datetime.fromtimestamp(delete_at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                    )
                    raise invalid_request(
                        f"The recovery point cannot be deleted because backup vault {vault_name} is locked: {until}"
                    )
            # botocore backup 2018-11-15, DeleteRecoveryPoint: "If the user or
            # role is deleted or the permission within the role is removed, the
            # deletion will not be successful and will enter an EXPIRED state"
            # (with an HTTP 200).  A point backed up with a role named
            # ``deleted-*`` stands for one whose role was since deleted.
            if p.iam_role_arn.rsplit("/", 1)[-1].startswith("deleted-"):
                p.status = "EXPIRED"
                return 200, {"Content-Type": "application/json"}, ""
            self.b.remove_point(p)
            # botocore backup 2018-11-15, DeleteRecoveryPoint: "If the
            # recovery point ID belongs to a continuous backup, calling this
            # endpoint deletes the existing continuous backup and stops future
            # continuous backup."  (DisassociateRecoveryPoint would release it
            # to the source service instead; not modelled.)
            if p.continuous:
                self.b.continuous_stopped.add(p.resource_arn)
            if p.ddb_backup_arn:
                ddb = dynamodb_backend(p.account, p.region)
                ddb.backups.pop(p.ddb_backup_arn, None)
        return 200, {"Content-Type": "application/json"}, ""

    def get_recovery_point_restore_metadata(self) -> str:
        with LOCK:
            self.b.advance()
            p = self.b.point(self._uri("backupVaultName"), self._uri("recoveryPointArn"))
            if p.resource_type == "DynamoDB":
                # The source table's configuration when it was backed up
                # (botocore backup 2018-11-15,
                # GetRecoveryPointRestoreMetadataOutput.RestoreMetadata): its
                # own encryption, never the vault's key, which encrypts the
                # backup (DescribeRecoveryPointOutput.EncryptionKeyArn).  The
                # sandbox answers the same (src/cloud/sim/world/backup.rs).
                meta = {"targetTableName": p.source_table_name or p.resource_name}
                meta.update(self.b.table_encryption(p))
            elif p.resource_type == "EFS":
                meta = {
                    "file-system-id": p.resource_name,
                    "newFileSystem": "true",
                    "Encrypted": "false",
                    "PerformanceMode": "generalPurpose",
                    "CreationToken": p.arn.rsplit(":", 1)[1],
                }
            elif p.resource_type == "S3":
                meta = {
                    "DestinationBucketName": p.resource_name,
                    "NewBucket": "false",
                    "EncryptionType": "SSE-S3",
                }
            else:
                meta = {}
            return self._ok(
                {
                    "BackupVaultArn": p.vault_arn,
                    "RecoveryPointArn": p.arn,
                    "ResourceType": p.resource_type,
                    "RestoreMetadata": meta,
                }
            )

    # -- restore jobs

    def start_restore_job(self) -> str:
        body = self._json_body()
        arn = body.get("RecoveryPointArn")
        if not arn:
            raise missing_param("Missing required parameter RecoveryPointArn")
        metadata = body.get("Metadata")
        if not isinstance(metadata, dict):
            raise missing_param("Missing required parameter Metadata")
        # AWS Backup developer guide, "Restore an Amazon EFS file system": a
        # 200 KB limit on the length of the restore metadata.
        size = sum(len(str(k).encode()) + len(str(v).encode()) for k, v in metadata.items())
        if size > RESTORE_METADATA_LIMIT:
            raise invalid_param(
                f"Restore metadata is {size} bytes; AWS Backup takes at most {RESTORE_METADATA_LIMIT} (200 KB)"
            )
        with LOCK:
            self.b.advance()
            p = self.b.find_point(arn)
            if p.status != "COMPLETED":
                raise invalid_request(f"Recovery point {arn} is not in COMPLETED state (it is {p.status})")
            if p.resource_type == "DynamoDB" and not metadata.get("targetTableName"):
                raise invalid_param("Restore metadata must contain targetTableName for a DynamoDB recovery point")
            if p.resource_type == "DynamoDB":
                refused = table_encryption_refused(metadata.get("encryptionType"), metadata.get("kmsMasterKeyArn"))
                if refused:
                    raise invalid_param(refused)
            job = RestoreJob(self.b, p, {str(k): str(v) for k, v in metadata.items()},
                             body.get("IamRoleArn"), body.get("ResourceType"))
            self.b.restore_jobs[job.job_id] = job
            self.b.advance()
            return self._ok({"RestoreJobId": job.job_id})

    def describe_restore_job(self) -> str:
        job_id = self._uri("restoreJobId")
        with LOCK:
            self.b.advance()
            job = self.b.restore_jobs.get(job_id)
            if job is None:
                raise not_found(f"Restore job {job_id} does not exist")
            return self._ok(job.to_dict())

    def list_restore_jobs(self) -> str:
        with LOCK:
            self.b.advance()
            jobs = self._filter_jobs(
                list(self.b.restore_jobs.values()),
                {
                    "status": lambda j, v: j.state() == v,
                    "resourceType": lambda j, v: j.resource_type == v,
                },
            )
            chunk, nxt = page(jobs, self._query("maxResults"), self._query("nextToken"))
            return self._ok(drop_none({"RestoreJobs": [j.to_dict() for j in chunk], "NextToken": nxt}))

    # -- copy jobs

    def start_copy_job(self) -> str:
        body = self._json_body()
        for key in ("RecoveryPointArn", "SourceBackupVaultName", "DestinationBackupVaultArn", "IamRoleArn"):
            if not body.get(key):
                raise missing_param(f"Missing required parameter {key}")
        dest = parse_arn(body["DestinationBackupVaultArn"])
        if not dest or dest["service"] != "backup" or not dest["resource"].startswith("backup-vault:"):
            raise invalid_param(f"Invalid destination backup vault ARN: {body['DestinationBackupVaultArn']}")
        with LOCK:
            self.b.advance()
            p = self.b.point(body["SourceBackupVaultName"], body["RecoveryPointArn"])
            if p.status != "COMPLETED":
                raise invalid_request(f"Recovery point {p.arn} is not in COMPLETED state (it is {p.status})")
            if dest["region"] == self.b.region_name and dest["account"] == self.b.account_id \
                    and dest["resource"].split(":", 1)[1] == p.vault_name:
                raise invalid_param("The source and destination backup vaults must be different")
            job = CopyJob(self.b, p, body["DestinationBackupVaultArn"], body["IamRoleArn"],
                          lifecycle_of(body.get("Lifecycle")))
            self.b.copy_jobs[job.job_id] = job
            self.b.advance()
            return self._ok({"CopyJobId": job.job_id, "CreationDate": job.creation_date, "IsParent": False})

    def describe_copy_job(self) -> str:
        job_id = self._uri("copyJobId")
        with LOCK:
            self.b.advance()
            job = self.b.copy_jobs.get(job_id)
            if job is None:
                raise not_found(f"Copy job {job_id} does not exist")
            return self._ok({"CopyJob": job.to_dict()})

    def list_copy_jobs(self) -> str:
        with LOCK:
            self.b.advance()
            jobs = self._filter_jobs(
                list(self.b.copy_jobs.values()),
                {
                    "state": lambda j, v: j.state() == v,
                    "resourceArn": lambda j, v: j.point.resource_arn == v,
                    "resourceType": lambda j, v: j.point.resource_type == v,
                    "destinationVaultArn": lambda j, v: j.dest_vault_arn == v,
                    "sourceRecoveryPointArn": lambda j, v: j.point.arn == v,
                },
            )
            chunk, nxt = page(jobs, self._query("maxResults"), self._query("nextToken"))
            return self._ok(drop_none({"CopyJobs": [j.to_dict() for j in chunk], "NextToken": nxt}))


    # -- region settings

    def describe_region_settings(self) -> str:
        with LOCK:
            return self._ok(
                {
                    "ResourceTypeOptInPreference": dict(self.b.opt_in),
                    "ResourceTypeManagementPreference": dict(self.b.management),
                }
            )

    def update_region_settings(self) -> str:
        body = self._json_body()
        with LOCK:
            for key, target in (("ResourceTypeOptInPreference", self.b.opt_in),
                                ("ResourceTypeManagementPreference", self.b.management)):
                prefs = body.get(key) or {}
                if not isinstance(prefs, dict):
                    raise invalid_param(f"{key} must be a map of resource type to boolean")
                for rtype, value in prefs.items():
                    if not isinstance(value, bool):
                        raise invalid_param(f"{key}.{rtype} must be a boolean")
                    if key == "ResourceTypeManagementPreference" and rtype not in ("DynamoDB", "EFS"):
                        raise invalid_param(f"Full AWS Backup management is not available for {rtype}")
                    if key == "ResourceTypeOptInPreference" and rtype not in OPT_IN_TYPES:
                        raise invalid_param(f"Unknown resource type {rtype}")
                    target[rtype] = value
        return 200, {"Content-Type": "application/json"}, ""


# ------------------------------------------------------------ test endpoints


def seed_recovery_points(req: dict[str, Any]) -> dict[str, Any]:
    vault_name = req.get("vault")
    if not vault_name:
        raise missing_param("vault is required")
    try:
        count = int(req.get("count", 0))
    except (TypeError, ValueError):
        raise invalid_param("count must be an integer")
    if not 1 <= count <= 1_000_000:
        raise invalid_param("count must be between 1 and 1000000")
    region = req.get("region") or "us-east-1"
    account = str(req.get("account_id") or DEFAULT_ACCOUNT)
    resource_arn = req.get("resource_arn") or f"arn:aws:dynamodb:{region}:{account}:table/seeded"
    resource_type = req.get("resource_type") or resource_type_of(resource_arn)
    interval = float(req.get("interval_seconds", 3600))
    start = parse_time(req["start"], "start") if req.get("start") is not None else time.time() - count * interval
    lifecycle = lifecycle_of(req.get("lifecycle"))
    size = int(req.get("backup_size_bytes", 1024))
    # botocore backup 2018-11-15, RecoveryPointStatus.
    status = req.get("status") or "COMPLETED"
    if status not in ("COMPLETED", "PARTIAL", "EXPIRED", "AVAILABLE", "STOPPED", "CREATING", "DELETING"):
        raise invalid_param(f"status must be a RecoveryPointStatus, not {status}")
    with LOCK:
        backend = backup_backend(account, region)
        if vault_name not in backend.vaults:
            if req.get("create_vault"):
                backend.create_backup_vault(vault_name, {}, None, None)  # type: ignore[arg-type]
            else:
                raise not_found(f"Backup vault {vault_name} does not exist in {region}")
        vault = backend.vaults[vault_name]
        bucket = backend.points.setdefault(vault_name, {})
        first = last = None
        for i in range(count):
            p = RecoveryPoint(backend, vault, resource_arn, resource_type=resource_type,
                              creation_date=round(start + i * interval, 3), lifecycle=lifecycle, size=size,
                              status=status, continuous=bool(req.get("continuous")))
            bucket[p.arn] = p
            first = first or p.arn
            last = p.arn
        backend._count(vault_name)
        return {
            "Created": count,
            "BackupVaultArn": vault.backup_vault_arn,
            "FirstRecoveryPointArn": first,
            "LastRecoveryPointArn": last,
            "NumberOfRecoveryPoints": len(bucket),
        }


class DrDrillMiddleware:
    """WSGI wrapper: serves /_dr_drill/* itself, passes everything else to moto."""

    def __init__(self, app: Any):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/_dr_drill/"):
            return self.app(environ, start_response)
        status, body = 200, {}
        try:
            method = environ.get("REQUEST_METHOD", "GET")
            if path.rstrip("/") == "/_dr_drill/health":
                body = {"ok": True}
            elif path.rstrip("/") == "/_dr_drill/seed-recovery-points" and method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                raw = environ["wsgi.input"].read(length) if length else b""
                try:
                    req = json.loads(raw or b"{}")
                except ValueError:
                    raise invalid_param("The request body is not valid JSON")
                if not isinstance(req, dict):
                    raise invalid_param("The request body must be a JSON object")
                body = seed_recovery_points(req)
            elif path.rstrip("/") == "/_dr_drill/continuous-backups" and method == "GET":
                from urllib.parse import parse_qs

                query = parse_qs(environ.get("QUERY_STRING", ""))
                region = (query.get("region") or ["us-east-1"])[0]
                account = (query.get("account_id") or [DEFAULT_ACCOUNT])[0]
                with LOCK:
                    body = {"Stopped": sorted(backup_backend(account, region).continuous_stopped)}
            elif path.rstrip("/") == "/_dr_drill/s3-archive-status" and method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                raw = environ["wsgi.input"].read(length) if length else b""
                try:
                    req = json.loads(raw or b"{}")
                except ValueError:
                    raise invalid_param("The request body is not valid JSON")
                if not isinstance(req, dict) or req.get("status") not in ("ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"):
                    raise invalid_param("status must be ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS")
                with LOCK:
                    S3_ARCHIVE_STATUS[(str(req.get("bucket")), str(req.get("key")))] = req["status"]
                body = {"ok": True}
            elif path.rstrip("/") == "/_dr_drill/efs-mount" and method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                raw = environ["wsgi.input"].read(length) if length else b""
                try:
                    req = json.loads(raw or b"{}")
                except ValueError:
                    raise invalid_param("The request body is not valid JSON")
                if not isinstance(req, dict) or not req.get("file_system_id") or not req.get("path"):
                    raise missing_param("file_system_id and path are required")
                if not os.path.isdir(req["path"]):
                    raise invalid_param(f"{req['path']} is not a directory")
                key = (str(req.get("account_id") or DEFAULT_ACCOUNT), req.get("region") or "us-east-1",
                       req["file_system_id"])
                with LOCK:
                    EFS_MOUNTS[key] = os.path.abspath(req["path"])
                body = {"ok": True}
            else:
                status, body = 404, {"__type": "NotFound", "Code": "NotFound", "Message": f"No such endpoint: {method} {path}"}
        except BackupApiError as err:
            status, body = err.code, json.loads(err.description)
        except Exception as exc:
            status, body = 500, {"__type": "InternalFailure", "Code": "InternalFailure", "Message": f"{type(exc).__name__}: {exc}"}
        data = json.dumps(body).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        if status != 200:
            headers.append(("x-amzn-ErrorType", body.get("Code", "Error")))
        reasons = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}
        start_response(f"{status} {reasons.get(status, 'Error')}", headers)
        return [data]


# -------------------------------------------------------------------- install

EXTRA_PATHS = [
    # Both spellings: Start* PUTs have no trailing slash, List* GETs have one.
    "{0}/backup-jobs$",
    "{0}/backup-jobs/$",
    "{0}/backup-jobs/(?P<backupJobId>[^/]+)$",
    "{0}/restore-jobs$",
    "{0}/restore-jobs/$",
    "{0}/restore-jobs/(?P<restoreJobId>[^/]+)$",
    "{0}/copy-jobs$",
    "{0}/copy-jobs/$",
    "{0}/copy-jobs/(?P<copyJobId>[^/]+)$",
    "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points$",
    "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/$",
    "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/(?P<recoveryPointArn>.+)$",
    "{0}/account-settings$",
    "{0}/resources/(?P<resourceArn>.+)/recovery-points/$",
]

_installed = False


def list_backups_by_type(self: DynamoHandler) -> DynamoResult:
    """DynamoDB's ListBackups with its BackupType filter (default USER).

    botocore dynamodb 2012-08-10, ListBackupsInput.BackupType: "ALL - All
    types of on-demand backups (USER and SYSTEM)", and ListBackups lists
    backups that "weren't made with Amazon Web Services Backup". So ALL is
    USER and SYSTEM; AWS_BACKUP ones are listed only when asked for by name,
    and a table's AWS Backup points come from Backup's
    ListRecoveryPointsByResource.
    """
    body = self.body
    wanted = body.get("BackupType") or "USER"
    backups = self.dynamodb_backend.list_backups(body.get("TableName"))
    kinds = ("USER", "SYSTEM") if wanted == "ALL" else (wanted,)
    backups = [b for b in backups if b.type in kinds]
    return DynamoResult({"BackupSummaries": [b.summary for b in backups]})


def describe_continuous_backups_now(self: DynamoHandler) -> Any:
    """DescribeContinuousBackups whose LatestRestorableDateTime moves with
    the clock, as on AWS (moto freezes it when PITR is enabled).

    botocore dynamodb 2012-08-10, PointInTimeRecoveryDescription:
    "LatestRestorableDateTime is typically 5 minutes before the current
    time". The 5-minute lag is not modelled: a table enabled a moment ago
    would have an empty window.
    """
    table = self.dynamodb_backend.get_table(self.body["TableName"])
    pitr = table.continuous_backups.get("PointInTimeRecoveryDescription", {})
    if pitr.get("PointInTimeRecoveryStatus") == "ENABLED":
        pitr["LatestRestorableDateTime"] = now()
    return _describe_continuous_backups(self)


def restore_to_point_in_time_as_asked(self: DynamoHandler) -> DynamoResult:
    """RestoreTableToPointInTime whose RestoreSummary.RestoreDateTime is
    the time restored to (moto stamps the table's creation time).

    botocore dynamodb 2012-08-10, RestoreSummary.RestoreDateTime: "Point in
    time or source backup time"; with UseLatestRestorableTime, the source's
    LatestRestorableDateTime when the restore starts.
    """
    body = self.body
    asked = body.get("RestoreDateTime")
    result = _restore_to_point_in_time(self)
    table = self.dynamodb_backend.get_table(body.get("TargetTableName"))
    table.restore_date_time = parse_time(asked, "RestoreDateTime") if asked is not None else now()
    return DynamoResult(table.describe())


def key_get_with_retention(self: S3Response, query: dict[str, Any], key_name: str) -> Any:
    """GetObjectRetention, which moto 5.2.5 lacks (a GET ?retention is
    served as GetObject).

    S3 API reference, GetObjectRetention: the object's Mode and
    RetainUntilDate; an object without retention answers 404
    NoSuchObjectLockConfiguration, a bucket without Object Lock 400
    InvalidRequest.
    """
    if "retention" not in query:
        return _key_response_get(self, query, key_name)
    key, _ = self._get_key()
    if key.lock_mode and key.lock_until:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><Retention>'
            f"<Mode>{key.lock_mode}</Mode><RetainUntilDate>{key.lock_until}</RetainUntilDate>"
            "</Retention>"
        )
        return 200, {"Content-Type": "application/xml"}, body
    bucket = self.backend.get_bucket(self.bucket_name)
    if bucket.object_lock_enabled:
        code, status, message = "NoSuchObjectLockConfiguration", 404, "The specified object does not have a ObjectLock configuration"
    else:
        code, status, message = "InvalidRequest", 400, "Bucket is missing Object Lock Configuration"
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return status, {"Content-Type": "application/xml"}, body


# ---------------------------------------------------------- S3 archive tiers
# moto 5.2.5 ignores a restore's tier and has no Intelligent-Tiering archive
# tiers. These patches refuse what S3 refuses; nothing else changes.

# (bucket, key) -> ARCHIVE_ACCESS | DEEP_ARCHIVE_ACCESS, set through
# POST /_dr_drill/s3-archive-status for an INTELLIGENT_TIERING object.
S3_ARCHIVE_STATUS: dict[tuple[str, str], str] = {}


def s3_error(status: int, code: str, message: str) -> Any:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return status, {"Content-Type": "application/xml"}, body


def head_with_archive_status(self: S3Response, bucket_name: str, query: dict[str, Any], key_name: str,
                             headers: dict[str, Any]) -> Any:
    """HeadObject with `x-amz-archive-status` for an Intelligent-Tiering
    object in an archive tier (botocore s3 2006-03-01,
    HeadObjectOutput.ArchiveStatus: ARCHIVE_ACCESS | DEEP_ARCHIVE_ACCESS)."""
    status, out, body = _head_object(self, bucket_name, query, key_name, headers)
    tier = S3_ARCHIVE_STATUS.get((bucket_name, key_name))
    if tier and status == 200:
        out["x-amz-archive-status"] = tier
    return status, out, body


def key_post_with_tiers(self: S3Response, request: Any, body: bytes, bucket_name: str,
                        query: dict[str, Any], key_name: str) -> Any:
    """RestoreObject with S3's tier rules (botocore s3 2006-03-01,
    RestoreObject; S3 user guide, "Understanding archive retrieval
    options", "How S3 Intelligent-Tiering works"):
    - Expedited is "not available for objects stored in the S3 Glacier Deep
      Archive storage class or S3 Intelligent-Tiering Deep Archive tier"
      (the code is not documented; 400 InvalidArgument, as the sandbox);
    - an Intelligent-Tiering archive tier object is restored without Days
      ("not subject to restore expiry": 400 InvalidArgument with Days) and
      moves back to Frequent Access (moto restores at once).
    """
    if "restore" not in query:
        return _key_response_post(self, request, body, bucket_name, query, key_name)
    req = (xmltodict.parse(body) if body else {}).get("RestoreRequest") or {}
    tier = (req.get("GlacierJobParameters") or {}).get("Tier") or req.get("Tier") or "Standard"
    key = self.backend.get_object(bucket_name, key_name)
    archived = S3_ARCHIVE_STATUS.get((bucket_name, key_name))
    if key is not None and key.storage_class != "INTELLIGENT_TIERING":
        archived = None
    deep = key is not None and (key.storage_class == "DEEP_ARCHIVE" or archived == "DEEP_ARCHIVE_ACCESS")
    if deep and tier == "Expedited":
        return s3_error(400, "InvalidArgument",
                        "Expedited retrieval is not available for objects in the S3 Glacier Deep Archive "
                        "storage class or the S3 Intelligent-Tiering Deep Archive Access tier")
    if archived:
        if req.get("Days") is not None:
            return s3_error(400, "InvalidArgument",
                            "INTELLIGENT_TIERING objects are not subject to restore expiry. "
                            "Do not specify Days when restoring this object")
        S3_ARCHIVE_STATUS.pop((bucket_name, key_name), None)
        return 202, {}, ""
    return _key_response_post(self, request, body, bucket_name, query, key_name)


_head_object = S3Response.head_object
_key_response_post = S3Response._key_response_post

_key_response_get = S3Response._key_response_get
_describe_continuous_backups = DynamoHandler.describe_continuous_backups
_restore_to_point_in_time = DynamoHandler.restore_table_to_point_in_time



# --- IAM: SimulatePrincipalPolicy -------------------------------------------
#
# moto 5.2.5 has no policy simulator.  This one evaluates the identity
# policies attached to a user (its own, inline and managed, and its groups')
# or a role (inline and managed), as moto stores them: Effect Allow/Deny,
# Action/NotAction and Resource/NotResource with `*` and `?` wildcards,
# actions case-insensitive, resources case-sensitive; an explicit deny wins,
# no matching statement is an implicit deny (IAM user guide, "Policy
# evaluation logic"; botocore `iam` 2010-05-08, SimulatePrincipalPolicy,
# EvaluationResult, Statement).  Conditions: `StringEquals` and
# `StringLike` (with `*`/`?`) are evaluated on the request's ContextEntries
# (botocore `ContextEntry`: ContextKeyName, ContextKeyValues; key names
# case-insensitive, values case-sensitive; every key of a block must match
# one of its values, every block must hold: IAM user guide, "IAM JSON
# policy elements: Condition operators" and "Creating a condition with
# multiple keys or values").  A statement whose condition names a key the
# request did not give, or uses another operator, never matches (so such a
# conditional Allow reads as implicitDeny, a conditional Deny as no deny).
# Resource policies, permissions boundaries, SCPs and session policies are
# not modelled.  A role is found by its whole ARN, path included, as IAM
# does: `role/NAME` does not find `role/service-role/NAME` (NoSuchEntity).
# MatchedStatements name the policy (SourcePolicyId: a managed policy's name,
# `user_NAME_POLICY`/`role_NAME_POLICY`/`group_NAME_POLICY` for an inline
# one), its SourcePolicyType (user, group, role, user-managed, aws-managed),
# and the statement's start and end (line and column, 1-based, of its
# `{`...`}` in the document as stored).
#
# The caller needs iam:SimulatePrincipalPolicy itself when moto knows it (a
# user whose access key moto issued): otherwise AccessDenied (HTTP 403),
# as IAM answers.  An unknown key (the tests' default one) acts as root.

from moto.core.exceptions import _RESTError  # noqa: E402
from moto.iam.exceptions import NotFoundException  # noqa: E402
from moto.iam.models import iam_backends  # noqa: E402
from moto.iam.responses import IamResponse  # noqa: E402
from moto.core.responses import ActionResult  # noqa: E402


class IamAccessDenied(_RESTError):
    code = 403

    def __init__(self, message: str):
        super().__init__("AccessDenied", message)


def wildcard_match(pattern: str, value: str, fold: bool) -> bool:
    """IAM's `*` (any run) and `?` (one character); nothing else is special."""
    if fold:
        pattern, value = pattern.lower(), value.lower()
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, re.S) is not None


def as_list(v: Any) -> list[str]:
    if v is None:
        return []
    return [v] if isinstance(v, str) else [x for x in v if isinstance(x, str)]


def statement_spans(document: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where each object of the `Statement` array (or the one object) starts
    and ends, as (line, column), 1-based; [] when the text cannot be read."""
    try:
        at = document.index('"Statement"')
        at = document.index(":", at) + 1
    except ValueError:
        return []
    while at < len(document) and document[at].isspace():
        at += 1
    spans: list[tuple[int, int]] = []
    depth, start, in_str, esc = 0, None, False, False
    single = at < len(document) and document[at] == "{"
    for i in range(at, len(document)):
        c = document[i]
        if in_str:
            esc = (not esc) and c == "\\"
            if c == '"' and not esc:
                in_str = False
            continue
        if c == '"':
            in_str = True
        elif c == "{":
            if depth == (0 if single else 1) and start is None:
                start = i
            depth += 1
        elif c == "[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if c == "}" and start is not None and depth == (0 if single else 1):
                spans.append((start, i))
                start = None
            if depth <= 0:
                break

    def pos(i: int) -> tuple[int, int]:
        line = document.count("\n", 0, i) + 1
        return line, i - (document.rfind("\n", 0, i) + 1) + 1

    return [(pos(a), pos(b + 1)) for a, b in spans]


def principal_policies(backend: Any, arn: str) -> list[tuple[str, str, str]]:
    """(SourcePolicyId, SourcePolicyType, document) of every identity policy
    of the user or role `arn`."""
    kind_name = arn.split(":", 5)[-1]
    kind, _, path_name = kind_name.partition("/")
    name = path_name.rsplit("/", 1)[-1]
    out: list[tuple[str, str, str]] = []

    def managed(entity: Any) -> None:
        for policy in entity.managed_policies.values():
            version = next((v for v in policy.versions if v.version_id == policy.default_version_id), None)
            kind = "aws-managed" if ":aws:policy/" in policy.arn else "user-managed"
            out.append((policy.name, kind, version.document if version else "{}"))

    if kind == "user":
        user = backend.get_user(name)  # NoSuchEntity when absent
        for pname, doc in user.policies.items():
            out.append((f"user_{name}_{pname}", "user", doc))
        managed(user)
        for group in backend.get_groups_for_user(name):
            for pname, doc in group.policies.items():
                out.append((f"group_{group.name}_{pname}", "group", doc))
            managed(group)
    elif kind == "role":
        role = next((r for r in backend.roles.values() if r.arn == arn), None)
        if role is None:
            raise NotFoundException(f"The role with name {name} cannot be found.")
        for pname, doc in role.policies.items():
            out.append((f"role_{name}_{pname}", "role", doc))
        managed(role)
    else:
        raise NotFoundException(f"PolicySourceArn {arn} is not a user or a role")
    return out


def condition_holds(condition: Any, context: dict[str, list[str]]) -> bool:
    """Whether a statement's Condition holds in `context` (condition key,
    lower-cased, to its values).  Only StringEquals and StringLike."""
    if not isinstance(condition, dict):
        return False
    for operator, block in condition.items():
        if operator not in ("StringEquals", "StringLike") or not isinstance(block, dict):
            return False
        for key, wanted in block.items():
            given = context.get(key.lower())
            if not given:
                return False
            if operator == "StringEquals":
                ok = any(v == w for v in given for w in as_list(wanted))
            else:
                ok = any(wildcard_match(w, v, False) for v in given for w in as_list(wanted))
            if not ok:
                return False
    return True


def context_entries(params: Any) -> dict[str, list[str]]:
    """The request's ContextEntries as condition key (lower-cased) to values."""
    out: dict[str, list[str]] = {}
    for entry in params if isinstance(params, list) else []:
        if not isinstance(entry, dict):
            continue
        name = entry.get("ContextKeyName")
        values = entry.get("ContextKeyValues")
        if isinstance(name, str):
            out.setdefault(name.lower(), []).extend(as_list(values))
    return out


def evaluate(policies: list[tuple[str, str, str]], action: str, resource: str,
             context: dict[str, list[str]] | None = None) -> tuple[str, list[dict[str, Any]]]:
    """(EvalDecision, MatchedStatements) for one action on one resource, in
    the request context `context`."""
    allows: list[dict[str, Any]] = []
    denies: list[dict[str, Any]] = []
    for policy_id, policy_type, document in policies:
        try:
            doc = json.loads(document) if isinstance(document, str) else document
        except ValueError:
            continue
        statements = doc.get("Statement", [])
        if isinstance(statements, dict):
            statements = [statements]
        spans = statement_spans(document) if isinstance(document, str) else []
        for i, st in enumerate(statements):
            if not isinstance(st, dict):
                continue
            if "Condition" in st and not condition_holds(st["Condition"], context or {}):
                continue  # a condition not met, or one not evaluated here
            if "Action" in st:
                acts = any(wildcard_match(a, action, True) for a in as_list(st["Action"]))
            else:
                acts = not any(wildcard_match(a, action, True) for a in as_list(st.get("NotAction")))
            if "Resource" in st:
                res = any(wildcard_match(r, resource, False) for r in as_list(st["Resource"]))
            else:
                res = not any(wildcard_match(r, resource, False) for r in as_list(st.get("NotResource")))
            if not (acts and res):
                continue
            matched: dict[str, Any] = {"SourcePolicyId": policy_id, "SourcePolicyType": policy_type}
            if i < len(spans):
                (l1, c1), (l2, c2) = spans[i]
                matched["StartPosition"] = {"Line": l1, "Column": c1}
                matched["EndPosition"] = {"Line": l2, "Column": c2}
            (denies if st.get("Effect") == "Deny" else allows if st.get("Effect") == "Allow" else []).append(matched)
    if denies:
        return "explicitDeny", denies
    if allows:
        return "allowed", allows
    return "implicitDeny", []


def simulate_principal_policy(self: IamResponse) -> ActionResult:
    backend = self.backend
    caller = backend.get_user_from_access_key_id(self.get_access_key())
    source = self._get_param("PolicySourceArn") or ""
    if caller is not None:
        decision, _ = evaluate(principal_policies(backend, caller.arn), "iam:SimulatePrincipalPolicy", source)
        if decision != "allowed":
            raise IamAccessDenied(
                f"User: {caller.arn} is not authorized to perform: iam:SimulatePrincipalPolicy on resource: {source}"
            )
    policies = principal_policies(backend, source)
    actions = as_list(self._get_param("ActionNames", []))
    resources = as_list(self._get_param("ResourceArns", [])) or ["*"]
    context = context_entries(self._get_param("ContextEntries", []))
    results = []
    for action in actions:
        for resource in resources:
            decision, matched = evaluate(policies, action, resource, context)
            results.append({
                "EvalActionName": action,
                "EvalResourceName": resource,
                "EvalDecision": decision,
                "MatchedStatements": matched,
                "MissingContextValues": [],
            })
    max_items = int(self._get_param("MaxItems") or 100)
    start = decode_token(self._get_param("Marker"))
    page_items = results[start:start + max_items]
    truncated = start + max_items < len(results)
    out: dict[str, Any] = {"EvaluationResults": page_items, "IsTruncated": truncated}
    if truncated:
        out["Marker"] = encode_token(start + max_items)
    return ActionResult(out)

def install(ticker: bool = True) -> None:
    """Extend moto's backup service; idempotent.  Call before serving."""
    global _installed
    if _installed:
        return
    _installed = True
    paths = backup_urls.url_paths
    for key in list(paths):
        paths[key] = DrDrillBackupResponse.dispatch
    for key in EXTRA_PATHS:
        paths[key] = DrDrillBackupResponse.dispatch
    backup_urls.response = DrDrillBackupResponse()
    DynamoHandler.list_backups = list_backups_by_type
    DynamoHandler.describe_continuous_backups = describe_continuous_backups_now
    S3Response._key_response_get = key_get_with_retention
    S3Response.head_object = head_with_archive_status
    S3Response._key_response_post = key_post_with_tiers
    DynamoHandler.restore_table_to_point_in_time = restore_to_point_in_time_as_asked
    IamResponse.simulate_principal_policy = simulate_principal_policy
    # New account/region backends are made from this class from now on.
    backup_backends.backend = DrDrillBackupBackend
    for account_backend in backup_backends.values():
        account_backend.backend = DrDrillBackupBackend
        for region in list(account_backend.keys()):
            if not isinstance(account_backend[region], DrDrillBackupBackend):
                del account_backend[region]
    if ticker:
        def tick() -> None:
            while True:
                time.sleep(0.1)
                try:
                    advance_all()
                except Exception:
                    pass

        threading.Thread(target=tick, name="dr-drill-backup-jobs", daemon=True).start()
