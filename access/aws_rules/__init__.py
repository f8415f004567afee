"""AWS's documented access rules, as data the access proof evaluates against the generated policies.

Each fact comes with the AWS page that states it (`pages.py`), one module per table:
- `key_use.py`: `DATA_PLANE_KEY_USE`, the KMS calls a service makes with the caller's own permissions when the
  caller uses a resource encrypted with the tenant key, and `SERVICE_PRINCIPAL_KEY_USE`, the services that use
  the key as themselves, so the key policy must name them;
- `deployer_key_use.py` and `deployer_actions.py`: what the identity running `pulumi up` needs, on the key and
  in IAM, for each Pulumi resource type the program registers;
- `mapping_metrics.py` and `archive_timestamps.py`: the event source mapping's metrics and the timestamps the
  OpenX JSON SerDe reads.

Where a page is silent or ambiguous the entry says so in its `note`; nothing here is inferred without saying so.
The tables' names are importable from this package.
"""

from __future__ import annotations

from access.aws_rules.archive_timestamps import OPENX_TIMESTAMP_FORMATS, TimestampFormat
from access.aws_rules.deployer_actions import DEPLOYER_ACTION_NOTES, DEPLOYER_ACTION_SOURCES, DEPLOYER_ACTIONS
from access.aws_rules.deployer_key_use import (
    DEPLOYER_KEY_NOTES,
    DEPLOYER_KEY_SOURCES,
    DEPLOYER_KEY_USE,
    KMS_KEY_ADMIN_ACTIONS,
)
from access.aws_rules.key_use import (
    DATA_PLANE_KEY_USE,
    DATA_PLANE_NOTES,
    DATA_PLANE_SOURCES,
    S3_MULTIPART_KEY_USE,
    SERVICE_PRINCIPAL_KEY_USE,
    KeyUse,
)
from access.aws_rules.mapping_metrics import ESM_METRICS, EsmMetric, EsmMetricFacts
from access.aws_rules.pages import (
    DYNAMODB_KEYS,
    KMS_CONDITION_KEYS,
    KMS_TAG_PERMISSIONS,
    LOGS_KEYS,
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

__all__ = [
    "DATA_PLANE_KEY_USE",
    "DATA_PLANE_NOTES",
    "DATA_PLANE_SOURCES",
    "DEPLOYER_ACTIONS",
    "DEPLOYER_ACTION_NOTES",
    "DEPLOYER_ACTION_SOURCES",
    "DEPLOYER_KEY_NOTES",
    "DEPLOYER_KEY_SOURCES",
    "DEPLOYER_KEY_USE",
    "DYNAMODB_KEYS",
    "ESM_METRICS",
    "KMS_CONDITION_KEYS",
    "KMS_KEY_ADMIN_ACTIONS",
    "KMS_TAG_PERMISSIONS",
    "LOGS_KEYS",
    "OPENX_TIMESTAMP_FORMATS",
    "S3_MULTIPART_KEY_USE",
    "SAR_CLOUDWATCH",
    "SAR_DYNAMODB",
    "SAR_FIREHOSE",
    "SAR_GLUE",
    "SAR_IAM",
    "SAR_KINESIS",
    "SAR_KMS",
    "SAR_LAMBDA",
    "SAR_LOGS",
    "SAR_S3",
    "SAR_SNS",
    "SAR_SQS",
    "SERVICE_PRINCIPAL_KEY_USE",
    "EsmMetric",
    "EsmMetricFacts",
    "KeyUse",
    "TimestampFormat",
]
