"""Secure production defaults, as data.

Every setting a tenant file cannot change lives here, with the reason it is what it is; the tenant-file
defaults (batch size, retries, ...) live on the schema in config.py. Tests and the README read these.
"""

from runtime import settings

LAMBDA_RUNTIME = "python3.14"  # the newest Python runtime Lambda offers
LAMBDA_ARCHITECTURE = "arm64"  # Graviton: about 20% cheaper per GB-second than x86_64
LAMBDA_HANDLER = "runtime.handler.handler"

# Powertools for AWS Lambda (Python) v3, from AWS's public layer account. Override the whole ARN with
# `tributary:powertoolsLayerArn`, or only the version with `tributary:powertoolsLayerVersion`.
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
POWERTOOLS_LAYER_VERSION = 27
POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsPythonV3-python314-arm64"
# The service name and namespace are the handler's (runtime/settings.py): the dashboard reads its metrics there.
POWERTOOLS_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": settings.SERVICE_NAME,
    "POWERTOOLS_METRICS_NAMESPACE": settings.METRICS_NAMESPACE,
    "POWERTOOLS_LOG_LEVEL": "INFO",
}

# The event source mapping: the seed's production checklist, not negotiable per tenant.
BISECT_BATCH_ON_FUNCTION_ERROR = True  # isolates a poison pill in log2(batch) retries
FUNCTION_RESPONSE_TYPES = ["ReportBatchItemFailures"]  # the handler reports exactly what to retry
ESM_METRICS = ["EventCount"]

KMS_KEY_ROTATION = True
KMS_DELETION_WINDOW_DAYS = 30  # the longest AWS allows: the most time to notice a mistaken delete

LOG_RETENTION_DAYS = 30
FAILURE_QUEUE_RETENTION_SECONDS = 14 * 86400  # SQS's maximum: two weeks to inspect and replay
FAILURE_QUEUE_VISIBILITY_SECONDS = 300

ARCHIVE_ABORT_INCOMPLETE_UPLOAD_DAYS = 7
ARCHIVE_ERROR_PREFIX_EXPIRE_DAYS = 30
ARCHIVE_NONCURRENT_EXPIRE_DAYS = 30
ARCHIVE_PREFIX = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
ARCHIVE_ERROR_PREFIX = (
    "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
)
ARCHIVE_COMPRESSION = "SNAPPY"

TABLE_BILLING_MODE = "PAY_PER_REQUEST"

MANAGED_BY = "tributary"
