"""How the rules see a planned stack: each resource under its tenant's component, as `pulumi preview` shows it."""

from __future__ import annotations

from plan_cases import find

from policy.rules.tenancy import by_tenant, tenant_of
from policy.rules.types import TABLE, TENANT_PIPELINE
from policy.run import Violation, _options, _stack_resources, check


def test_stack_rules_find_every_resource_under_its_tenants_component(plan):
    seen = _stack_resources("dev", plan.resources)
    assert [tenant_of(resource) for resource in seen] == [
        r.name if r.type == TENANT_PIPELINE else r.tenant for r in (_planned(plan, s) for s in seen)
    ]
    grouped = by_tenant(seen)
    assert {tenant: len(owned) for tenant, owned in grouped.items()} == {
        tenant: len([r for r in plan.resources if r.tenant == tenant and r.type != TENANT_PIPELINE])
        for tenant in grouped
    }


def test_a_resource_outside_any_component_belongs_to_the_tenant_its_tag_names(plan):
    """A stack whose resources were registered without the component still groups by the `tenant` tag; an
    untagged resource then belongs to no tenant rather than to a guess from its name."""
    orphans = [resource for resource in _stack_resources("dev", plan.resources) if resource.parent is not None]
    for resource in orphans:
        resource.parent, resource.opts = None, _options()
    tagged = [r for r in orphans if r.props.get("tags")]
    assert tagged and all(tenant_of(r) == _planned(plan, r).tenant for r in tagged)
    assert all(tenant_of(r) is None for r in orphans if not r.props.get("tags"))


def test_a_violation_reads_tenant_resource_rule_and_message(plan):
    table = find(plan, "clicks", TABLE)
    violation = Violation("table-deletion-protection", "off. Fix: on", True, "clicks", table.type, table.name)
    assert (
        str(violation)
        == "tenant clicks: aws:dynamodb/table:Table clicks-table: table-deletion-protection: off. Fix: on"
    )
    assert check("dev", plan.resources).violations == ()


def _planned(plan, policy_resource):
    [found] = [r for r in plan.resources if (r.type, r.name) == (policy_resource.resource_type, policy_resource.name)]
    return found
