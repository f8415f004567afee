"""The two shapes of rule in the pack, built the same way: a pure check, what it protects, and how to fix it.

A resource rule's check takes one resource's inputs (camelCase, numbers as floats: what `pulumi preview` hands
a policy as `args.props`) and yields what is wrong with them. A stack rule's check takes every resource of the
stack (`PolicyResource`s: outputs, parents) and yields `(resource, problem)`. Either check can be called
directly on plain data; the `Policy` objects wrap them for CrossGuard, where every violation message is the
problem followed by its fix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

ResourceCheck = Callable[[Mapping[str, Any]], Iterable[str]]
StackCheck = Callable[[Sequence[Any]], Iterable[tuple[Any, str]]]


def message(problem: str, fix: str) -> str:
    return f"{problem}. Fix: {fix}"


def resource_rule(
    *,
    name: str,
    description: str,
    types: Sequence[str],
    check: ResourceCheck,
    fix: str,
    url: str,
    applies: Callable[[Mapping[str, Any]], bool] = lambda props: True,
) -> ResourceValidationPolicy:
    """A rule over each resource of `types` (for which `applies(props)` holds) on its own."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type in types and applies(args.props):
            for problem in check(args.props):
                report_violation(message(problem, fix), None)

    return ResourceValidationPolicy(
        name=name, description=description, validate=validate, remediation_steps=fix, url=url
    )


def stack_rule(*, name: str, description: str, check: StackCheck, fix: str, url: str) -> StackValidationPolicy:
    """A rule over the whole stack: what one resource alone cannot show (companions, references, tenants)."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for resource, problem in check(args.resources):
            report_violation(message(problem, fix), resource.urn)

    return StackValidationPolicy(name=name, description=description, validate=validate, remediation_steps=fix, url=url)


def known(props: Mapping[str, Any], key: str) -> Any:
    """The property, or None while a preview cannot know it yet (an ARN of a resource it creates)."""
    try:
        return props.get(key)
    except UnknownValueError:
        return None


def number(value: Any) -> str:
    """A number as the tenant file writes it: inputs arrive as floats (3600.0), people read 3600."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
