"""The serving table cannot be deleted by accident: deleting it takes a change of this setting first."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .rule import resource_rule
from .types import TABLE


def check(props: Mapping[str, Any]) -> Iterator[str]:
    if props.get("deletionProtectionEnabled") is not True:
        yield "deletionProtectionEnabled is off: one DeleteTable call (or a replace) loses the table"


RULE = resource_rule(
    name="table-deletion-protection",
    description="A DynamoDB table has deletion protection on.",
    types=(TABLE,),
    check=check,
    fix="remove table.deletion_protection: false from the tenant file (true is the default)",
    url="https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection",
)
