"""The second explicit step: a table may go without deletion protection only when its tenant's file confirmed
deleting its data, which the program marks with the tag `lifecycle: delete-data`. Nothing else exempts it."""

from __future__ import annotations

import pytest
from plan_cases import broken, find, findings, where
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policy.rules import table_deletion_protection
from policy.rules.types import TABLE

RULE = table_deletion_protection.RULE


def _unprotected(plan, tenant: str, tags):
    table = find(plan, tenant, TABLE)
    return table, broken(broken(table, "deletionProtectionEnabled", False), "tags", tags)


def test_deletion_protection_accepts_an_unprotected_table_tagged_for_deletion(plan):
    """tests/components/test_lifecycle.py holds the program to setting this tag: a delete-data plan passes."""
    tags = {**find(plan, "orders", TABLE).inputs["tags"], "lifecycle": "delete-data"}
    table, released = _unprotected(plan, "orders", tags)
    assert findings(RULE, [released]) == []
    assert findings(RULE, [broken(table, "deletionProtectionEnabled", False)]) == [where(table)]


@pytest.mark.parametrize(
    "tags",
    [
        {"lifecycle": "offboarded"},
        {"lifecycle": "active"},
        {"lifecycle": "delete-data "},
        {"Lifecycle": "delete-data"},
        {"tenant": "sensors", "delete-data": "lifecycle"},
        {},
    ],
    ids=["offboarded", "active", "trailing-space", "key-case", "swapped", "untagged"],
)
def test_deletion_protection_refuses_an_unprotected_table_without_the_exact_tag(plan, tags):
    table, loosened = _unprotected(plan, "sensors", tags)
    assert findings(RULE, [loosened]) == [where(table)]


def test_deletion_protection_gives_no_exemption_while_the_tags_are_not_known(plan):
    """In a preview the tags could be unknown: no exemption is granted on a value the pack cannot read."""
    table, unknown = _unprotected(plan, "clicks", UNKNOWN_STRING_VALUE)
    assert findings(RULE, [unknown]) == [where(table)]


def test_deletion_protection_violation_names_the_second_explicit_step(plan):
    table = broken(find(plan, "orders", TABLE), "deletionProtectionEnabled", False)
    assert "`lifecycle: delete-data` with `delete_data_confirm: <tenant>`" in RULE.remediation_steps
    assert findings(RULE, [table]) == [where(table)]
