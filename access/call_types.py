"""The records of the access table: a `Call` (one authorization request), what a resolver finds (`Need`), where
the call goes (`Where`), and the errors for a call the table cannot read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference"
SOURCES = {
    "dynamodb": f"{SAR}/list_amazondynamodb.html",
    "kinesis": f"{SAR}/list_amazonkinesisdatastreams.html",
    "sqs": f"{SAR}/list_amazonsqs.html",
    "s3": f"{SAR}/list_amazons3.html",
    "logs": f"{SAR}/list_amazoncloudwatchlogs.html",
    "sns": f"{SAR}/list_amazonsns.html",
    "glue": f"{SAR}/list_awsglue.html",
    "cloudwatch": f"{SAR}/list_amazoncloudwatch.html",
    "xray": f"{SAR}/list_awsx-ray.html",
    "kms": f"{SAR}/list_awskeymanagementservice.html",
    "lambda": f"{SAR}/list_awslambda.html",
}

# boto3 always talks HTTPS to AWS; the sandbox's plain-http endpoint is the emulator's, not the principal's.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-securetransport
SECURE_TRANSPORT = "aws:SecureTransport"
EVERYTHING = "*"  # the Resource of an action with no resource-level permissions


@dataclass(frozen=True)
class Call:
    """One authorization request: `principal` asks for `action` on `resource`, with the condition keys known
    when the call is made. `operation` is the API operation it came from."""

    principal: str  # role ARN, or "service:<name>" for a service principal
    action: str  # IAM action, e.g. "dynamodb:BatchWriteItem"
    resource: str  # resource ARN ("*" for actions without resource-level permissions)
    context: dict[str, str]  # condition keys, e.g. {"aws:SecureTransport": "true"}
    operation: str = ""  # e.g. "TransactWriteItems"


class UnrecordableCall(Exception):
    """Base of the errors `calls_for` raises for a call it cannot turn into authorization requests."""

    def __init__(self, service: str, operation: str, reason: str) -> None:
        super().__init__(f"{service}:{operation}: {reason}")
        self.service = service
        self.operation = operation
        self.reason = reason


class UnknownOperation(UnrecordableCall):
    """Raised by `calls_for` when (service, operation) has no resolver in `OPERATIONS`: add one, citing the
    operation's row in the Service Authorization Reference, rather than let the proof skip the call."""

    def __init__(self, service: str, operation: str) -> None:
        super().__init__(service, operation, f"not in the access table; add it from {SOURCES.get(service, SAR)}")


class UnresolvedResource(UnrecordableCall):
    """Raised by `calls_for` when the operation is known but its parameters do not name the resource IAM checks:
    a GetRecords iterator this process never obtained, a KMS alias, a missing parameter."""


@dataclass(frozen=True)
class Need:
    """One (action, resource) a resolver finds, with any condition keys the call's own parameters fix."""

    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Where:
    """Where the call goes: what a resolver needs besides the parameters to write full ARNs."""

    service: str
    operation: str
    region: str
    account: str
    partition: str
    iterator_streams: Mapping[str, str]

    def arn(self, service: str, resource: str, *, region: str | None = None, account: str | None = None) -> str:
        region = self.region if region is None else region
        account = self.account if account is None else account
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"

    def unresolved(self, reason: str) -> UnresolvedResource:
        return UnresolvedResource(self.service, self.operation, reason)


Resolver = Callable[[Mapping, Where], list[Need]]
