"""The KMS calls AWS makes when someone uses a resource encrypted with the tenant key, as cited data.

- `DATA_PLANE_KEY_USE`: the KMS calls a service makes with the caller's own permissions when the caller uses a
  resource encrypted with the tenant key (a producer's PutRecord, the mapping's GetRecords, a SendMessage...).
- `SERVICE_PRINCIPAL_KEY_USE`: services that use the key as themselves, so the key policy must name them.

Where a page is silent or ambiguous the entry says so in its `note`; nothing here is inferred without saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

from access.aws_rules.pages import (
    ATHENA_KEYS,
    DYNAMODB_KEYS,
    KINESIS_KEYS,
    KMS_CONDITION_KEYS,
    LAMBDA_ENV_KEYS,
    LOGS_KEYS,
    S3_KEYS,
    S3_MULTIPART_KEYS,
    SNS_KEYS,
    SQS_KEYS,
)


@dataclass(frozen=True)
class KeyUse:
    """KMS calls a service makes with the caller's permissions when the caller uses a resource encrypted
    with a customer managed key."""

    actions: tuple[str, ...]  # e.g. ("kms:GenerateDataKey",)
    via_service: str | None  # "kinesis" -> kms:ViaService = kinesis.<region>.amazonaws.com; None if the
    # principal itself calls KMS (service principals)
    encryption_context_key: str | None  # e.g. "aws:kinesis:arn" (value: the resource ARN), or None
    source: str  # URL of the AWS page that states it
    note: str = ""


# -- Data plane: the caller's own key use, per IAM action on an encrypted resource. ---------------------------------

_KINESIS_PRODUCER = KeyUse(
    ("kms:GenerateDataKey",),
    "kinesis",
    "aws:kinesis:arn",
    KINESIS_KEYS,
    '"Your Kinesis stream producers must have the kms:GenerateDataKey permission." Kinesis passes the stream ARN '
    "as aws:kinesis:arn in all its KMS calls.",
)
_KINESIS_CONSUMER = KeyUse(
    ("kms:Decrypt",),
    "kinesis",
    "aws:kinesis:arn",
    KINESIS_KEYS,
    '"Your Kinesis stream consumers must have the kms:Decrypt permission." Lambda consumes with a role: "Make '
    'sure to add the kms:Decrypt permission to the roles that these consumers use" -- the event source mapping '
    "reads with the function's execution role. The Firehose pages list no kms:Decrypt for a Kinesis source; the "
    "rule is applied to the Firehose role because it is the principal calling GetRecords (inference).",
)
_SQS_PRODUCER = KeyUse(
    ("kms:GenerateDataKey", "kms:Decrypt"),
    "sqs",
    None,
    SQS_KEYS,
    'Producers need both: "The call to kms:Decrypt is to verify the integrity of the new data key before using '
    "it.\" Includes the event source mapping's on-failure delivery (the execution role sends). The page names no "
    "encryption context key, so none is modelled (aws:sqs:arn, used widely, is not on the page read).",
)
_SQS_CONSUMER = KeyUse(
    ("kms:Decrypt",),
    "sqs",
    None,
    SQS_KEYS,
    "Consumers need kms:Decrypt for the key of the queue (and of the source queue when the queue is a DLQ). "
    "No encryption context key is named on the page.",
)
_S3_WRITER = KeyUse(
    ("kms:GenerateDataKey",),
    "s3",
    "aws:s3:arn",
    S3_KEYS,
    '"To upload an object encrypted with an AWS KMS key to Amazon S3, you need kms:GenerateDataKey permissions on '
    'the key." A multipart upload (same s3:PutObject action) also needs kms:Decrypt: see S3_MULTIPART_KEY_USE. '
    "Context value: the object ARN, or the bucket ARN when an S3 Bucket Key is enabled (Tributary's buckets). "
    "Includes the mapping's on-failure delivery to S3: the Lambda page says the execution role \"must also have "
    'permission to call kms:GenerateDataKey".',
)
_S3_READER = KeyUse(
    ("kms:Decrypt",),
    "s3",
    "aws:s3:arn",
    S3_KEYS,
    '"To download an object encrypted with an AWS KMS key, you need kms:Decrypt permissions." Athena queries '
    f"read through S3 with the caller's credentials: kms:Decrypt is the minimum ({ATHENA_KEYS}).",
)
S3_MULTIPART_KEY_USE = KeyUse(
    ("kms:Decrypt", "kms:GenerateDataKey"),
    "s3",
    "aws:s3:arn",
    S3_MULTIPART_KEYS,
    'Multipart upload: "the requester must have permission to the kms:Decrypt and kms:GenerateDataKey actions on '
    'the key" because S3 decrypts the parts before completing the upload. The Firehose delivery role is granted '
    "both by the Firehose page.",
)
_DYNAMODB_CALLER = KeyUse(
    ("kms:Decrypt",),
    "dynamodb",
    "aws:dynamodb:tableName",
    DYNAMODB_KEYS,
    'Not the grant alone: the CloudTrail Decrypt example says "The user is the principal in your AWS account who '
    'is accessing the table" (invokedBy dynamodb.amazonaws.com); DynamoDB decrypts the table key with it and '
    "caches the plaintext table key per connection, calling KMS again after five minutes of inactivity, so a "
    "missing permission can fail late. The grants serve background maintenance. The context value is the table "
    "NAME (plus aws:dynamodb:subscriberId = account id), not an ARN. The page lists no per-action difference.",
)
_SNS_PUBLISHER = KeyUse(
    ("kms:GenerateDataKey", "kms:Decrypt"),
    "sns",
    None,
    SNS_KEYS,
    '"The publisher must have the kms:GenerateDataKey and kms:Decrypt permissions for the AWS KMS key." The page '
    "names neither kms:ViaService nor an encryption context; sns.<region>.amazonaws.com is the ViaService name in "
    f"the KMS table ({KMS_CONDITION_KEYS}). Alarms publish as cloudwatch.amazonaws.com: SERVICE_PRINCIPAL_KEY_USE.",
)
_LOGS_CALLER_NOTE = (
    "CloudWatch Logs encrypts and decrypts with its own service principal (logs.<region>.amazonaws.com, in the key "
    "policy); the page lists no KMS permission for the caller."
)
_DYNAMODB_DATA_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
)
"""There is no dynamodb:TransactWriteItems or dynamodb:TransactGetItems action: a transaction is authorized by
the item actions it contains (PutItem, UpdateItem, DeleteItem, GetItem, ConditionCheckItem), which
`dynamodb:EnclosingOperation` can narrow to transactions (DYNAMODB_TRANSACTIONS_IAM)."""

DATA_PLANE_KEY_USE: dict[str, tuple[KeyUse, ...]] = {
    "kinesis:PutRecord": (_KINESIS_PRODUCER,),
    "kinesis:PutRecords": (_KINESIS_PRODUCER,),
    "kinesis:GetRecords": (_KINESIS_CONSUMER,),
    # Enhanced fan-out: the page's consumer example names GetRecords only; SubscribeToShard delivers the same
    # records to a consumer, so the consumer rule applies (inference, stated in the note).
    "kinesis:SubscribeToShard": (
        KeyUse(
            ("kms:Decrypt",),
            "kinesis",
            "aws:kinesis:arn",
            KINESIS_KEYS,
            "The page's consumer rule (kms:Decrypt) names GetRecords in its example, not SubscribeToShard; applied "
            "to SubscribeToShard because it is the other way a consumer reads records.",
        ),
    ),
    "sqs:SendMessage": (_SQS_PRODUCER,),
    "sqs:ReceiveMessage": (_SQS_CONSUMER,),
    "s3:PutObject": (_S3_WRITER,),
    "s3:GetObject": (_S3_READER,),
    **{action: (_DYNAMODB_CALLER,) for action in _DYNAMODB_DATA_ACTIONS},
    "sns:Publish": (_SNS_PUBLISHER,),
    # Lambda decrypts environment variables at rest through the grant it created when the key was configured.
    "lambda:InvokeFunction": (),
    "logs:PutLogEvents": (),
    "logs:GetLogEvents": (),
    "logs:FilterLogEvents": (),
}

DATA_PLANE_NOTES: dict[str, str] = {
    "lambda:InvokeFunction": (
        'The page asks kms:Decrypt of the execution role only for client-side "encryption helpers"; for '
        'server-side encryption at rest it lists no permission for the execution role: "Lambda uses your '
        'permissions to create a grant on the key." Silent beyond that.'
    ),
    "logs:PutLogEvents": _LOGS_CALLER_NOTE,
    "logs:GetLogEvents": _LOGS_CALLER_NOTE,
    "logs:FilterLogEvents": _LOGS_CALLER_NOTE,
}

DATA_PLANE_SOURCES: dict[str, str] = {
    "lambda:InvokeFunction": LAMBDA_ENV_KEYS,
    "logs:PutLogEvents": LOGS_KEYS,
    "logs:GetLogEvents": LOGS_KEYS,
    "logs:FilterLogEvents": LOGS_KEYS,
}
"""The page behind each DATA_PLANE_KEY_USE entry that needs nothing on the key (its tuple is empty)."""


# -- Services that use the key as themselves: the key policy must name their service principal. ---------------------

SERVICE_PRINCIPAL_KEY_USE: dict[str, tuple[KeyUse, ...]] = {
    "logs.{region}.amazonaws.com": (
        KeyUse(
            ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
            None,
            "aws:logs:arn",
            LOGS_KEYS,
            "Key policy statement for the Region's CloudWatch Logs principal (\"must be in the same AWS Region "
            'where the KMS key is stored"), conditioned with ArnEquals kms:EncryptionContext:aws:logs:arn = '
            "arn:aws:logs:<region>:<account>:log-group:<name> (or ArnLike ...:<account>:* for every log group). "
            "Association takes up to five minutes to take effect.",
        ),
    ),
    "cloudwatch.amazonaws.com": (
        KeyUse(
            ("kms:GenerateDataKey*", "kms:Decrypt"),
            None,
            None,
            SNS_KEYS,
            '"Enable compatibility between event sources from AWS services and encrypted topics": a key policy '
            'statement for the service principal with kms:GenerateDataKey* and kms:Decrypt on "*", with no '
            "conditions in the page's example; CloudWatch (alarm actions) is listed there as "
            "cloudwatch.amazonaws.com (the copy read elided the service table). aws:SourceAccount/aws:SourceArn "
            "conditions are not stated on the page.",
        ),
    ),
}
