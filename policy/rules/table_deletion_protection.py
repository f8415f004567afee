"""The serving table cannot be deleted by accident: deleting it takes a change of this setting first.

The one deliberate way to delete it is the tenant file's second explicit step, `lifecycle: delete-data` with its
confirmation, which the program marks on every resource of the tenant with the tag `lifecycle: delete-data`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .rule import known, resource_rule
from .types import TABLE

# The tag the program (components/lifecycle.py) sets on a tenant whose data is let go; tenant files cannot set it.
LIFECYCLE_TAG = "lifecycle"
DELETE_DATA = "delete-data"


def lets_data_go(props: Mapping[str, Any]) -> bool:
    """Whether the resource belongs to a tenant whose file confirmed deleting its data."""
    tags = known(props, "tags") or {}
    return known(tags, LIFECYCLE_TAG) == DELETE_DATA


def check(props: Mapping[str, Any]) -> Iterator[str]:
    if props.get("deletionProtectionEnabled") is not True and not lets_data_go(props):
        yield "deletionProtectionEnabled is off: one DeleteTable call (or a replace) loses the table"


RULE = resource_rule(
    name="table-deletion-protection",
    description="A DynamoDB table has deletion protection on, unless its tenant's file confirms deleting its data.",
    types=(TABLE,),
    check=check,
    fix="remove table.deletion_protection: false from the tenant file (true is the default); to delete the "
    "tenant's data on purpose, set `lifecycle: delete-data` with `delete_data_confirm: <tenant>`",
    url="https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection",
)
