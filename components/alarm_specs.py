"""The tenant's alarm catalogue, pure: which alarms a tenant gets, on which metric and dimensions, at which
threshold and why. `AlarmSpec.why` justifies the threshold and becomes the alarm's description; `alarms.py` turns
the specs into CloudWatch alarms that notify the tenant's topic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from components.config import TenantFile
from components.naming import TenantNames


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm. `why` is the threshold's justification; it becomes the alarm's description."""

    suffix: str
    why: str
    threshold: float
    comparison: str
    treat_missing_data: str
    namespace: str | None = None
    metric_name: str | None = None
    dimensions: dict[str, str] = field(default_factory=dict)
    statistic: str | None = None
    period: int = 60
    evaluation_periods: int = 3
    datapoints_to_alarm: int = 3
    # For metric math alarms: the queries (id -> metric or expression); `metric_name` is then None.
    metric_queries: list[dict] = field(default_factory=list)


def _lambda_metric(query_id: str, metric: str, function: str) -> dict:
    return {
        "id": query_id,
        "metric": {
            "namespace": "AWS/Lambda",
            "metric_name": metric,
            "dimensions": {"FunctionName": function},
            "period": 60,
            "stat": "Sum",
        },
        "return_data": False,
    }


def _processing_alarms(tenant: TenantFile, names: TenantNames) -> list[AlarmSpec]:
    limits = tenant.alarms
    function = {"FunctionName": names.function}
    duration_ms = tenant.processing.timeout_seconds * 1000 * limits.duration_percent_of_timeout / 100
    return [
        AlarmSpec(
            "iterator-age",
            f"The processor is more than {limits.iterator_age_seconds} s behind the stream for 3 minutes: "
            "records wait before they reach the table. At 60 s the seed's guidance is to scale (more "
            "parallelization, shorter duration) long before records near the stream's retention.",
            limits.iterator_age_seconds * 1000,
            "GreaterThanThreshold",
            "notBreaching",  # no traffic means no lag
            "AWS/Lambda",
            "IteratorAge",
            function,
            "Maximum",
        ),
        AlarmSpec(
            "error-rate",
            f"More than {limits.error_rate_percent}% of invocations fail for 3 minutes. Transient DynamoDB "
            "errors are retried inside the handler, so a sustained rate means a bug or a broken dependency.",
            limits.error_rate_percent,
            "GreaterThanThreshold",
            "notBreaching",
            metric_queries=[
                _lambda_metric("errors", "Errors", names.function),
                _lambda_metric("invocations", "Invocations", names.function),
                {
                    "id": "error_rate",
                    "expression": "IF(invocations > 0, 100 * errors / invocations, 0)",
                    "label": "Error rate (%)",
                    "return_data": True,
                },
            ],
        ),
        AlarmSpec(
            "throttles",
            "Any throttled invocation: the account or the reserved concurrency is too small for the "
            "stream's shards x parallelization factor, and the iterator age will grow next.",
            0,
            "GreaterThanThreshold",
            "notBreaching",
            "AWS/Lambda",
            "Throttles",
            function,
            "Sum",
            evaluation_periods=1,
            datapoints_to_alarm=1,
        ),
        AlarmSpec(
            "duration",
            f"Invocations take over {limits.duration_percent_of_timeout}% of the {tenant.processing.timeout_seconds} s "
            "timeout: a timed-out batch is retried whole, so act before it happens.",
            duration_ms,
            "GreaterThanThreshold",
            "notBreaching",
            "AWS/Lambda",
            "Duration",
            function,
            "Maximum",
        ),
    ]


# The mapping's UUID exists only once the mapping does: specs name it with this placeholder, and
# create_alarms puts the real one in. Lambda publishes the event source mapping's metrics with the
# EventSourceMappingUUID dimension only ("Event source mapping metrics", monitoring-metrics-types.html).
MAPPING_UUID = "<event-source-mapping-uuid>"


def _mapping_alarms(tenant: TenantFile) -> list[AlarmSpec]:
    """Both on-failure destinations (queue or bucket) are covered by the mapping's own metrics."""
    mapping = {"EventSourceMappingUUID": MAPPING_UUID}
    destination = "failure bucket" if tenant.processing.on_failure == "s3" else "failure queue"
    return [
        AlarmSpec(
            "failed-batches",
            f"Records of a batch that ran out of retries ({tenant.processing.max_retries}) or age "
            f"({tenant.processing.max_record_age_seconds} s) went to the {destination}: none of them reached the "
            "table. Fix the cause, then replay them from the stream before its retention ends.",
            0,
            "GreaterThanThreshold",
            "notBreaching",
            "AWS/Lambda",
            "OnFailureDestinationDeliveredEventCount",
            mapping,
            "Sum",
            evaluation_periods=1,
            datapoints_to_alarm=1,
        ),
        AlarmSpec(
            "dropped-events",
            "Events were dropped: the mapping gave up on them and could not record them in the "
            f"{destination} either. Only the stream still holds them, until its retention ends.",
            0,
            "GreaterThanThreshold",
            "notBreaching",
            "AWS/Lambda",
            "DroppedEventCount",
            mapping,
            "Sum",
            evaluation_periods=1,
            datapoints_to_alarm=1,
        ),
    ]


def _store_alarms(tenant: TenantFile, names: TenantNames) -> list[AlarmSpec]:
    limits = tenant.alarms
    queue = {"QueueName": names.failure_queue}
    specs = [
        AlarmSpec(
            "table-write-throttles",
            "Any throttled write. On-demand tables throttle only in extreme spikes or on a hot partition "
            "key; the handler backs off, but sustained throttling delays every record behind it.",
            0,
            "GreaterThanThreshold",
            "notBreaching",
            "AWS/DynamoDB",
            "WriteThrottleEvents",
            {"TableName": names.table},
            "Sum",
            evaluation_periods=1,
            datapoints_to_alarm=1,
        ),
        AlarmSpec(
            "failure-queue-depth",
            "Any message in the failure queue is a record that will never reach the table without a "
            "person: a poison pill or a batch that ran out of retries. Inspect it, fix the cause, replay it.",
            0,
            "GreaterThanThreshold",
            "notBreaching",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            queue,
            "Maximum",
            evaluation_periods=1,
            datapoints_to_alarm=1,
        ),
        AlarmSpec(
            "failure-queue-age",
            f"A failed record has waited over {limits.failure_queue_oldest_seconds} s: the queue keeps "
            "messages 14 days, after which they are lost for good.",
            limits.failure_queue_oldest_seconds,
            "GreaterThanThreshold",
            "notBreaching",
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            queue,
            "Maximum",
            period=300,
            evaluation_periods=1,
            datapoints_to_alarm=1,
        ),
    ]
    if tenant.stream.mode == "provisioned":
        specs.append(
            AlarmSpec(
                "stream-write-throttled",
                "Producers hit a shard's 1 MB/s or 1,000 records/s write limit: add shards or switch to "
                "on-demand mode. Rejected records must be retried by the producer.",
                0,
                "GreaterThanThreshold",
                "notBreaching",
                "AWS/Kinesis",
                "WriteProvisionedThroughputExceeded",
                {"StreamName": names.stream},
                "Sum",
                evaluation_periods=1,
                datapoints_to_alarm=1,
            )
        )
    return specs


def _archive_alarms(tenant: TenantFile, names: TenantNames) -> list[AlarmSpec]:
    if not tenant.archive.enabled:
        return []
    limits = tenant.alarms
    delivery = {"DeliveryStreamName": names.delivery_stream}
    return [
        AlarmSpec(
            "archive-freshness",
            f"The oldest record not yet in S3 is over {limits.archive_freshness_seconds} s old: three times "
            f"the {tenant.archive.buffer_seconds} s buffer by default, so delivery is stuck, not buffering.",
            limits.archive_freshness_seconds,
            "GreaterThanThreshold",
            "notBreaching",
            "AWS/Firehose",
            "DeliveryToS3.DataFreshness",
            delivery,
            "Maximum",
            period=300,
            evaluation_periods=1,
            datapoints_to_alarm=1,
        ),
        AlarmSpec(
            "archive-delivery-failures",
            "Some deliveries to S3 failed (the success ratio fell below 1): Firehose retries for 24 hours, "
            "then the records go to the error prefix instead of the archive.",
            1,
            "LessThanThreshold",
            "notBreaching",
            "AWS/Firehose",
            "DeliveryToS3.Success",
            delivery,
            "Minimum",
            period=300,
            evaluation_periods=1,
            datapoints_to_alarm=1,
        ),
    ]


def alarm_specs(tenant: TenantFile, names: TenantNames) -> list[AlarmSpec]:
    return [
        *_processing_alarms(tenant, names),
        *_mapping_alarms(tenant),
        *_store_alarms(tenant, names),
        *_archive_alarms(tenant, names),
    ]
