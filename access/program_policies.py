"""Every policy the access proof evaluates against, read from the resources the program registers.

    policies = Policies.from_resources(evaluation.resources, extra_identity=outputs_identity(...))

Each role's identity policies, each tenant key's policy, each queue, topic and bucket policy, and which tenant key
encrypts which resource; `owner` says which resource a request's ARN belongs to, whose policy and key govern it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from access.aws_rules import SAR_DYNAMODB, SAR_KINESIS, SAR_LOGS, SAR_S3
from access.policy_types import LabelledPolicy, PolicySet, Request

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


def _document(raw: Any) -> dict:
    """A policy input: JSON text as the engine sees it (or an already parsed document)."""
    return json.loads(raw) if isinstance(raw, str) else dict(raw)


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
