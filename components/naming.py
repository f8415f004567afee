"""Physical AWS names for one tenant on one stack, and the rules of the service each name must follow.

Names are `<tenant>--<stack>--<part>` (`sensors--prod--events`). `--` separates the three, and neither a tenant
nor a stack name may contain it, so one physical name can come from only one tenant, stack and part: tenant
`foo-bar` on stack `dev` (`foo-bar--dev--events`) and tenant `foo` on stack `bar-dev` (`foo--bar-dev--events`)
never meet, and stacks (dev, prod) can share an account. Every physical name carries the tenant's name. Bucket
names also carry the account id, because S3 names are global.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_STACK = "dev"
RESERVED_TAGS = ("tenant", "stack", "managed-by")
LAMBDA_ENVIRONMENT_LIMIT = 4096  # bytes, all keys and values together
# Between tenant, stack and part in every physical name; neither a tenant nor a stack name may contain it.
SEPARATOR = "--"
# Lowercase words joined by single '-': part of S3 names, and never the separator.
STACK_NAME_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# A Region code as the Lambda API reference writes it in its ARN patterns (e.g. SigningJobArn,
# https://docs.aws.amazon.com/lambda/latest/dg/API_Layer.html): us-east-1, us-gov-west-1, cn-north-1.
REGION_PATTERN = r"^[a-z]{2}(-gov)?-[a-z]+-\d$"
# Used to size names that embed an account id or region before either is known.
PLACEHOLDER_ACCOUNT = "123456789012"
PLACEHOLDER_REGION = "ap-southeast-4"
# Shorter than any tenant name: if a stack's names do not fit with it, they fit with no tenant.
SHORTEST_TENANT = "a"

S3_BUCKET_NAMING = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"


@dataclass(frozen=True)
class NameRule:
    """One AWS naming rule: a name for `what` matches `pattern`, is at most `limit` characters, and neither
    begins with one of `reserved_prefixes` nor ends with one of `reserved_suffixes`. `source` is the AWS
    page that states the rule, where it is cited."""

    what: str
    limit: int
    pattern: str
    reserved_prefixes: tuple[str, ...] = ()
    reserved_suffixes: tuple[str, ...] = ()
    source: str = ""

    def problem(self, name: str) -> str | None:
        """Why AWS would refuse `name` under this rule, in words that say what to change, or None."""
        if len(name) > self.limit:
            return (
                f"{self.what} name {name!r} is {len(name)} characters, above AWS's limit of {self.limit}; "
                "use a shorter tenant or stack name"
            )
        if not re.match(self.pattern, name):
            return f"{self.what} name {name!r} has characters AWS does not allow"
        prefix = next((p for p in self.reserved_prefixes if name.startswith(p)), None)
        if prefix is not None:
            return f"{self.what} names may not begin with {prefix!r}, which AWS reserves; choose another tenant name"
        suffix = next((s for s in self.reserved_suffixes if name.endswith(s)), None)
        if suffix is not None:
            return f"{self.what} names may not end with {suffix!r}, which AWS reserves"
        return None


# General purpose bucket names (S3_BUCKET_NAMING): 3 to 63 characters, beginning and ending with a letter or
# digit; the prefixes and suffixes S3 reserves for its own names (access point aliases, Multi-Region Access
# Points, directory and table buckets). Periods are allowed by S3 but never used here, so the pattern has none.
S3_BUCKET = NameRule(
    "S3 bucket",
    63,
    r"^[a-z0-9][a-z0-9-]*[a-z0-9]$",
    reserved_prefixes=("xn--", "sthree-", "amzn-s3-demo-"),
    reserved_suffixes=("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"),
    source=S3_BUCKET_NAMING,
)

RULES = {
    "stream": NameRule("Kinesis stream", 128, r"^[a-zA-Z0-9_.-]+$"),
    "consumer": NameRule("Kinesis stream consumer", 128, r"^[a-zA-Z0-9_.-]+$"),
    "function": NameRule("Lambda function", 64, r"^[a-zA-Z0-9_-]+$"),
    "processor_role": NameRule("IAM role", 64, r"^[\w+=,.@-]+$"),
    "firehose_role": NameRule("IAM role", 64, r"^[\w+=,.@-]+$"),
    "table": NameRule("DynamoDB table", 255, r"^[a-zA-Z0-9_.-]{3,}$"),
    "failure_queue": NameRule("SQS queue", 80, r"^[a-zA-Z0-9_-]+$"),
    "failure_bucket": S3_BUCKET,
    "archive_bucket": S3_BUCKET,
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
    """The physical names of `tenant`'s pipeline on `stack`: `<tenant>--<stack>--<part>`."""
    base = f"{tenant}{SEPARATOR}{stack}"

    def named(part: str) -> str:
        return f"{base}{SEPARATOR}{part}"

    # Glue names allow no '-'; neither name holds '_', so replacing one by the other keeps names apart.
    glue_base = base.replace("-", "_")
    function = named("processor")
    delivery = named("archive")
    return TenantNames(
        stream=named("events"),
        consumer=named("processor"),
        function=function,
        processor_role=named("processor"),
        firehose_role=named("firehose"),
        table=named("serving"),
        failure_queue=named("failures"),
        failure_bucket=named(f"failures-{account_id}"),
        archive_bucket=named(f"archive-{account_id}"),
        delivery_stream=delivery,
        glue_database=f"tributary_{glue_base}",
        glue_table="events",
        key_alias=f"alias/tributary/{base}",
        topic=named("alarms"),
        function_log_group=f"/aws/lambda/{function}",
        firehose_log_group=f"/aws/kinesisfirehose/{delivery}",
        dashboard=f"tributary-{base}",
        alarm_prefix=named(""),
    )


def stack_name_problem(stack: str) -> str | None:
    """Why `stack` cannot name a stack, said once for the stack rather than once per tenant; None if it can."""
    if not STACK_NAME_PATTERN.match(stack):
        return (
            f"{stack!r} must be lowercase letters and digits, in words joined by single '-' "
            f"(it is part of every AWS name, S3's included, and '{SEPARATOR}' separates it from the tenant)"
        )
    for field, name in tenant_names(SHORTEST_TENANT, stack).items():
        rule = RULES[field]
        if len(name) > rule.limit:
            return (
                f"{stack!r} is too long: with any tenant, {rule.what} names would be above AWS's limit of "
                f"{rule.limit} characters; use a shorter stack name"
            )
    return None


def name_problems(tenant: str, stack: str) -> Iterable[tuple[str, str]]:
    """(field, message) for every derived name that breaks its service's rules, each message once."""
    stack_problem = stack_name_problem(stack)
    if stack_problem is not None:
        yield "tenant", f"stack name {stack_problem}"
        return
    if SEPARATOR in tenant:
        yield "tenant", f"must not contain '{SEPARATOR}', which separates tenant, stack and part in AWS names"
    seen = set()
    for field, name in tenant_names(tenant, stack).items():
        problem = RULES[field].problem(name)
        if problem is not None and problem not in seen:
            seen.add(problem)
            yield "tenant", problem


def queue_url(region: str, account_id: str, queue_name: str) -> str:
    return f"https://sqs.{region}.amazonaws.com/{account_id}/{queue_name}"
