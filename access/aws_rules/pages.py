"""The AWS pages the access rules come from: one constant per page, and every entry of the tables cites one."""

from __future__ import annotations

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
