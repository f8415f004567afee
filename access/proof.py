"""The access proof's judge: every recorded call against the policies the program generates.

    policies = Policies.from_resources(evaluation.resources, extra_identity=outputs_identity(...))
    report = prove(CallLog.read("build/calls.jsonl"), policies)
    print(report.render())

Three steps, one function each:
- `Policies.from_resources` collects, from the resources the program registers, each role's identity policies,
  each tenant key's policy, each queue, topic and bucket policy, and which tenant key encrypts which resource;
- `expand` adds to a call the KMS requests AWS makes because of it (`access.aws_rules`): the service's requests
  with the caller's permissions, and a service principal's requests as itself;
- `prove` evaluates every request (`access.evaluate`) and lists what was denied, and every grant of a calling
  principal's identity policies and key-policy statements that no request used, minus `EXCEPTIONS`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from access.aws_rules import (
    DATA_PLANE_KEY_USE,
    DYNAMODB_KEYS,
    KMS_CONDITION_KEYS,
    LOGS_KEYS,
    S3_MULTIPART_KEY_USE,
    SAR_DYNAMODB,
    SAR_KINESIS,
    SAR_KMS,
    SAR_LOGS,
    SAR_S3,
    SERVICE_PRINCIPAL_KEY_USE,
    KeyUse,
)
from access.call_types import Call
from access.evaluate import evaluate, grant_matches, grants
from access.policy_types import Decision, Grant, LabelledPolicy, PolicySet, Request

SERVICE_PREFIX = "service:"

# Pulumi type tokens of the resources whose inputs carry policies.
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
KEY = "aws:kms/key:Key"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"

# -- Which resource a request's ARN belongs to: its policy and its key are the owner's. ------------------------------
# Resource ARN formats are the resource types of each service's Service Authorization Reference page.
_OWNERS: tuple[tuple[re.Pattern, str], ...] = (
    # object: arn:${Partition}:s3:::${BucketName}/${ObjectName} (SAR_S3)
    (re.compile(r"(?P<owner>arn:[^:]+:s3:::[^/]+)/.*"), SAR_S3),
    # log-stream: ...:log-group:${LogGroupName}:log-stream:${LogStreamName}, and the group written with ":*" for
    # the streams in it (SAR_LOGS)
    (re.compile(r"(?P<owner>arn:[^:]+:logs:[^:]*:[^:]*:log-group:[^:]+):(log-stream:.*|\*)"), SAR_LOGS),
    # index: ...:table/${TableName}/index/${IndexName}; stream: ...:table/${TableName}/stream/${StreamLabel}
    (re.compile(r"(?P<owner>arn:[^:]+:dynamodb:[^:]*:[^:]*:table/[^/]+)/.*"), SAR_DYNAMODB),
    # consumer: ...:${StreamType}/${StreamName}/consumer/${ConsumerName}:${ConsumerCreationTimpstamp} (SAR_KINESIS)
    (re.compile(r"(?P<owner>arn:[^:]+:kinesis:[^:]*:[^:]*:stream/[^/]+)/consumer/.*"), SAR_KINESIS),
)


def owner(resource: str) -> str:
    """The resource whose policy and key govern `resource`: an S3 object's bucket, a log stream's log group, a
    DynamoDB index's table, a Kinesis consumer's stream; any other ARN is its own owner."""
    for pattern, _source in _OWNERS:
        matched = pattern.fullmatch(resource)
        if matched:
            return matched["owner"]
    return resource


def _arn_field(arn: str, position: int) -> str:
    parts = arn.split(":", 5)
    return parts[position] if arn.startswith("arn:") and len(parts) == 6 else ""


def _document(raw: Any) -> dict:
    """A policy input: JSON text as the engine sees it (or an already parsed document)."""
    return json.loads(raw) if isinstance(raw, str) else dict(raw)


# -- The program's policies ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policies:
    """Every policy the proof evaluates against, keyed by the ARN it applies to."""

    identity: Mapping[str, tuple[LabelledPolicy, ...]]  # principal ARN -> its identity policies
    keys: Mapping[str, LabelledPolicy]  # key ARN -> key policy
    resources: Mapping[str, LabelledPolicy]  # queue, topic or bucket ARN -> its resource policy
    encrypted_by: Mapping[str, str]  # resource ARN -> the ARN of the tenant key encrypting it

    @classmethod
    def from_resources(
        cls,
        resources: Iterable[Any],
        extra_identity: Mapping[str, Iterable[LabelledPolicy]] | None = None,
    ) -> Policies:
        """Read the policies from the program's registered resources (`components.offline.RegisteredResource`:
        `tenant`, `type`, `name`, `inputs`, `state`). `extra_identity` adds the identity policies of principals
        the program does not create: the producer and reader roles a tenant names (`outputs_identity`)."""
        registered = list(resources)
        role_arns = {
            name: r.state["arn"]
            for r in registered
            if r.type == ROLE and "arn" in r.state
            for name in (r.state.get("name"), r.inputs.get("name"))
            if name
        }
        identity: dict[str, list[LabelledPolicy]] = {}
        for resource in (r for r in registered if r.type == ROLE_POLICY):
            role = resource.inputs["role"]
            if role not in role_arns:
                raise ValueError(f"{resource.name}: role {role!r} is not a role the program registers")
            identity.setdefault(role_arns[role], []).append(_labelled(resource))
        for principal, extra in (extra_identity or {}).items():
            identity.setdefault(principal, []).extend(extra)
        keys = {r.state["arn"]: _labelled(r) for r in registered if r.type == KEY}
        return cls(
            identity={principal: tuple(policies) for principal, policies in identity.items()},
            keys=keys,
            resources=_resource_policies(registered),
            encrypted_by=_encrypted_by(registered),
        )

    def identity_of(self, principal: str) -> tuple[LabelledPolicy, ...]:
        """The principal's identity policies (none for a service principal)."""
        return self.identity.get(principal, ())

    def key_of(self, resource: str) -> str | None:
        """The ARN of the tenant key that encrypts `resource` (or the resource it belongs to), if any."""
        return self.encrypted_by.get(resource) or self.encrypted_by.get(owner(resource))

    def policy_set(self, request: Request) -> PolicySet:
        """The policies AWS consults for `request`: the key policy for a KMS action, else the owner's policy."""
        identity = list(self.identity_of(request.principal))
        if request.action.lower().startswith("kms:"):
            return PolicySet(identity, key_policy=self.keys.get(request.resource))
        return PolicySet(identity, resource=self.resources.get(owner(request.resource)))


def _labelled(resource: Any) -> LabelledPolicy:
    return LabelledPolicy(resource.name, _document(resource.inputs["policy"]))


def _resource_policies(registered: list[Any]) -> dict[str, LabelledPolicy]:
    queues: dict[str, str] = {}
    for queue in (r for r in registered if r.type == QUEUE and "arn" in r.state):
        for handle in (queue.state.get("url"), queue.state.get("name"), queue.inputs.get("name")):
            if handle:
                queues[handle] = queue.state["arn"]
    buckets = {r.state.get("bucket", r.inputs.get("bucket")): r.state["arn"] for r in registered if r.type == BUCKET}
    found: dict[str, LabelledPolicy] = {}
    for resource in registered:
        if resource.type == QUEUE_POLICY:
            url = resource.inputs["queueUrl"]
            arn = queues.get(url) or queues.get(url.rstrip("/").rpartition("/")[2])
            if arn is None:
                raise ValueError(f"{resource.name}: no registered queue has the URL {url!r}")
        elif resource.type == TOPIC_POLICY:
            arn = resource.inputs["arn"]
        elif resource.type == BUCKET_POLICY:
            bucket = resource.inputs["bucket"]
            arn = buckets.get(bucket, f"arn:aws:s3:::{bucket}")
        else:
            continue
        found[arn] = _labelled(resource)
    return found


def _encrypted_by(registered: list[Any]) -> dict[str, str]:
    """Every resource of a tenant is encrypted with that tenant's key (the program's rule: KMS everywhere)."""
    tenant_keys = {r.tenant: r.state["arn"] for r in registered if r.type == KEY and r.tenant is not None}
    return {
        r.state["arn"]: tenant_keys[r.tenant]
        for r in registered
        if r.tenant in tenant_keys and r.type != KEY and isinstance(r.state.get("arn"), str)
    }


def outputs_identity(
    outputs: Mapping[str, Any], tenant: str, producers: Iterable[str] = (), readers: Iterable[str] = ()
) -> dict[str, list[LabelledPolicy]]:
    """The identity policies of a tenant's producer and reader roles: the tenant's `producer_policy` and
    `reader_policy` outputs, which the roles' owners attach. For `Policies.from_resources(extra_identity=...)`."""
    found: dict[str, list[LabelledPolicy]] = {}
    for roles, output in ((producers, "producer_policy"), (readers, "reader_policy")):
        for role in roles:
            policy = LabelledPolicy(f"{tenant}-{output.replace('_', '-')}", _document(outputs[output]))
            found.setdefault(role, []).append(policy)
    return found


# -- Expansion: the KMS requests a call makes -------------------------------------------------------------------------

# The concrete KMS action AWS authorizes for each wildcard the rules list. kms:ReEncrypt* and kms:GenerateDataKey*:
# "kms:ReEncrypt* (for kms:ReEncryptFrom and kms:ReEncryptTo)", "kms:GenerateDataKey* (for kms:GenerateDataKey and
# kms:GenerateDataKeyWithoutPlaintext)" (DYNAMODB_KEYS): services generate plaintext data keys, so GenerateDataKey.
# The others name one action each in the KMS actions table (SAR_KMS): DescribeKey, Decrypt, Encrypt.
CONCRETE_KMS_ACTIONS: dict[str, tuple[str, ...]] = {
    "kms:Decrypt*": ("kms:Decrypt",),
    "kms:Describe*": ("kms:DescribeKey",),
    "kms:Encrypt*": ("kms:Encrypt",),
    "kms:GenerateDataKey*": ("kms:GenerateDataKey",),
    "kms:ReEncrypt*": ("kms:ReEncryptFrom", "kms:ReEncryptTo"),
}
CONCRETE_KMS_SOURCES = (DYNAMODB_KEYS, SAR_KMS)

# Calls whose data a service encrypts with its own service principal, whoever the caller is: CloudWatch Logs
# encrypts a log group's events as logs.<region>.amazonaws.com (LOGS_KEYS; SERVICE_PRINCIPAL_KEY_USE).
ENCRYPTED_BY_SERVICE_PRINCIPAL: dict[str, str] = {"logs:PutLogEvents": "logs.{region}.amazonaws.com"}
ENCRYPTED_BY_SERVICE_PRINCIPAL_SOURCE = LOGS_KEYS

# A multipart upload is authorized as s3:PutObject but needs kms:Decrypt too (S3_MULTIPART_KEY_USE's page).
OPERATION_KEY_USE: dict[tuple[str, str], tuple[KeyUse, ...]] = {
    ("s3:PutObject", operation): (S3_MULTIPART_KEY_USE,)
    for operation in ("CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload")
}

# kms:ViaService is "<service>.<region>.amazonaws.com" (its table of ViaService names) and kms:CallerAccount the
# caller's account ID (KMS_CONDITION_KEYS, #conditions-kms-via-service and #conditions-kms-caller-account).
VIA_SERVICE = "kms:ViaService"
CALLER_ACCOUNT = "kms:CallerAccount"
CONTEXT_KEYS_SOURCE = KMS_CONDITION_KEYS
# DynamoDB's encryption context names the table by name, not ARN (DYNAMODB_KEYS, quoted in aws_rules).
_TABLE_NAME_CONTEXT = "aws:dynamodb:tableName"


def concrete_actions(action: str) -> tuple[str, ...]:
    """The KMS actions a rule's action pattern is requested as; an unlisted wildcard is refused, not guessed."""
    if "*" not in action and "?" not in action:
        return (action,)
    if action not in CONCRETE_KMS_ACTIONS:
        raise ValueError(f"{action}: no concrete KMS action is listed for this wildcard in CONCRETE_KMS_ACTIONS")
    return CONCRETE_KMS_ACTIONS[action]


def expand(call: Call, policies: Policies) -> list[Request]:
    """The call's own request, then the KMS requests AWS makes because of it when its resource is encrypted by a
    tenant key: the service's requests with the caller's permissions (`DATA_PLANE_KEY_USE`, through
    kms:ViaService) and a service principal's requests as itself (`SERVICE_PRINCIPAL_KEY_USE`)."""
    requests = [Request(call.principal, call.action, call.resource, dict(call.context))]
    key = policies.key_of(call.resource)
    if key is None:
        return requests
    target = owner(call.resource)
    region = _arn_field(target, 3) or _arn_field(key, 3)
    for principal, use in _key_uses(call, region):
        context = _key_context(principal, use, target, region)
        requests += [
            Request(principal, action, key, context) for pattern in use.actions for action in concrete_actions(pattern)
        ]
    return requests


def _key_uses(call: Call, region: str) -> list[tuple[str, KeyUse]]:
    own_uses = {name.format(region=region): uses for name, uses in SERVICE_PRINCIPAL_KEY_USE.items()}
    caller_service = call.principal.removeprefix(SERVICE_PREFIX) if call.principal.startswith(SERVICE_PREFIX) else None
    if caller_service in own_uses:
        # A service principal calling for itself uses the key as itself (cloudwatch.amazonaws.com publishing an
        # alarm to an encrypted topic), not through the service it calls.
        uses = [(call.principal, use) for use in own_uses[caller_service]]
    else:
        caller_uses = OPERATION_KEY_USE.get((call.action, call.operation)) or DATA_PLANE_KEY_USE.get(call.action, ())
        uses = [(call.principal, use) for use in caller_uses]
    service = ENCRYPTED_BY_SERVICE_PRINCIPAL.get(call.action)
    if service is not None:
        name = service.format(region=region)
        uses += [(f"{SERVICE_PREFIX}{name}", use) for use in own_uses[name]]
    return uses


def _key_context(principal: str, use: KeyUse, target: str, region: str) -> dict[str, str]:
    context: dict[str, str] = {}
    if use.via_service:
        context[VIA_SERVICE] = f"{use.via_service}.{region}.amazonaws.com"
    account = _arn_field(principal, 4)
    if account:
        context[CALLER_ACCOUNT] = account
    if use.encryption_context_key:
        value = target.rpartition(":table/")[2] if use.encryption_context_key == _TABLE_NAME_CONTEXT else target
        context[f"kms:EncryptionContext:{use.encryption_context_key}"] = value
    return context


# -- The proof -------------------------------------------------------------------------------------------------------

ROLE_KINDS = ("processor", "firehose")  # the program's role names end in -processor and -firehose


def principal_kind(principal: str) -> str:
    """What a principal is, for reports and exceptions: "processor" or "firehose" for the program's roles (by the
    role name's suffix), the service's first name for a service principal ("logs", "cloudwatch"), else "role"."""
    if principal.startswith(SERVICE_PREFIX):
        return principal.removeprefix(SERVICE_PREFIX).split(".", 1)[0]
    name = principal.rpartition("/")[2]
    return next((kind for kind in ROLE_KINDS if name.endswith(f"-{kind}")), "role")


@dataclass(frozen=True)
class UnusedGrantException:
    """A grant the proof may find unused, with the reason it is granted anyway. `action` is a pattern
    (fnmatch, case-insensitive) matched against the grant's action, for every principal of `principal_kind`."""

    principal_kind: str  # "processor" | "firehose" | "cloudwatch" | "logs"
    action: str
    why: str
    statement: str = "*"  # a pattern for the granting statement's Sid, to except one statement's grant only

    def covers(self, unused: UnusedGrant) -> bool:
        """Whether this exception explains `unused`."""
        return (
            unused.kind == self.principal_kind
            and fnmatchcase(unused.grant.action.lower(), self.action.lower())
            and fnmatchcase(unused.grant.ref.sid or "", self.statement)
        )


_LAMBDA_KINESIS = "Lambda's Kinesis page lists it among the execution role's required permissions"
_FIREHOSE_S3 = (
    "Firehose's \"Controlling access\" page requires it for S3 delivery (multipart uploads and their retries); "
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
        "(runtime/settings.py TABLE_ACTIONS); latest and counters use it on every write",
    ),
    UnusedGrantException("firehose", "kinesis:DescribeStream", "Firehose's \"Controlling access\" page requires it"),
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


@dataclass(frozen=True)
class Denial:
    """A request AWS would refuse: who, from which API operation, and the evaluator's reason."""

    principal: str
    kind: str
    operation: str
    request: Request
    reason: str

    def line(self) -> str:
        r = self.request
        return f"DENIED {self.kind} {self.principal}: {r.action} on {r.resource} ({self.operation}): {self.reason}"

    def as_json(self) -> dict[str, Any]:
        r = self.request
        return {
            "principal": self.principal,
            "kind": self.kind,
            "operation": self.operation,
            "action": r.action,
            "resource": r.resource,
            "context": dict(r.context),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class UnusedGrant:
    """An (action, resource) one of the principal's identity policies or key-policy statements grants and no
    request of the principal matched."""

    principal: str
    kind: str
    grant: Grant

    def line(self) -> str:
        return f"UNUSED {self.kind} {self.principal}: {self.grant.ref} {self.grant.action} on {self.grant.resource}"

    def as_json(self) -> dict[str, Any]:
        g = self.grant
        return {
            "principal": self.principal,
            "kind": self.kind,
            "statement": str(g.ref),
            "action": g.action,
            "resource": g.resource,
        }


@dataclass(frozen=True)
class ExceptedGrant:
    """An unused grant a documented exception covers."""

    unused: UnusedGrant
    exception: UnusedGrantException


@dataclass(frozen=True)
class ProofReport:
    """What the proof found: the calls, the requests they expand to, the denied requests (each distinct request
    once), the unused grants no exception covers, and those an exception does."""

    calls: tuple[Call, ...]
    requests: tuple[Request, ...]
    denied: tuple[Denial, ...]
    unused: tuple[UnusedGrant, ...]
    excepted: tuple[ExceptedGrant, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Nothing denied, and every unused grant excepted."""
        return not self.denied and not self.unused

    def counts(self) -> dict[str, dict[str, int]]:
        """Per principal kind: calls, requests, denied, unused and excepted."""
        tallies = {
            "calls": Counter(principal_kind(call.principal) for call in self.calls),
            "requests": Counter(principal_kind(request.principal) for request in self.requests),
            "denied": Counter(denial.kind for denial in self.denied),
            "unused": Counter(unused.kind for unused in self.unused),
            "excepted": Counter(excepted.unused.kind for excepted in self.excepted),
        }
        kinds = sorted(set().union(*tallies.values()))
        return {kind: {name: tally[kind] for name, tally in tallies.items()} for kind in kinds}

    def render(self) -> str:
        """A short text summary: totals, counts per principal kind, then one line per denial and unused grant."""
        verdict = "OK" if self.ok else "FAILED"
        lines = [
            f"access proof {verdict}: {len(self.calls)} calls, {len(self.requests)} requests, "
            f"{len(self.denied)} denied, {len(self.unused)} unused grants ({len(self.excepted)} excepted)"
        ]
        for kind, count in self.counts().items():
            lines.append(f"  {kind}: " + ", ".join(f"{value} {name}" for name, value in count.items()))
        lines += [denial.line() for denial in self.denied]
        lines += [unused.line() for unused in self.unused]
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "ok": self.ok,
            "calls": len(self.calls),
            "requests": len(self.requests),
            "by_kind": self.counts(),
            "denied": [denial.as_json() for denial in self.denied],
            "unused": [unused.as_json() for unused in self.unused],
            "excepted": [{**item.unused.as_json(), "why": item.exception.why} for item in self.excepted],
        }


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
