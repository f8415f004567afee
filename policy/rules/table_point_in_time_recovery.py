"""The serving table can be restored to any second of the last 35 days."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .rule import resource_rule
from .types import TABLE


def check(props: Mapping[str, Any]) -> Iterator[str]:
    if (props.get("pointInTimeRecovery") or {}).get("enabled") is not True:
        yield "pointInTimeRecovery is off: a bad write or a deleted item cannot be restored"


RULE = resource_rule(
    name="table-point-in-time-recovery",
    description="A DynamoDB table has point-in-time recovery (continuous backups).",
    types=(TABLE,),
    check=check,
    fix="remove table.point_in_time_recovery: false from the tenant file (true is the default)",
    url="https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Point-in-time-recovery.html",
)
