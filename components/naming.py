"""Physical AWS names for one tenant on one stack, and the service limits each name must fit.

Names are `<tenant>-<stack>-<part>` so two stacks (dev, prod) can share an account, and every physical
name carries the tenant's name. Bucket names also carry the account id, because S3 names are global.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_STACK = "dev"
RESERVED_TAGS = ("tenant", "stack", "managed-by")
LAMBDA_ENVIRONMENT_LIMIT = 4096  # bytes, all keys and values together
STACK_NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
# Used to size names that embed an account id or region before either is known.
PLACEHOLDER_ACCOUNT = "123456789012"
PLACEHOLDER_REGION = "ap-southeast-4"


@dataclass(frozen=True)
class NameRule:
    """One AWS naming rule: a name for `what` must match `pattern` and be at most `limit` characters."""

    what: str
    limit: int
    pattern: str


RULES = {
    "stream": NameRule("Kinesis stream", 128, r"^[a-zA-Z0-9_.-]+$"),
    "consumer": NameRule("Kinesis stream consumer", 128, r"^[a-zA-Z0-9_.-]+$"),
    "function": NameRule("Lambda function", 64, r"^[a-zA-Z0-9_-]+$"),
    "processor_role": NameRule("IAM role", 64, r"^[\w+=,.@-]+$"),
    "firehose_role": NameRule("IAM role", 64, r"^[\w+=,.@-]+$"),
    "table": NameRule("DynamoDB table", 255, r"^[a-zA-Z0-9_.-]{3,}$"),
    "failure_queue": NameRule("SQS queue", 80, r"^[a-zA-Z0-9_-]+$"),
    "failure_bucket": NameRule("S3 bucket", 63, r"^[a-z0-9][a-z0-9-]*[a-z0-9]$"),
    "archive_bucket": NameRule("S3 bucket", 63, r"^[a-z0-9][a-z0-9-]*[a-z0-9]$"),
    "delivery_stream": NameRule("Firehose delivery stream", 64, r"^[a-zA-Z0-9_.-]+$"),
    "glue_database": NameRule("Glue database", 255, r"^[a-z0-9_]+$"),
    "glue_table": NameRule("Glue table", 255, r"^[a-z0-9_]+$"),
    "key_alias": NameRule("KMS alias", 256, r"^alias/[a-zA-Z0-9/_-]+$"),
    "topic": NameRule("SNS topic", 256, r"^[a-zA-Z0-9_-]+$"),
    "function_log_group": NameRule("CloudWatch log group", 512, r"^[\w/#.-]+$"),
    "firehose_log_group": NameRule("CloudWatch log group", 512, r"^[\w/#.-]+$"),
    "dashboard": NameRule("CloudWatch dashboard", 255, r"^[a-zA-Z0-9_-]+$"),
    "alarm_prefix": NameRule("CloudWatch alarm", 230, r"^[^\x00-\x1f]+$"),
}


@dataclass(frozen=True)
class TenantNames:
    """Every physical name one tenant's pipeline uses on one stack."""

    stream: str
    consumer: str
    function: str
    processor_role: str
    firehose_role: str
    table: str
    failure_queue: str
    failure_bucket: str
    archive_bucket: str
    delivery_stream: str
    glue_database: str
    glue_table: str
    key_alias: str
    topic: str
    function_log_group: str
    firehose_log_group: str
    dashboard: str
    alarm_prefix: str

    def items(self) -> Iterable[tuple[str, str]]:
        return ((field, getattr(self, field)) for field in RULES)


def tenant_names(tenant: str, stack: str, account_id: str = PLACEHOLDER_ACCOUNT) -> TenantNames:
    base = f"{tenant}-{stack}"
    glue_base = base.replace("-", "_")
    function = f"{base}-processor"
    delivery = f"{base}-archive"
    return TenantNames(
        stream=f"{base}-events",
        consumer=f"{base}-processor",
        function=function,
        processor_role=f"{base}-processor",
        firehose_role=f"{base}-firehose",
        table=f"{base}-serving",
        failure_queue=f"{base}-failures",
        failure_bucket=f"{base}-failures-{account_id}",
        archive_bucket=f"{base}-archive-{account_id}",
        delivery_stream=delivery,
        glue_database=f"tributary_{glue_base}",
        glue_table="events",
        key_alias=f"alias/tributary/{base}",
        topic=f"{base}-alarms",
        function_log_group=f"/aws/lambda/{function}",
        firehose_log_group=f"/aws/kinesisfirehose/{delivery}",
        dashboard=f"tributary-{base}",
        alarm_prefix=f"{base}-",
    )


def name_problems(tenant: str, stack: str) -> Iterable[tuple[str, str]]:
    """(field, message) for every derived name that breaks its service's limits."""
    if not STACK_NAME_PATTERN.match(stack):
        yield "tenant", f"stack name {stack!r} must be lowercase letters, digits and '-' (it is part of S3 names)"
        return
    for field, name in tenant_names(tenant, stack).items():
        rule = RULES[field]
        if len(name) > rule.limit:
            yield (
                "tenant",
                f"{rule.what} name {name!r} is {len(name)} characters on stack {stack!r}, "
                f"above AWS's limit of {rule.limit}; use a shorter tenant or stack name",
            )
        elif not re.match(rule.pattern, name):
            yield "tenant", f"{rule.what} name {name!r} has characters AWS does not allow"


def queue_url(region: str, account_id: str, queue_name: str) -> str:
    return f"https://sqs.{region}.amazonaws.com/{account_id}/{queue_name}"
