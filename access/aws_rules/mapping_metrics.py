"""Lambda's event source mapping metrics (the EventCount group) for a Kinesis source, as cited data."""

from __future__ import annotations

from dataclasses import dataclass

from access.aws_rules.pages import LAMBDA_ESM_METRICS, LAMBDA_METRICS_VIEW


@dataclass(frozen=True)
class EsmMetric:
    """One event source mapping metric and what it counts, in the page's words."""

    name: str
    meaning: str


@dataclass(frozen=True)
class EsmMetricFacts:
    """Where the mapping's metrics are published and how to read them."""

    metrics_config: str  # the value of MetricsConfig.Metrics that turns the group on
    namespace: str
    dimension: str
    statistic: str
    metrics: tuple[EsmMetric, ...]
    source: str
    note: str = ""

    def names(self) -> tuple[str, ...]:
        """The metric names in the group, in the page's order."""
        return tuple(metric.name for metric in self.metrics)


ESM_METRICS = EsmMetricFacts(
    metrics_config="EventCount",
    namespace="AWS/Lambda",
    dimension="EventSourceMappingUUID",
    statistic="Sum",
    metrics=(
        EsmMetric(
            "PolledEventCount",
            "Events Lambda reads successfully from the source; 0 on an empty poll.",
        ),
        EsmMetric(
            "FilteredOutEventCount",
            "Events the mapping's filter criteria filtered out; 0 for events that match.",
        ),
        EsmMetric(
            "InvokedEventCount",
            "Events that invoked the function; a retried event can be counted several times.",
        ),
        EsmMetric(
            "FailedInvokeEventCount",
            "Events Lambda tried to invoke the function with but failed (network configuration, permissions, "
            "deleted function...); with partial batch responses, events in a non-empty BatchItemFailures. "
            "Timestamped at the END of the invocation.",
        ),
        EsmMetric(
            "DroppedEventCount",
            "Events dropped for expiry or retry exhaustion (MaximumRecordAgeInSeconds, MaximumRetryAttempts); not "
            "records the stream's retention expired. \"Dropped events also excludes events that you send to an "
            'on-failure destination": an event delivered there is not counted as dropped.',
        ),
        EsmMetric(
            "OnFailureDestinationDeliveredEventCount",
            "Events sent to the on-failure destination. When delivery fails, this metric is not emitted, "
            "DestinationDeliveryFailures gets 1 and DroppedEventCount gets the number of events that failed delivery.",
        ),
    ),
    source=LAMBDA_ESM_METRICS,
    note="Kinesis and DynamoDB streams get these six; DeletedEventCount is SQS only. The dimension is from the "
    f'view page ({LAMBDA_METRICS_VIEW}: "By Event Source Mapping UUID ... View metrics for an event source '
    'mapping"); the metrics section names no statistic, the view page says graphs default to Sum for all '
    "metrics. Whether these metrics are also published per FunctionName is not stated. No metrics while the "
    "mapping is disabled.",
)
