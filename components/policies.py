"""IAM and KMS policy documents, as pure functions of one tenant's ARNs.

Nothing here creates resources: the components call these with resolved ARNs, and tests call them with
fabricated ones. Every statement names only the tenant's own resources; the one wildcard resource is
X-Ray's, whose trace APIs do not support resource-level permissions.
"""

from __future__ import annotations

from dataclasses import dataclass

XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
STREAM_READ_ACTIONS = [
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
]
# Firehose's "Controlling access" page lists these for a Kinesis source (no DescribeStreamSummary).
FIREHOSE_STREAM_READ_ACTIONS = [
    "kinesis:DescribeStream",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
]


@dataclass(frozen=True)
class ProcessorArns:
    """What the function's role names: the handler's and its event source mapping's resources."""

    stream: str
    table: str
    failure_queue: str
    function_log_group: str
    table_actions: tuple[str, ...]
    consumer: str | None = None
    failure_bucket: str | None = None


@dataclass(frozen=True)
class FirehoseArns:
    """What Firehose's role names: the stream it reads, the archive it writes, the schema it converts with."""

    partition: str
    region: str
    account_id: str
    stream: str
    archive_bucket: str
    firehose_log_group: str
    glue_database: str
    glue_table: str


@dataclass(frozen=True)
class ReaderArns:
    """What a tenant's reader may read: the table, the failure queue, the archive and its catalog."""

    partition: str
    region: str
    account_id: str
    key: str
    table: str
    failure_queue: str
    archive_bucket: str | None = None
    failure_bucket: str | None = None
    glue_database: str | None = None
    glue_table: str | None = None


def document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(sid: str, actions: list[str], resources: list[str], **extra) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources, **extra}


# Each service's documented trust: Firehose's "Controlling access" page conditions the trust on
# sts:ExternalId = the account id (https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html);
# Lambda's execution-role page documents a trust without conditions, a function being given only a role of
# its own account, through iam:PassRole (https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html).


def assume_role_policy(service: str, account_id: str) -> dict:
    """Trust only `service`, with the condition its own documentation gives for that trust."""
    statement: dict = {
        "Sid": "TrustService",
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if service == "firehose.amazonaws.com":
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": account_id}}
    return document(statement)


def processor_policy(arns: ProcessorArns) -> dict:
    """What the shared handler and its event source mapping call, and nothing more.

    The table actions are the write mode's own (runtime/modes/<mode>.py: `table_actions`). The key is used only
    through the services (key_policy.py), so the role's own KMS grant names the key and nothing else.
    """
    statements = [
        _allow("ReadTenantStream", STREAM_READ_ACTIONS, [arns.stream]),
        _allow("WriteTenantTable", sorted(arns.table_actions), [arns.table]),
        # Poison pills from the handler, and failed batches from the mapping's on-failure destination:
        # https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
        _allow("SendToFailureQueue", ["sqs:SendMessage"], [arns.failure_queue]),
        # Log streams are `<group>:log-stream:<name>`: the group's `:*` covers them and nothing else.
        _allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{arns.function_log_group}:*"]),
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
        statements.append(_allow("WriteFailedBatches", ["s3:PutObject"], [f"{arns.failure_bucket}/*"]))
    return document(*statements)


def firehose_policy(arns: FirehoseArns) -> dict:
    """Firehose reads the stream, converts through the Glue table, writes the archive bucket.

    The actions are those of Firehose's "Controlling access" page for a Kinesis source, an S3 destination
    and record format conversion; the key is granted in the key policy (through Kinesis and S3 only).
    """
    glue_catalog = f"arn:{arns.partition}:glue:{arns.region}:{arns.account_id}:catalog"
    return document(
        _allow("ReadTenantStream", FIREHOSE_STREAM_READ_ACTIONS, [arns.stream]),
        # The page grants these on the bucket and its objects alike; each is split to the resource type it
        # acts on (Service Authorization Reference, Amazon S3), so no pair is granted that cannot be used.
        _allow(
            "ListArchiveBucket",
            ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            [arns.archive_bucket],
        ),
        _allow(
            "WriteArchiveObjects",
            ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
            [f"{arns.archive_bucket}/*"],
        ),
        _allow(
            "ReadArchiveSchema",
            ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
            [glue_catalog, arns.glue_database, arns.glue_table],
        ),
        _allow(
            "WriteDeliveryLogs",
            ["logs:PutLogEvents"],
            [f"{arns.firehose_log_group}:*"],
        ),
    )


def reader_policy(arns: ReaderArns) -> dict:
    """For the tenant's reader roles: read the table, the archive (and its catalog), and failed records.

    Read only: no write, no delete. Decrypting goes through S3 and SQS (key_policy.py: reader_key_use).
    """
    statements = [
        _allow(
            "ReadTable",
            ["dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"],
            [arns.table],
        ),
        _allow("ReadFailureQueue", ["sqs:GetQueueAttributes", "sqs:ReceiveMessage"], [arns.failure_queue]),
        _allow("DecryptThroughServices", ["kms:Decrypt"], [arns.key]),
    ]
    buckets = [bucket for bucket in (arns.archive_bucket, arns.failure_bucket) if bucket]
    if buckets:
        statements.append(
            _allow("ReadObjects", ["s3:GetObject", "s3:ListBucket"], [*buckets, *(f"{b}/*" for b in buckets)])
        )
    if arns.glue_database and arns.glue_table:
        glue_catalog = f"arn:{arns.partition}:glue:{arns.region}:{arns.account_id}:catalog"
        statements.append(
            _allow(
                "ReadArchiveCatalog",
                ["glue:GetDatabase", "glue:GetPartitions", "glue:GetTable"],
                [glue_catalog, arns.glue_database, arns.glue_table],
            )
        )
    return document(*statements)


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


def producer_policy(stream_arn: str, key_arn: str) -> dict:
    """For producer roles named in the tenant file: write this stream, nothing else.

    Producers to an encrypted stream need kms:GenerateDataKey on its key (Kinesis's "Permissions to use
    user-generated KMS keys"); the key policy limits that to requests through Kinesis.
    """
    return document(
        _allow(
            "PutToTenantStream",
            ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStreamSummary"],
            [stream_arn],
        ),
        _allow("EncryptThroughKinesis", ["kms:GenerateDataKey"], [key_arn]),
    )
