"""Failing cases in cdk-nag's style: a real resource of the evaluated plan, copied, with one property broken.

`broken` never touches the session's plan: it returns a copy whose inputs (what resource rules see) and state
(what stack rules see) both carry the change.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

from components.offline import Evaluation, RegisteredResource
from policy.run import check

DELETE = object()  # as a value for `broken`: remove the property


def all_of(plan: Evaluation, tenant: str, type_: str) -> list[RegisteredResource]:
    return [r for r in plan.resources if r.tenant == tenant and r.type == type_]


def find(plan: Evaluation, tenant: str, type_: str, **inputs: Any) -> RegisteredResource:
    found = [
        r
        for r in plan.resources
        if r.tenant == tenant and r.type == type_ and all(r.inputs.get(k) == v for k, v in inputs.items())
    ]
    assert len(found) == 1, f"tenant {tenant}: {len(found)} {type_} with {inputs}"
    return found[0]


def _set(document: dict, path: Sequence[str | int], value: Any) -> None:
    for step in path[:-1]:
        document = document[step]
    if value is DELETE:
        document.pop(path[-1], None)  # inputs and state may share the nested object: the second pop finds it gone
    else:
        document[path[-1]] = value


def broken(resource: RegisteredResource, path: str, value: Any) -> RegisteredResource:
    """A copy of the resource with the property at the dotted path (list indexes as numbers) set or deleted."""
    steps = [int(step) if step.isdigit() else step for step in path.split(".")]
    twin = copy.deepcopy(resource)
    for properties in (twin.inputs, twin.state):
        _set(properties, steps, value)
    return twin


def with_policy(resource: RegisteredResource, edit) -> RegisteredResource:
    """A copy whose JSON `policy` input is replaced by `edit(document)`."""
    document = json.loads(resource.inputs["policy"])
    return broken(resource, "policy", json.dumps(edit(document)))


def replaced(resources: Sequence[RegisteredResource], original: RegisteredResource, *twins) -> list:
    """The plan's resources with `original` swapped for its broken twin(s) (none: removed)."""
    return [twin for r in resources for twin in ((r,) if r is not original else twins)]


def findings(rule, resources: Sequence[RegisteredResource]) -> list[tuple[str | None, str | None, str | None]]:
    """(tenant, type, name) of each violation the rule reports; every message must end with the rule's fix."""
    report = check("dev", resources, [rule])
    for violation in report.violations:
        assert violation.rule == rule.name and violation.mandatory
        assert violation.message.endswith(f"Fix: {rule.remediation_steps}"), violation.message
    return [(v.tenant, v.resource_type, v.resource_name) for v in report.violations]


def where(resource: RegisteredResource) -> tuple[str | None, str, str]:
    return (resource.tenant, resource.type, resource.name)
