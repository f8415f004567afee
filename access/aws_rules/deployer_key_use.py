"""What the identity running `pulumi up` needs on the tenant key, per Pulumi type token, as cited data.

`DEPLOYER_KEY_USE` lists the key uses; an entry that needs nothing on the key (an empty tuple) says why in
`DEPLOYER_KEY_NOTES` and cites its page in `DEPLOYER_KEY_SOURCES`.
"""

from __future__ import annotations

from access.aws_rules.key_use import KeyUse
from access.aws_rules.pages import (
    DYNAMODB_KEYS,
    FIREHOSE_ACCESS,
    KINESIS_KEYS,
    KMS_ALIAS_ACCESS,
    KMS_CREATE_KEY_API,
    KMS_DEFAULT_KEY_POLICY,
    KMS_TAG_PERMISSIONS,
    LAMBDA_ENV_KEYS,
    LOGS_KEYS,
    S3_DEFAULT_ENCRYPTION,
    SNS_KEYS,
    SNS_TOPIC_ENCRYPTION,
    SQS_CONSOLE_KEYS,
    SQS_KEYS,
)

KMS_KEY_ADMIN_ACTIONS = (
    "kms:CreateKey",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
)
"""The calls the Pulumi AWS provider makes for aws:kms/key:Key (terraform-provider-aws
internal/service/kms/key.go: create, read with its propagation waits, update, delete by scheduling)."""

DEPLOYER_KEY_USE: dict[str, tuple[KeyUse, ...]] = {
    "aws:kms/key:Key": (
        KeyUse(
            KMS_KEY_ADMIN_ACTIONS,
            None,
            None,
            KMS_DEFAULT_KEY_POLICY,
            "kms:CreateKey is valid only in an IAM policy (no key exists yet). Tags passed to CreateKey need "
            'kms:TagResource "in an IAM policy that isn\'t restricted to particular KMS keys" '
            f"({KMS_TAG_PERMISSIONS}). "
            "Lockout safety check: unless BypassPolicyLockoutSafetyCheck is set, the policy given to CreateKey or "
            "PutKeyPolicy must allow the calling principal a later PutKeyPolicy "
            f'({KMS_CREATE_KEY_API}). Without the default "Enable IAM policies" statement (account principal, '
            "kms:*) IAM allows on the key are ineffective. kms:Create* in a key policy covers CreateAlias and "
            "CreateGrant; kms:Put* covers PutKeyPolicy; kms:Delete* does not cover ScheduleKeyDeletion.",
        ),
    ),
    "aws:kms/alias:Alias": (
        KeyUse(
            ("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"),
            None,
            None,
            KMS_ALIAS_ACCESS,
            "Each alias operation needs the permission on the alias (IAM policy) and on the key (key policy or IAM "
            "delegated by it); UpdateAlias on the current and the new key. kms:ListAliases (read) is IAM-only.",
        ),
    ),
    "aws:lambda/function:Function": (
        KeyUse(
            ("kms:CreateGrant", "kms:Encrypt", "kms:Decrypt"),
            "lambda",
            None,
            LAMBDA_ENV_KEYS,
            '"kms:CreateGrant, kms:Encrypt - To configure a customer managed key on a function"; "kms:Decrypt - '
            'To view and manage environment variables that are encrypted with a customer managed key" (the '
            'provider reads them back). "Lambda uses your permissions to create a grant on the key." The page '
            "does not name kms:ViaService; lambda.<region>.amazonaws.com is the name in the KMS ViaService table.",
        ),
    ),
    "aws:dynamodb/table:Table": (
        KeyUse(
            (
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
                "kms:CreateGrant",
            ),
            "dynamodb",
            None,
            DYNAMODB_KEYS,
            '"DynamoDB gets permission to use the KMS key on behalf of the principal who makes the selection" '
            "(CreateTable/UpdateTable); these are the page's minimum. Its example key policy conditions them on "
            "StringLike kms:ViaService = dynamodb.*.amazonaws.com (Region wildcard for global tables); the AWS "
            "managed key's policy adds kms:CallerAccount. The CreateGrant call's principal is the table's creator.",
        ),
    ),
    "aws:kinesis/stream:Stream": (
        KeyUse(
            ("kms:DescribeKey", "kms:List*"),
            None,
            None,
            KINESIS_KEYS,
            '"Kinesis stream administrators must have authorization to call kms:List* and kms:DescribeKey*" -- '
            "the only requirement the page gives for the caller of CreateStream/StartStreamEncryption with a key "
            "(kms:DescribeKey* matches only DescribeKey). The page says neither which List action nor whether these "
            "are called directly or through Kinesis.",
        ),
    ),
    "aws:sqs/queue:Queue": (),
    "aws:sns/topic:Topic": (),
    "aws:cloudwatch/logGroup:LogGroup": (),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (),
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": (),
}

DEPLOYER_KEY_NOTES: dict[str, str] = {
    "aws:sqs/queue:Queue": (
        "No KMS permission is documented for CreateQueue/SetQueueAttributes with a KmsMasterKeyId; only the console "
        f"needs kms:ListAliases and kms:DescribeKey to show the key ({SQS_CONSOLE_KEYS})."
    ),
    "aws:sns/topic:Topic": (
        "No KMS permission is documented for CreateTopic/SetTopicAttributes with a KmsMasterKeyId; only the console "
        f"needs kms:ListAliases and kms:DescribeKey to show the key ({SNS_TOPIC_ENCRYPTION})."
    ),
    "aws:cloudwatch/logGroup:LogGroup": (
        "The page's kms:CreateKey, kms:GetKeyPolicy and kms:PutKeyPolicy are for creating the key and adding the "
        "logs principal's statement; no KMS permission is listed for the CreateLogGroup (kmsKeyId) caller. The key "
        "policy must allow logs.<region>.amazonaws.com first (SERVICE_PRINCIPAL_KEY_USE)."
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "The user guide sends readers to PutBucketEncryption's API page (s3:PutEncryptionConfiguration) and lists "
        'no KMS action for it; its cross-account section also says "You must specify a key that you (the '
        'requester) have been granted Encrypt permission to" without saying whether PutBucketEncryption checks '
        "it. Ambiguous: unconfirmed either way."
    ),
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": (
        "With a Kinesis source and an S3 destination, the delivery role uses the key (controlling-access page); "
        "the deployer only passes the role (iam:PassRole in DEPLOYER_ACTIONS). Firehose's own SSE "
        "(StartDeliveryStreamEncryption) applies to Direct PUT sources only."
    ),
}

DEPLOYER_KEY_SOURCES: dict[str, str] = {
    "aws:sqs/queue:Queue": SQS_KEYS,
    "aws:sns/topic:Topic": SNS_KEYS,
    "aws:cloudwatch/logGroup:LogGroup": LOGS_KEYS,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": S3_DEFAULT_ENCRYPTION,
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": FIREHOSE_ACCESS,
}
"""The page behind each DEPLOYER_KEY_USE entry that needs nothing on the key (its tuple is empty)."""
