"""The pack's rules over a planned stack, as `pulumi preview --policy-pack policy` applies them, without Pulumi's CLI.

Each resource rule sees every resource's inputs; each stack rule sees every resource's outputs with its parent
(the tenant's `TenantPipeline` component). Properties are wrapped as the analyzer wraps them, so a rule meets
the same mapping and sequence types here as in a real preview. The PolicyPack itself is never built: it would
start a gRPC server and block.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from policy.rules import ENFORCEMENT, RULES
from policy.rules.types import TENANT_PIPELINE

PROJECT = "tributary"


class PlannedResource(Protocol):
    """One resource of an offline plan (`components.offline.RegisteredResource` is one)."""

    tenant: str | None
    type: str
    name: str
    inputs: Mapping[str, Any]
    state: Mapping[str, Any]


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    mandatory: bool
    tenant: str | None = None
    resource_type: str | None = None
    resource_name: str | None = None

    def __str__(self) -> str:
        where = f"tenant {self.tenant}: " if self.tenant else ""
        what = f"{self.resource_type} {self.resource_name}: " if self.resource_name else ""
        return f"{where}{what}{self.rule}: {self.message}"


@dataclass(frozen=True)
class Report:
    rules: tuple[Policy, ...]
    violations: tuple[Violation, ...]

    def of_tenant(self, tenant: str | None) -> list[Violation]:
        return [violation for violation in self.violations if violation.tenant == tenant]

    @property
    def blocking(self) -> bool:
        """Whether any violation is of a mandatory rule: `pulumi up` would refuse the stack."""
        return any(violation.mandatory for violation in self.violations)


def urn(stack: str, resource: PlannedResource) -> str:
    parent = "" if resource.type == TENANT_PIPELINE or not resource.tenant else f"{TENANT_PIPELINE}$"
    return f"urn:pulumi:{stack}::{PROJECT}::{parent}{resource.type}::{resource.name}"


def _options(parent_urn: str | None = None) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=parent_urn,
    )


def _stack_resources(stack: str, resources: Sequence[PlannedResource]) -> list[PolicyResource]:
    """Every resource as a stack rule sees it: its outputs, and its tenant's component as parent."""
    components = {
        r.name: PolicyResource(
            r.type, unknown_checking_proxy(dict(r.inputs)), urn(stack, r), r.name, _options(), None, None, [], {}
        )
        for r in resources
        if r.type == TENANT_PIPELINE
    }
    seen: list[PolicyResource] = list(components.values())
    for r in resources:
        if r.type == TENANT_PIPELINE:
            continue
        parent = components.get(r.tenant or "")
        props = unknown_checking_proxy(dict(r.state or r.inputs))
        options = _options(parent.urn if parent else None)
        seen.append(PolicyResource(r.type, props, urn(stack, r), r.name, options, None, parent, [], {}))
    return seen


class _Collector:
    """Turns what the rules report into violations attributed to the planned resources."""

    def __init__(self, stack: str, resources: Sequence[PlannedResource]):
        self.by_urn = {urn(stack, r): r for r in resources}
        self.violations: list[Violation] = []

    def reporter(self, rule: Policy, resource_urn: str | None = None) -> ReportViolation:
        """A `report_violation` for the rule; for a resource rule the URN is its resource's, as in the analyzer."""
        mandatory = (rule.enforcement_level or ENFORCEMENT) == EnforcementLevel.MANDATORY

        def report(message: str, urn: str | None = None) -> None:
            resource = self.by_urn.get(resource_urn or urn or "")
            where = (resource.tenant, resource.type, resource.name) if resource else (None, None, None)
            self.violations.append(Violation(rule.name, message, mandatory, *where))

        return report


def check(stack: str, resources: Sequence[PlannedResource], rules: Sequence[Policy] = RULES) -> Report:
    """Every violation the rules find in the planned stack, attributed to its tenant and resource."""
    collector = _Collector(stack, resources)
    stack_resources = _stack_resources(stack, resources)
    for rule in rules:
        if isinstance(rule, StackValidationPolicy):
            rule.validate(StackValidationArgs(stack_resources), collector.reporter(rule))
        elif isinstance(rule, ResourceValidationPolicy):
            for r in resources:
                props = unknown_checking_proxy(dict(r.inputs))
                args = ResourceValidationArgs(r.type, props, urn(stack, r), r.name, _options(), None)
                rule.validate(args, collector.reporter(rule, urn(stack, r)))
    return Report(tuple(rules), tuple(collector.violations))
