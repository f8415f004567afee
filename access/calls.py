"""What one AWS API call asks IAM for: each (action, resource) it is authorized on, as a `Call`.

    calls_for("dynamodb", "BatchWriteItem", params, principal=role_arn, region="us-east-1", account="123456789012")

Pure: a call is read from its API parameters alone, before it is sent. `operations.OPERATIONS` holds one small
resolver per (service, operation), each citing its page; one API call can need several actions or resources (a
transaction, a batch across tables, a Glue table read). What the table cannot interpret raises `UnknownOperation`
or `UnresolvedResource` (`call_types.py`): the access proof must never skip a call silently.
"""

from __future__ import annotations

from collections.abc import Mapping

from access.call_types import SECURE_TRANSPORT, Call, UnknownOperation, Where
from access.operations import OPERATIONS, SERVICE_WIDE


def calls_for(
    service: str,
    operation: str,
    params: Mapping,
    *,
    principal: str,
    region: str,
    account: str,
    partition: str = "aws",
    iterator_streams: Mapping[str, str] | None = None,
    context: Mapping[str, str] | None = None,
) -> list[Call]:
    """The authorization requests one API call makes, in the order IAM would meet them.

    `service` is botocore's service name ("dynamodb", "logs", ...), `params` the call's API parameters.
    `iterator_streams` maps shard iterators (and ListShards page tokens) to their stream ARN, for the Kinesis
    calls that carry only those. `context` adds condition keys the caller knows, such as "aws:SourceArn" or
    "aws:SourceAccount" for a service principal acting for a resource; nothing else is assumed.
    Raises `UnknownOperation` or `UnresolvedResource` rather than guess.
    """
    resolver = OPERATIONS.get((service, operation)) or SERVICE_WIDE.get(service)
    if resolver is None:
        raise UnknownOperation(service, operation)
    where = Where(service, operation, region, account, partition, iterator_streams or {})
    try:
        needs = resolver(params, where)
    except KeyError as missing:
        raise where.unresolved(f"parameter {missing} is missing") from None
    base = {SECURE_TRANSPORT: "true", **(context or {})}
    return [Call(principal, need.action, need.resource, {**base, **need.context}, operation) for need in needs]
