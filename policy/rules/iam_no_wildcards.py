"""Identity policies name the actions and the resources they grant; X-Ray's trace APIs are the one exception."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .documents import as_list, statements
from .rule import resource_rule
from .types import IDENTITY_POLICIES, ROLE

# X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions: their statement must
# name Resource "*" ("Actions, resources, and condition keys for AWS X-Ray",
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html).
RESOURCE_WILDCARD_SERVICES = ("xray:",)


def _documents(props: Mapping[str, Any]) -> list[Any]:
    """An identity policy's document, or a role's inline ones."""
    inline = [policy.get("policy") for policy in as_list(props.get("inlinePolicies"))]
    return [props.get("policy"), *inline]


def _problems(statement: Mapping[str, Any]) -> Iterator[str]:
    sid = statement.get("Sid") or "a statement"
    for inverse in ("NotAction", "NotResource"):
        if inverse in statement:
            yield f"{sid} grants with {inverse}: everything except what it lists"
    actions = [str(action) for action in as_list(statement.get("Action"))]
    wild_actions = [action for action in actions if "*" in action]
    if wild_actions:
        yield f"{sid} grants wildcard actions {wild_actions}"
    if "*" in as_list(statement.get("Resource")) and not all(a.startswith(RESOURCE_WILDCARD_SERVICES) for a in actions):
        yield f"{sid} grants {sorted(actions)} on every resource (*)"


def check(props: Mapping[str, Any]) -> Iterator[str]:
    for document in _documents(props):
        for statement in statements(document):
            if statement.get("Effect") == "Allow":
                yield from _problems(statement)


RULE = resource_rule(
    name="iam-no-wildcards",
    description="An identity policy grants named actions on named resources (Resource * only for X-Ray).",
    types=(*IDENTITY_POLICIES, ROLE),
    check=check,
    fix="list each action the principal calls and the ARNs it calls them on; only X-Ray's trace actions take *",
    url="https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
)
