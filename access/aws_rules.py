"""AWS's documented access rules, as data the access proof evaluates against the generated policies.

Four tables, each fact with the AWS page that states it:
- `DATA_PLANE_KEY_USE`: the KMS calls a service makes with the caller's own permissions when the caller uses a
  resource encrypted with the tenant key (a producer's PutRecord, the mapping's GetRecords, a SendMessage...).
- `SERVICE_PRINCIPAL_KEY_USE`: services that use the key as themselves, so the key policy must name them.
- `DEPLOYER_KEY_USE` and `DEPLOYER_ACTIONS`: what the identity running `pulumi up` needs, on the key and in IAM,
  for each Pulumi resource type the program registers.
Plus two small facts other parts read: the event source mapping's metrics and the OpenX JSON SerDe's timestamps.

Where a page is silent or ambiguous the entry says so in its `note`; nothing here is inferred without saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- The pages the facts come from (one constant per page; every entry below cites one). ----------------------------

KMS_GUIDE = "https://docs.aws.amazon.com/kms/latest/developerguide"
KMS_DEFAULT_KEY_POLICY = f"{KMS_GUIDE}/key-policy-default.html"
KMS_CONDITION_KEYS = f"{KMS_GUIDE}/conditions-kms.html"
KMS_ALIAS_ACCESS = f"{KMS_GUIDE}/alias-access.html"
KMS_TAG_PERMISSIONS = f"{KMS_GUIDE}/tag-permissions.html"
KMS_CREATE_KEY_API = "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html"

KINESIS_KEYS = "https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html"
SQS_KEYS = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html"
SQS_CONSOLE_KEYS = (
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-sse-existing-queue.html"
)
SNS_KEYS = "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html"
SNS_TOPIC_ENCRYPTION = "https://docs.aws.amazon.com/sns/latest/dg/sns-enable-encryption-for-topic.html"
S3_KEYS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html"
S3_MULTIPART_KEYS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions"
S3_DEFAULT_ENCRYPTION = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html"
DYNAMODB_KEYS = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html"
DYNAMODB_TRANSACTIONS_IAM = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html"
LAMBDA_ENV_KEYS = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html"
LAMBDA_ESM_METRICS = (
    "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html#event-source-mapping-metrics"
)
LAMBDA_METRICS_VIEW = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-view.html"
LOGS_KEYS = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html"
FIREHOSE_ACCESS = "https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html"
FIREHOSE_FORMAT_CONVERSION = "https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html"
ATHENA_KEYS = "https://docs.aws.amazon.com/athena/latest/ug/encryption.html"

SERVICE_AUTHORIZATION = "https://docs.aws.amazon.com/service-authorization/latest/reference"
SAR_KMS = f"{SERVICE_AUTHORIZATION}/list_awskeymanagementservice.html"
SAR_KINESIS = f"{SERVICE_AUTHORIZATION}/list_amazonkinesisdatastreams.html"
SAR_FIREHOSE = f"{SERVICE_AUTHORIZATION}/list_amazonkinesisfirehose.html"
SAR_LAMBDA = f"{SERVICE_AUTHORIZATION}/list_awslambda.html"
SAR_DYNAMODB = f"{SERVICE_AUTHORIZATION}/list_amazondynamodb.html"
SAR_SQS = f"{SERVICE_AUTHORIZATION}/list_amazonsqs.html"
SAR_SNS = f"{SERVICE_AUTHORIZATION}/list_amazonsns.html"
SAR_S3 = f"{SERVICE_AUTHORIZATION}/list_amazons3.html"
SAR_GLUE = f"{SERVICE_AUTHORIZATION}/list_awsglue.html"
SAR_CLOUDWATCH = f"{SERVICE_AUTHORIZATION}/list_amazoncloudwatch.html"
SAR_LOGS = f"{SERVICE_AUTHORIZATION}/list_amazoncloudwatchlogs.html"
SAR_IAM = f"{SERVICE_AUTHORIZATION}/list_awsidentityandaccessmanagementiam.html"


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


# -- The deployer: what `pulumi up` needs on the tenant key, per Pulumi type token. ----------------------------------

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


# -- The deployer's IAM actions per Pulumi type: create, read, update, delete, tag. ----------------------------------
# Names as the Service Authorization Reference spells them (S3's differ from its API names, e.g.
# PutBucketEncryption -> s3:PutEncryptionConfiguration). Read calls follow what the Pulumi AWS provider reads:
# checked against the provider's code for aws:kms/key:Key; for the other types they are the API calls each
# lifecycle step makes, so compare them with CloudTrail (AccessDenied events) after the first real deployment.

DEPLOYER_ACTIONS: dict[str, tuple[str, ...]] = {
    "aws:kms/key:Key": KMS_KEY_ADMIN_ACTIONS,
    "aws:kms/alias:Alias": ("kms:CreateAlias", "kms:DeleteAlias", "kms:ListAliases", "kms:UpdateAlias"),
    "aws:kinesis/stream:Stream": (
        "kinesis:AddTagsToStream",
        "kinesis:CreateStream",
        "kinesis:DecreaseStreamRetentionPeriod",
        "kinesis:DeleteStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:DisableEnhancedMonitoring",
        "kinesis:EnableEnhancedMonitoring",
        "kinesis:IncreaseStreamRetentionPeriod",
        "kinesis:ListTagsForStream",
        "kinesis:RemoveTagsFromStream",
        "kinesis:StartStreamEncryption",
        "kinesis:StopStreamEncryption",
        "kinesis:UpdateShardCount",
        "kinesis:UpdateStreamMode",
    ),
    "aws:kinesis/streamConsumer:StreamConsumer": (
        "kinesis:DeregisterStreamConsumer",
        "kinesis:DescribeStreamConsumer",
        "kinesis:ListTagsForResource",
        "kinesis:RegisterStreamConsumer",
        "kinesis:TagResource",
        "kinesis:UntagResource",
    ),
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": (
        "firehose:CreateDeliveryStream",
        "firehose:DeleteDeliveryStream",
        "firehose:DescribeDeliveryStream",
        "firehose:ListTagsForDeliveryStream",
        "firehose:TagDeliveryStream",
        "firehose:UntagDeliveryStream",
        "firehose:UpdateDestination",
        "iam:PassRole",
    ),
    "aws:lambda/function:Function": (
        "iam:PassRole",
        "lambda:CreateFunction",
        "lambda:DeleteFunction",
        "lambda:DeleteFunctionConcurrency",
        "lambda:GetFunction",
        "lambda:GetFunctionCodeSigningConfig",
        "lambda:GetFunctionConfiguration",
        "lambda:ListTags",
        "lambda:ListVersionsByFunction",
        "lambda:PutFunctionConcurrency",
        "lambda:TagResource",
        "lambda:UntagResource",
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
    ),
    "aws:lambda/eventSourceMapping:EventSourceMapping": (
        "lambda:CreateEventSourceMapping",
        "lambda:DeleteEventSourceMapping",
        "lambda:GetEventSourceMapping",
        "lambda:ListTags",
        "lambda:TagResource",
        "lambda:UntagResource",
        "lambda:UpdateEventSourceMapping",
    ),
    "aws:dynamodb/table:Table": (
        "dynamodb:CreateTable",
        "dynamodb:DeleteTable",
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:DescribeTable",
        "dynamodb:DescribeTimeToLive",
        "dynamodb:ListTagsOfResource",
        "dynamodb:TagResource",
        "dynamodb:UntagResource",
        "dynamodb:UpdateContinuousBackups",
        "dynamodb:UpdateTable",
        "dynamodb:UpdateTimeToLive",
    ),
    "aws:sqs/queue:Queue": (
        "sqs:CreateQueue",
        "sqs:DeleteQueue",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ListQueueTags",
        "sqs:SetQueueAttributes",
        "sqs:TagQueue",
        "sqs:UntagQueue",
    ),
    "aws:sqs/queuePolicy:QueuePolicy": ("sqs:GetQueueAttributes", "sqs:SetQueueAttributes"),
    "aws:sns/topic:Topic": (
        "sns:CreateTopic",
        "sns:DeleteTopic",
        "sns:GetTopicAttributes",
        "sns:ListTagsForResource",
        "sns:SetTopicAttributes",
        "sns:TagResource",
        "sns:UntagResource",
    ),
    "aws:sns/topicPolicy:TopicPolicy": ("sns:GetTopicAttributes", "sns:SetTopicAttributes"),
    "aws:sns/topicSubscription:TopicSubscription": (
        "sns:GetSubscriptionAttributes",
        "sns:SetSubscriptionAttributes",
        "sns:Subscribe",
        "sns:Unsubscribe",
    ),
    "aws:cloudwatch/logGroup:LogGroup": (
        "logs:AssociateKmsKey",
        "logs:CreateLogGroup",
        "logs:DeleteLogGroup",
        "logs:DeleteRetentionPolicy",
        "logs:DescribeLogGroups",
        "logs:DisassociateKmsKey",
        "logs:ListTagsForResource",
        "logs:PutRetentionPolicy",
        "logs:TagResource",
        "logs:UntagResource",
    ),
    "aws:cloudwatch/logStream:LogStream": ("logs:CreateLogStream", "logs:DeleteLogStream", "logs:DescribeLogStreams"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (
        "cloudwatch:DeleteAlarms",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:ListTagsForResource",
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:TagResource",
        "cloudwatch:UntagResource",
    ),
    "aws:cloudwatch/dashboard:Dashboard": (
        "cloudwatch:DeleteDashboards",
        "cloudwatch:GetDashboard",
        "cloudwatch:PutDashboard",
    ),
    # The provider reads every bucket sub-configuration on refresh, whether or not the program sets it.
    "aws:s3/bucket:Bucket": (
        "s3:CreateBucket",
        "s3:DeleteBucket",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:GetAccelerateConfiguration",
        "s3:GetBucketAcl",
        "s3:GetBucketCORS",
        "s3:GetBucketLogging",
        "s3:GetBucketObjectLockConfiguration",
        "s3:GetBucketPolicy",
        "s3:GetBucketRequestPayment",
        "s3:GetBucketTagging",
        "s3:GetBucketVersioning",
        "s3:GetBucketWebsite",
        "s3:GetEncryptionConfiguration",
        "s3:GetLifecycleConfiguration",
        "s3:GetReplicationConfiguration",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:PutBucketTagging",
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (
        "s3:GetBucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
    ),
    "aws:s3/bucketPolicy:BucketPolicy": ("s3:DeleteBucketPolicy", "s3:GetBucketPolicy", "s3:PutBucketPolicy"),
    "aws:s3/bucketVersioning:BucketVersioning": ("s3:GetBucketVersioning", "s3:PutBucketVersioning"),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "s3:GetLifecycleConfiguration",
        "s3:PutLifecycleConfiguration",
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3:GetEncryptionConfiguration",
        "s3:PutEncryptionConfiguration",
    ),
    "aws:glue/catalogDatabase:CatalogDatabase": (
        "glue:CreateDatabase",
        "glue:DeleteDatabase",
        "glue:GetDatabase",
        "glue:GetTags",
        "glue:TagResource",
        "glue:UntagResource",
        "glue:UpdateDatabase",
    ),
    "aws:glue/catalogTable:CatalogTable": (
        "glue:CreateTable",
        "glue:DeleteTable",
        "glue:GetPartitionIndexes",
        "glue:GetTable",
        "glue:UpdateTable",
    ),
    "aws:iam/role:Role": (
        "iam:CreateRole",
        "iam:DeleteRole",
        "iam:DeleteRolePolicy",
        "iam:GetRole",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
        "iam:ListRolePolicies",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:UpdateRole",
    ),
    "aws:iam/rolePolicy:RolePolicy": ("iam:DeleteRolePolicy", "iam:GetRolePolicy", "iam:PutRolePolicy"),
}

DEPLOYER_ACTION_SOURCES: dict[str, str] = {
    "aws:kms/key:Key": SAR_KMS,
    "aws:kms/alias:Alias": SAR_KMS,
    "aws:kinesis/stream:Stream": SAR_KINESIS,
    "aws:kinesis/streamConsumer:StreamConsumer": SAR_KINESIS,
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": SAR_FIREHOSE,
    "aws:lambda/function:Function": SAR_LAMBDA,
    "aws:lambda/eventSourceMapping:EventSourceMapping": SAR_LAMBDA,
    "aws:dynamodb/table:Table": SAR_DYNAMODB,
    "aws:sqs/queue:Queue": SAR_SQS,
    "aws:sqs/queuePolicy:QueuePolicy": SAR_SQS,
    "aws:sns/topic:Topic": SAR_SNS,
    "aws:sns/topicPolicy:TopicPolicy": SAR_SNS,
    "aws:sns/topicSubscription:TopicSubscription": SAR_SNS,
    "aws:cloudwatch/logGroup:LogGroup": SAR_LOGS,
    "aws:cloudwatch/logStream:LogStream": SAR_LOGS,
    "aws:cloudwatch/metricAlarm:MetricAlarm": SAR_CLOUDWATCH,
    "aws:cloudwatch/dashboard:Dashboard": SAR_CLOUDWATCH,
    "aws:s3/bucket:Bucket": SAR_S3,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": SAR_S3,
    "aws:s3/bucketPolicy:BucketPolicy": SAR_S3,
    "aws:s3/bucketVersioning:BucketVersioning": SAR_S3,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": SAR_S3,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": SAR_S3,
    "aws:glue/catalogDatabase:CatalogDatabase": SAR_GLUE,
    "aws:glue/catalogTable:CatalogTable": SAR_GLUE,
    "aws:iam/role:Role": SAR_IAM,
    "aws:iam/rolePolicy:RolePolicy": SAR_IAM,
}

DEPLOYER_ACTION_NOTES: dict[str, str] = {
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": (
        "iam:PassRole on the delivery role, whose trust policy names firehose.amazonaws.com with StringEquals "
        f"sts:ExternalId = <account id> ({FIREHOSE_ACCESS})."
    ),
    "aws:lambda/function:Function": (
        "iam:PassRole on the execution role. Reserved concurrency is set through PutFunctionConcurrency and "
        "removed through DeleteFunctionConcurrency."
    ),
    "aws:s3/bucket:Bucket": (
        "S3 action names differ from API names: HeadBucket -> s3:ListBucket, GetBucketCors -> s3:GetBucketCORS, "
        "GetBucketEncryption -> s3:GetEncryptionConfiguration, GetBucketLifecycleConfiguration -> "
        "s3:GetLifecycleConfiguration. ListBucketVersions and the object deletes are for force_destroy."
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (
        "DeletePublicAccessBlock is authorized by s3:PutBucketPublicAccessBlock."
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "DeleteBucketLifecycle is authorized by s3:PutLifecycleConfiguration."
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "DeleteBucketEncryption is authorized by s3:PutEncryptionConfiguration."
    ),
    "aws:glue/catalogTable:CatalogTable": (
        "Glue table actions are authorized on the catalog, the database and the table ARNs together. The Firehose "
        'role\'s glue:GetTable, GetTableVersion, GetTableVersions are on "table-arn" in the Firehose page.'
    ),
}


# -- Lambda event source mapping metrics (EventCount group), Kinesis source. ---------------------------------------


@dataclass(frozen=True)
class EsmMetric:
    """One event source mapping metric and what it counts, in the page's words."""

    name: str
    meaning: str


@dataclass(frozen=True)
class EsmMetricFacts:
    """Where the mapping's metrics are published and how to read them."""

    metrics_config: str  # the value of MetricsConfig.Metrics that turns the group on
    namespace: str
    dimension: str
    statistic: str
    metrics: tuple[EsmMetric, ...]
    source: str
    note: str = ""

    def names(self) -> tuple[str, ...]:
        """The metric names in the group, in the page's order."""
        return tuple(metric.name for metric in self.metrics)


ESM_METRICS = EsmMetricFacts(
    metrics_config="EventCount",
    namespace="AWS/Lambda",
    dimension="EventSourceMappingUUID",
    statistic="Sum",
    metrics=(
        EsmMetric(
            "PolledEventCount",
            "Events Lambda reads successfully from the source; 0 on an empty poll.",
        ),
        EsmMetric(
            "FilteredOutEventCount",
            "Events the mapping's filter criteria filtered out; 0 for events that match.",
        ),
        EsmMetric(
            "InvokedEventCount",
            "Events that invoked the function; a retried event can be counted several times.",
        ),
        EsmMetric(
            "FailedInvokeEventCount",
            "Events Lambda tried to invoke the function with but failed (network configuration, permissions, "
            "deleted function...); with partial batch responses, events in a non-empty BatchItemFailures. "
            "Timestamped at the END of the invocation.",
        ),
        EsmMetric(
            "DroppedEventCount",
            "Events dropped for expiry or retry exhaustion (MaximumRecordAgeInSeconds, MaximumRetryAttempts); not "
            "records the stream's retention expired. \"Dropped events also excludes events that you send to an "
            'on-failure destination": an event delivered there is not counted as dropped.',
        ),
        EsmMetric(
            "OnFailureDestinationDeliveredEventCount",
            "Events sent to the on-failure destination. When delivery fails, this metric is not emitted, "
            "DestinationDeliveryFailures gets 1 and DroppedEventCount gets the number of events that failed delivery.",
        ),
    ),
    source=LAMBDA_ESM_METRICS,
    note="Kinesis and DynamoDB streams get these six; DeletedEventCount is SQS only. The dimension is from the "
    f'view page ({LAMBDA_METRICS_VIEW}: "By Event Source Mapping UUID ... View metrics for an event source '
    'mapping"); the metrics section names no statistic, the view page says graphs default to Sum for all '
    "metrics. Whether these metrics are also published per FunctionName is not stated. No metrics while the "
    "mapping is disabled.",
)


# -- Firehose record format conversion: timestamps the OpenX JSON SerDe parses. --------------------------------------


@dataclass(frozen=True)
class TimestampFormat:
    """One input timestamp format, as the page writes it, with the page's example."""

    pattern: str
    example: str
    source: str = FIREHOSE_FORMAT_CONVERSION


OPENX_TIMESTAMP_FORMATS: tuple[TimestampFormat, ...] = (
    TimestampFormat("yyyy-MM-dd'T'HH:mm:ss[.S]'Z' (fraction up to 9 digits)", "2017-02-07T15:13:01.39256Z"),
    TimestampFormat("yyyy-[M]M-[d]d HH:mm:ss[.S] (fraction up to 9 digits)", "2017-02-07 15:13:01.14"),
    TimestampFormat("epoch seconds", "1518033528"),
    TimestampFormat("epoch milliseconds", "1518033528123"),
    TimestampFormat("floating point epoch seconds", "1518033528.123"),
)
"""Any other format needs the Hive JSON SerDe with Joda-Time patterns; an ISO-8601 offset such as +00:00 is not
in the list."""
