"""No tenant's policies name another tenant's resources: one tenant's roles and keys never reach another's data."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from .documents import arn_strings, base_arn, statements
from .rule import stack_rule
from .tenancy import by_tenant, own_arns, physical_names
from .types import BUCKET_POLICY, IDENTITY_POLICIES, KEY, QUEUE_POLICY, ROLE, TOPIC_POLICY

# Per type, the inputs that hold policy documents.
DOCUMENTS = {
    **{type_: ("policy",) for type_ in (*IDENTITY_POLICIES, KEY, BUCKET_POLICY, QUEUE_POLICY, TOPIC_POLICY)},
    ROLE: ("assumeRolePolicy",),
}


def _segments(arn: str) -> set[str]:
    return set(re.split(r"[:/]", arn))


def _documents(resource: Any) -> Iterator[Any]:
    for input_name in DOCUMENTS.get(resource.resource_type, ()):
        yield from statements(resource.props.get(input_name))


def check(resources: Sequence[Any]) -> Iterator[tuple[Any, str]]:
    tenants = by_tenant(resources)
    arns = {tenant: own_arns(owned) for tenant, owned in tenants.items()}
    names = {tenant: {n for r in owned for n in physical_names(r)} for tenant, owned in tenants.items()}
    for tenant, owned in sorted(tenants.items()):
        for resource in owned:
            mentioned = {arn for statement in _documents(resource) for arn in arn_strings(statement)}
            for other in sorted(set(tenants) - {tenant}):
                # Names every tenant has (the Glue table `events`) belong to no one in particular.
                theirs = names[other] - names[tenant]
                for arn in sorted(mentioned):
                    if base_arn(arn) in arns[other] or _segments(arn) & theirs:
                        yield resource, f"its policy names {arn}, a resource of tenant {other}"


RULE = stack_rule(
    name="tenant-isolation",
    description="No tenant's IAM, key or resource policy names another tenant's resources.",
    check=check,
    fix="build each tenant's policies from that tenant's own ARNs only (components/policies.py, key_policy.py)",
    url="https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
)
