"""Buckets, queues and topics refuse requests that do not use TLS, whoever makes them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .documents import as_list, denies_insecure_transport, statements
from .rule import stack_rule
from .tenancy import of_type
from .types import BUCKET, BUCKET_POLICY, QUEUE, QUEUE_POLICY, TOPIC, TOPIC_POLICY


def _attached(resources: Sequence[Any], target: Any) -> list[Any]:
    """The policy documents that apply to the target: its own `policy` input and its policy resources."""
    props = target.props
    if target.resource_type == BUCKET:
        policies = [p for p in of_type(resources, BUCKET_POLICY) if p.props.get("bucket") == props.get("bucket")]
    elif target.resource_type == QUEUE:
        policies = [p for p in of_type(resources, QUEUE_POLICY) if p.props.get("queueUrl") == props.get("url")]
    else:
        policies = [p for p in of_type(resources, TOPIC_POLICY) if p.props.get("arn") == props.get("arn")]
    return [props.get("policy")] + [policy.props.get("policy") for policy in policies]


def _required(target: Any) -> set[str]:
    """The ARNs a TLS-only statement must cover: a bucket's objects as well as the bucket."""
    arn = target.props.get("arn")
    return {arn, f"{arn}/*"} if target.resource_type == BUCKET else {arn}


def check(resources: Sequence[Any]) -> Iterator[tuple[Any, str]]:
    for target in of_type(resources, BUCKET, QUEUE, TOPIC):
        covered = {
            arn
            for document in _attached(resources, target)
            for statement in statements(document)
            if denies_insecure_transport(statement)
            for arn in as_list(statement.get("Resource"))
        }
        missing = _required(target) - covered
        if "*" not in covered and missing:
            yield target, f"no statement denies requests without TLS (aws:SecureTransport false) on {sorted(missing)}"


RULE = stack_rule(
    name="tls-only-access",
    description="Every bucket, queue and topic has a resource policy that denies requests made without TLS.",
    check=check,
    fix='add a policy statement {"Effect": "Deny", "Principal": "*", "Action": "*", "Condition": '
    '{"Bool": {"aws:SecureTransport": "false"}}} on the resource (and a bucket\'s objects, ARN/*)',
    url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html",
)
