"""IAM and KMS policy documents, as pure functions of one tenant's ARNs.

Nothing here creates resources: the components call these with resolved ARNs, and tests call them with
fabricated ones. Every statement names only the tenant's own resources; the one wildcard resource is
X-Ray's, whose trace APIs do not support resource-level permissions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
STREAM_READ_ACTIONS = [
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
]
KEY_USE_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:DescribeKey"]
# Administration without use: the account (and so IAM) can manage the key but not read data with it.
KEY_ADMIN_ACTIONS = [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
]
# The services that encrypt this tenant's data at rest with its key, on a tenant role's behalf.
ENCRYPTING_SERVICES = ("kinesis", "dynamodb", "sqs", "s3", "sns", "lambda", "firehose")


@dataclass(frozen=True)
class TenantArns:
    """The ARNs a tenant's policies refer to. All belong to the one tenant."""

    partition: str
    region: str
    account_id: str
    key: str
    stream: str
    table: str
    failure_queue: str
    function_log_group: str
    processor_role: str
    # Archive resources: None when the tenant's archive is disabled.
    archive_bucket: str | None = None
    firehose_log_group: str | None = None
    firehose_role: str | None = None
    glue_database: str | None = None
    glue_table: str | None = None
    consumer: str | None = None
    failure_bucket: str | None = None
    producer_roles: list[str] = field(default_factory=list)


def document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(sid: str, actions: list[str], resources: list[str], **extra) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def assume_role_policy(service: str, account_id: str) -> dict:
    """Trust only `service`, and only on behalf of this account (confused-deputy protection)."""
    return document(
        {
            "Sid": "TrustService",
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }
    )


def processor_policy(arns: TenantArns) -> dict:
    """What the shared handler and its event source mapping need, and nothing more."""
    statements = [
        _allow("ReadTenantStream", STREAM_READ_ACTIONS, [arns.stream]),
        _allow(
            "WriteTenantTable",
            ["dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"],
            [arns.table],
        ),
        # Poison pills from the handler, and failed batches from the mapping's on-failure destination.
        _allow("SendToFailureQueue", ["sqs:SendMessage", "sqs:GetQueueAttributes"], [arns.failure_queue]),
        _allow("UseTenantKey", ["kms:Decrypt", "kms:GenerateDataKey"], [arns.key]),
        _allow(
            "WriteOwnLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [arns.function_log_group, f"{arns.function_log_group}:*"],
        ),
        _allow("WriteTraces", XRAY_ACTIONS, ["*"]),
    ]
    if arns.consumer:
        statements.append(
            _allow(
                "ReadThroughFanOutConsumer",
                ["kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer"],
                [arns.consumer],
            )
        )
    if arns.failure_bucket:
        statements.append(
            _allow(
                "WriteFailedBatches",
                ["s3:PutObject", "s3:ListBucket"],
                [arns.failure_bucket, f"{arns.failure_bucket}/*"],
            )
        )
    return document(*statements)


def firehose_policy(arns: TenantArns) -> dict:
    """Firehose reads the stream, converts through the Glue table, writes the archive bucket."""
    glue_catalog = f"arn:{arns.partition}:glue:{arns.region}:{arns.account_id}:catalog"
    return document(
        _allow("ReadTenantStream", STREAM_READ_ACTIONS, [arns.stream]),
        _allow(
            "WriteArchive",
            [
                "s3:AbortMultipartUpload",
                "s3:GetBucketLocation",
                "s3:GetObject",
                "s3:ListBucket",
                "s3:ListBucketMultipartUploads",
                "s3:PutObject",
            ],
            [arns.archive_bucket, f"{arns.archive_bucket}/*"],
        ),
        _allow(
            "ReadArchiveSchema",
            ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
            [glue_catalog, arns.glue_database, arns.glue_table],
        ),
        _allow("UseTenantKey", ["kms:Decrypt", "kms:GenerateDataKey"], [arns.key]),
        _allow(
            "WriteDeliveryLogs",
            ["logs:PutLogEvents", "logs:CreateLogStream"],
            [arns.firehose_log_group, f"{arns.firehose_log_group}:*"],
        ),
    )


def key_policy(arns: TenantArns) -> dict:
    """The tenant key's policy: no `*` principal; use only by this tenant's roles and services."""
    root = f"arn:{arns.partition}:iam::{arns.account_id}:root"
    services_via = sorted(f"{service}.{arns.region}.amazonaws.com" for service in ENCRYPTING_SERVICES)
    tenant_roles = [role for role in (arns.processor_role, arns.firehose_role) if role] + arns.producer_roles
    log_groups = [group for group in (arns.function_log_group, arns.firehose_log_group) if group]
    return document(
        {
            "Sid": "AdministerKeyWithoutUsingIt",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": KEY_ADMIN_ACTIONS,
            "Resource": "*",  # in a key policy, "*" means this key
        },
        {
            "Sid": "TenantRolesUseKeyThroughItsServices",
            "Effect": "Allow",
            "Principal": {"AWS": tenant_roles},
            "Action": KEY_USE_ACTIONS,
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": services_via}},
        },
        {
            "Sid": "LogsEncryptTenantLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{arns.region}.amazonaws.com"},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
            "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
        },
        {
            "Sid": "AlarmsPublishToEncryptedTopic",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": arns.account_id}},
        },
    )


def tls_only_statement(resource_arns: list[str], principal: dict | str = "*") -> dict:
    """Deny any request that does not use TLS: the one `*` principal we allow is in a Deny."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": principal,
        "Action": "*",
        "Resource": resource_arns,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def bucket_policy(bucket_arn: str) -> dict:
    return document(tls_only_statement([bucket_arn, f"{bucket_arn}/*"]))


def queue_policy(queue_arn: str) -> dict:
    return document(tls_only_statement([queue_arn]))


def topic_policy(topic_arn: str, account_id: str) -> dict:
    return document(
        {
            "Sid": "AlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
        tls_only_statement([topic_arn]),
    )


def producer_policy(stream_arn: str) -> dict:
    """For producer roles named in the tenant file: write this stream, nothing else."""
    return document(
        _allow(
            "PutToTenantStream",
            ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStreamSummary"],
            [stream_arn],
        )
    )
