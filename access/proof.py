"""The access proof's judge: every recorded call against the policies the program generates.

    policies = Policies.from_resources(evaluation.resources, extra_identity=outputs_identity(...))
    report = prove(CallLog.read("build/calls.jsonl"), policies)
    print(report.render())

Three steps, one function each:
- `Policies.from_resources` (`program_policies.py`) collects, from the resources the program registers, each
  role's identity policies, each tenant key's policy, each queue, topic and bucket policy, and which tenant key
  encrypts which resource;
- `expand` adds to a call the KMS requests AWS makes because of it (`key_requests.py`): the service's requests
  with the caller's permissions, and a service principal's requests as itself;
- `prove` evaluates every request (`access.evaluate`) and lists what was denied, and every grant of a calling
  principal's identity policies and key-policy statements that no request used, minus `EXCEPTIONS`
  (`proof_report.py` holds the report).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

from access.call_types import Call
from access.evaluate import evaluate, grant_matches, grants
from access.key_requests import expand
from access.policy_types import SERVICE_PREFIX, Decision, Request
from access.program_policies import Policies
from access.proof_report import Denial, ExceptedGrant, ProofReport, UnusedGrant, UnusedGrantException, principal_kind

_LAMBDA_KINESIS = "Lambda's Kinesis page lists it among the execution role's required permissions"
_FIREHOSE_S3 = (
    'Firehose\'s "Controlling access" page requires it for S3 delivery (multipart uploads and their retries); '
    "the sandbox writes each object with one PutObject"
)
_FIREHOSE_GLUE = (
    "Firehose's record format conversion requires GetTable, GetTableVersion and GetTableVersions; the sandbox "
    "reads the columns with GetTableVersions"
)

# Grants a healthy session leaves unused, each with the reason it is granted anyway. Everything else a role or
# key grants must be used by some recorded call, or the proof fails.
EXCEPTIONS: list[UnusedGrantException] = [
    UnusedGrantException("processor", "kinesis:DescribeStream", _LAMBDA_KINESIS),
    UnusedGrantException("processor", "kinesis:DescribeStreamSummary", _LAMBDA_KINESIS),
    UnusedGrantException(
        "processor",
        "xray:Put*",
        "Lambda's X-Ray page: with tracing Active, Lambda sends segments with the execution role; the emulator "
        "has no X-Ray, so the handler runs with tracing disabled",
    ),
    UnusedGrantException(
        "processor",
        "dynamodb:PutItem",
        "events mode puts an item alone only to find the one a BatchWriteItem ValidationException hides "
        "(runtime/modes/events.py table_actions); latest and counters use it on every write",
    ),
    UnusedGrantException("firehose", "kinesis:DescribeStream", 'Firehose\'s "Controlling access" page requires it'),
    UnusedGrantException("firehose", "s3:AbortMultipartUpload", _FIREHOSE_S3),
    UnusedGrantException("firehose", "s3:GetObject", _FIREHOSE_S3),
    UnusedGrantException("firehose", "s3:GetBucketLocation", _FIREHOSE_S3),
    UnusedGrantException("firehose", "s3:ListBucket", _FIREHOSE_S3),
    UnusedGrantException("firehose", "s3:ListBucketMultipartUploads", _FIREHOSE_S3),
    UnusedGrantException(
        "firehose", "kms:Decrypt", f"{_FIREHOSE_S3}; multipart uploads decrypt the data key", "FirehoseWritesArchive"
    ),
    UnusedGrantException("firehose", "glue:GetTable", _FIREHOSE_GLUE),
    UnusedGrantException("firehose", "glue:GetTableVersion", _FIREHOSE_GLUE),
]


def prove(
    calls: Iterable[Call], policies: Policies, exceptions: Sequence[UnusedGrantException] | None = None
) -> ProofReport:
    """Evaluate every call, expanded, against `policies`; report denials and unused grants (`EXCEPTIONS` by
    default say which unused grants are expected)."""
    exceptions = EXCEPTIONS if exceptions is None else exceptions
    recorded = tuple(calls)
    requests: list[Request] = []
    distinct: dict[str, tuple[Request, str]] = {}  # request -> the operation of the first call that made it
    for call in recorded:
        for request in expand(call, policies):
            requests.append(request)
            distinct.setdefault(_identity(request), (request, call.operation))
    denied = []
    for request, operation in distinct.values():
        decision = _judge(request, policies)
        if not decision.allowed:
            denied.append(
                Denial(request.principal, principal_kind(request.principal), operation, request, decision.reason)
            )
    unused, excepted = [], []
    for grant in _unused_grants([request for request, _ in distinct.values()], policies):
        covering = next((exception for exception in exceptions if exception.covers(grant)), None)
        if covering is None:
            unused.append(grant)
        else:
            excepted.append(ExceptedGrant(grant, covering))
    return ProofReport(recorded, tuple(requests), tuple(denied), tuple(unused), tuple(excepted))


def _identity(request: Request) -> str:
    return json.dumps([request.principal, request.action, request.resource, sorted(request.context.items())])


def _judge(request: Request, policies: Policies) -> Decision:
    on_key = request.action.lower().startswith("kms:") and ":key/" in request.resource
    if on_key and request.resource not in policies.keys:
        # Every use of a key needs its key policy to allow it, which an unknown policy cannot:
        # https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
        return Decision(False, f"implicitly denied: {request.resource} is not a key the program manages")
    return evaluate(request, policies.policy_set(request))


def _unused_grants(requests: list[Request], policies: Policies) -> list[UnusedGrant]:
    """For each principal that made a request: its identity grants and the key-policy grants naming it that no
    request of its own matched (a key-policy grant only by requests on that key)."""
    by_principal: dict[str, list[Request]] = {}
    for request in requests:
        by_principal.setdefault(request.principal, []).append(request)
    found = []
    for principal, made in sorted(by_principal.items()):
        candidates = [(grant, None) for p in policies.identity_of(principal) for grant in grants(p.document, p.label)]
        candidates += [
            (grant, key)
            for key, policy in policies.keys.items()
            for grant in grants(policy.document, policy.label)
            if _names(grant.statement, principal)
        ]
        for grant, key in candidates:
            relevant = made if key is None else [request for request in made if request.resource == key]
            if not any(grant_matches(grant, request) for request in relevant):
                found.append(UnusedGrant(principal, principal_kind(principal), grant))
    return found


def _names(statement: Mapping, principal: str) -> bool:
    """Whether the statement's Principal names this principal itself (not its account, not everyone)."""
    named = statement.get("Principal")
    if not isinstance(named, Mapping):
        return False
    if principal.startswith(SERVICE_PREFIX):
        entries, wanted = named.get("Service", []), principal.removeprefix(SERVICE_PREFIX)
    else:
        entries, wanted = named.get("AWS", []), principal
    return wanted in (entries if isinstance(entries, list) else [entries])
