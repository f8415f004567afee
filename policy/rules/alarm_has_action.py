"""An alarm that changes state tells someone: it has an action (the tenant's alarm topic)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .documents import as_list
from .rule import resource_rule
from .types import METRIC_ALARM


def check(props: Mapping[str, Any]) -> Iterator[str]:
    if not as_list(props.get("alarmActions")):
        yield "alarmActions is empty: the alarm turns red and nobody hears of it"


RULE = resource_rule(
    name="alarm-has-action",
    description="Every alarm notifies someone when it fires.",
    types=(METRIC_ALARM,),
    check=check,
    fix="set alarm_actions to the tenant's alarm topic ARN",
    url="https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html",
)
