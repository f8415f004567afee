"""Logs are kept for a bounded time: a log group without retention keeps (and bills) every event forever."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .rule import resource_rule
from .types import LOG_GROUP


def check(props: Mapping[str, Any]) -> Iterator[str]:
    if not props.get("retentionInDays"):
        yield "retentionInDays is unset: the log group never expires its events"


RULE = resource_rule(
    name="log-group-retention",
    description="A log group expires its events after a retention period.",
    types=(LOG_GROUP,),
    check=check,
    fix="set retention_in_days on the log group (tributary uses 30)",
    url="https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html",
)
