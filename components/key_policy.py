"""The tenant key's policy: who administers the key, and who uses it, through which service, on which resource.

Threat model (the README's "Permissions" section says the same for people):
- Data is read only through the services that store it, so every use of the key is pinned to one service
  (`kms:ViaService`) and, where the service sends one, to the tenant's own resource (`kms:EncryptionContext`).
- The pipeline's roles get exactly the key use their calls need; producers only encrypt through Kinesis;
  the tenant file's `access.readers` only decrypt, through DynamoDB, S3 and SQS.
- The account administers the key through IAM (AWS's default "Enable IAM policies" statement, which keeps
  the key manageable if a role is deleted), but administration is an explicit list: no `kms:CreateGrant`,
  no `kms:Encrypt`/`kms:Decrypt`. `kms:PutKeyPolicy` remains, as it must for `pulumi up` to update this
  policy: whoever IAM lets call it on this key can change who reads the tenant's data. The deployer policy
  (`tributary deployer-policy`) grants it only on keys tagged `managed-by: tributary`.
- The deployer uses the key only through the services that need it when a resource is created or updated
  (Lambda's environment, DynamoDB's table), for AWS resources only (`kms:GrantIsForAWSResource`).

Every rule cites the AWS page where it is written.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from components.policies import document

# https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
# lists what key administrators need; `kms:Create*` and `kms:Put*` there would include kms:CreateGrant
# (use of the key by anyone a grant names), so the actions are spelt out instead.
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)


@dataclass(frozen=True)
class KeyUse:
    """One principal's use of the key through one service, optionally pinned to its encryption context."""

    sid: str
    actions: tuple[str, ...]
    service: str  # the service whose requests carry this use: kms:ViaService = <service>.<region>.amazonaws.com
    context_key: str | None = None  # kms:EncryptionContext:<context_key> must be one of `resources`
    resources: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class KeyPolicyArns:
    """Everything the key policy names. All belong to one tenant; None when the tenant has no such part."""

    partition: str
    region: str
    account_id: str
    processor_role: str
    stream: str
    table_name: str
    function_log_group: str
    firehose_role: str | None = None
    firehose_log_group: str | None = None
    archive_bucket: str | None = None
    failure_bucket: str | None = None
    producer_roles: tuple[str, ...] = ()
    reader_roles: tuple[str, ...] = ()


KINESIS_KEYS = "https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html"
SQS_KEYS = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html"
S3_KEYS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html"
FIREHOSE_KEYS = "https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html"
LAMBDA_KEYS = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html"
DYNAMODB_KEYS = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html"


def _objects(bucket_arn: str) -> tuple[str, str]:
    """The encryption contexts S3 sends for a bucket's objects: the bucket (S3 Bucket Key) or the object."""
    return (bucket_arn, f"{bucket_arn}/*")


def table_use(sid: str, arns: KeyPolicyArns) -> KeyUse:
    """DynamoDB decrypts the table key with the caller's own kms:Decrypt (its encryption context names the
    table), then caches it per connection."""
    return KeyUse(sid, ("kms:Decrypt",), "dynamodb", "aws:dynamodb:tableName", (arns.table_name,), DYNAMODB_KEYS)


def processor_key_use(arns: KeyPolicyArns) -> list[KeyUse]:
    """The function's role: the mapping reads the stream; the handler and the mapping write failures."""
    uses = [
        KeyUse("ProcessorReadsStream", ("kms:Decrypt",), "kinesis", "aws:kinesis:arn", (arns.stream,), KINESIS_KEYS),
        table_use("ProcessorWritesTable", arns),
        # SQS documents no encryption context to pin this to the queue: kms:ViaService alone limits it.
        KeyUse("ProcessorSendsFailures", ("kms:Decrypt", "kms:GenerateDataKey"), "sqs", source=SQS_KEYS),
    ]
    if arns.failure_bucket:
        uses.append(
            KeyUse(
                "ProcessorWritesFailedBatches",
                ("kms:GenerateDataKey",),
                "s3",
                "aws:s3:arn",
                _objects(arns.failure_bucket),
                S3_KEYS,
            )
        )
    return uses


def firehose_key_use(arns: KeyPolicyArns) -> list[KeyUse]:
    """Firehose's role reads the stream and writes SSE-KMS objects (bucket key: the context is the bucket)."""
    return [
        KeyUse("FirehoseReadsStream", ("kms:Decrypt",), "kinesis", "aws:kinesis:arn", (arns.stream,), KINESIS_KEYS),
        KeyUse(
            "FirehoseWritesArchive",
            ("kms:Decrypt", "kms:GenerateDataKey"),
            "s3",
            "aws:s3:arn",
            _objects(arns.archive_bucket or ""),
            FIREHOSE_KEYS,
        ),
    ]


def producer_key_use(arns: KeyPolicyArns) -> list[KeyUse]:
    return [
        KeyUse(
            "ProducersWriteStream", ("kms:GenerateDataKey",), "kinesis", "aws:kinesis:arn", (arns.stream,), KINESIS_KEYS
        )
    ]


def reader_key_use(arns: KeyPolicyArns) -> list[KeyUse]:
    """Readers decrypt the table, objects (archive, failed batches) and failure-queue messages; nothing else."""
    buckets = tuple(arn for bucket in (arns.archive_bucket, arns.failure_bucket) if bucket for arn in _objects(bucket))
    uses = [
        table_use("ReadersReadTable", arns),
        KeyUse("ReadersReadFailureQueue", ("kms:Decrypt",), "sqs", source=SQS_KEYS),
    ]
    if buckets:
        uses.append(KeyUse("ReadersReadObjects", ("kms:Decrypt",), "s3", "aws:s3:arn", buckets, S3_KEYS))
    return uses


def deployer_key_use() -> list[KeyUse]:
    """What creating and updating the tenant's resources needs from the identity running `pulumi up`.

    Only these two resource types make the deployer's own credentials use the key; the others are encrypted
    by their service or by the roles (access/aws_rules.py holds the table per resource type, with sources).
    """
    return [
        KeyUse(
            "DeployerEncryptsFunctionEnvironment",
            ("kms:CreateGrant", "kms:Decrypt", "kms:Encrypt"),
            "lambda",
            source=LAMBDA_KEYS,
        ),
        # The minimum DynamoDB lists for the principal that selects a customer managed key for a table.
        KeyUse(
            "DeployerCreatesEncryptedTable",
            (
                "kms:CreateGrant",
                "kms:Decrypt",
                "kms:DescribeKey",
                "kms:Encrypt",
                "kms:GenerateDataKey*",
                "kms:ReEncrypt*",
            ),
            "dynamodb",
            source=DYNAMODB_KEYS,
        ),
    ]


def _via(service: str, region: str) -> str:
    return f"{service}.{region}.amazonaws.com"


def _use_statement(use: KeyUse, principals: list[str], region: str, account_id: str) -> dict:
    condition: dict[str, dict] = {"StringEquals": {"kms:ViaService": _via(use.service, region)}}
    if use.context_key:
        # S3's context is the object's ARN, or the bucket's with an S3 Bucket Key: hence patterns there.
        operator = "StringLike" if any("*" in resource for resource in use.resources) else "StringEquals"
        condition.setdefault(operator, {})[f"kms:EncryptionContext:{use.context_key}"] = list(use.resources)
    if use.actions == ("kms:CreateGrant",):
        # A grant only for the AWS resource being created, never one a person could use. KMS sends this key
        # only with grant requests, so the grant is a statement of its own.
        condition["Bool"] = {"kms:GrantIsForAWSResource": "true"}
    if len(principals) == 1 and principals[0].endswith(f":iam::{account_id}:root"):
        # The account delegates to IAM: only its own callers, whatever their IAM policies say of other keys.
        condition["StringEquals"]["kms:CallerAccount"] = account_id
    return {
        "Sid": use.sid,
        "Effect": "Allow",
        "Principal": {"AWS": principals if len(principals) > 1 else principals[0]},
        "Action": sorted(use.actions),
        "Resource": "*",  # in a key policy, "*" means this key
        "Condition": condition,
    }


def _split_grant(use: KeyUse) -> list[KeyUse]:
    """kms:CreateGrant apart from the other actions: only it carries kms:GrantIsForAWSResource."""
    if "kms:CreateGrant" not in use.actions or len(use.actions) == 1:
        return [use]
    others = tuple(action for action in use.actions if action != "kms:CreateGrant")
    return [replace(use, actions=others), replace(use, sid=f"{use.sid}Grant", actions=("kms:CreateGrant",))]


def key_policy(arns: KeyPolicyArns) -> dict:
    """The tenant key's policy: no `*` principal; every use through one service, on the tenant's resources."""
    root = f"arn:{arns.partition}:iam::{arns.account_id}:root"
    statements: list[dict] = [
        {
            "Sid": "AccountAdministersKey",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": list(KEY_ADMIN_ACTIONS),
            "Resource": "*",
        }
    ]
    holders: list[tuple[list[str], list[KeyUse]]] = [
        ([root], deployer_key_use()),
        ([arns.processor_role], processor_key_use(arns)),
    ]
    if arns.firehose_role:
        holders.append(([arns.firehose_role], firehose_key_use(arns)))
    if arns.producer_roles:
        holders.append((list(arns.producer_roles), producer_key_use(arns)))
    if arns.reader_roles:
        holders.append((list(arns.reader_roles), reader_key_use(arns)))
    for principals, uses in holders:
        statements += [
            _use_statement(part, principals, arns.region, arns.account_id) for use in uses for part in _split_grant(use)
        ]
    log_groups = [group for group in (arns.function_log_group, arns.firehose_log_group) if group]
    statements += [
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
        {
            "Sid": "LogsEncryptTenantLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{arns.region}.amazonaws.com"},
            "Action": ["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            "Resource": "*",
            "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
        },
        # https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
        {
            "Sid": "AlarmsPublishToEncryptedTopic",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        },
    ]
    return document(*statements)
