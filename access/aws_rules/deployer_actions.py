"""The deployer's IAM actions per Pulumi type token (create, read, update, delete, tag), as cited data.

`DEPLOYER_ACTIONS` lists them; `DEPLOYER_ACTION_SOURCES` cites each type's Service Authorization Reference page
and `DEPLOYER_ACTION_NOTES` says what the table alone does not.
"""

from __future__ import annotations

from access.aws_rules.deployer_key_use import KMS_KEY_ADMIN_ACTIONS
from access.aws_rules.pages import (
    FIREHOSE_ACCESS,
    SAR_CLOUDWATCH,
    SAR_DYNAMODB,
    SAR_FIREHOSE,
    SAR_GLUE,
    SAR_IAM,
    SAR_KINESIS,
    SAR_KMS,
    SAR_LAMBDA,
    SAR_LOGS,
    SAR_S3,
    SAR_SNS,
    SAR_SQS,
)

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
