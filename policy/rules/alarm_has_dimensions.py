"""An alarm watches the tenant's own resource: each metric it reads has dimensions naming it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .documents import as_list
from .rule import resource_rule
from .types import METRIC_ALARM


def _metrics(props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The metrics an alarm reads: its own, or those of its metric math queries."""
    queries = as_list(props.get("metricQueries"))
    if queries:
        return [query.get("metric") for query in queries if query.get("metric")]
    return [props]


def check(props: Mapping[str, Any]) -> Iterator[str]:
    for metric in _metrics(props):
        if not metric.get("dimensions"):
            yield (
                f"{metric.get('namespace')} {metric.get('metricName')} has no dimensions: the alarm reads "
                "the account-wide aggregate (or no data at all), not the tenant's resource"
            )


RULE = resource_rule(
    name="alarm-has-dimensions",
    description="Every metric an alarm reads has dimensions naming the resource it watches.",
    types=(METRIC_ALARM,),
    check=check,
    fix="set dimensions to the watched resource (FunctionName, TableName, QueueName, StreamName, ...)",
    url="https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Dimension",
)
