"""The tenant's alarms, their SNS topic, and its dashboard.

`alarm_specs` is pure: it says which alarms a tenant gets, on which metric and dimensions, at which
threshold and why. `create_alarms` turns the specs into CloudWatch alarms that notify the topic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components import policies
from components.config import TenantFile
from components.context import PipelineContext, to_json
from components.naming import TenantNames
from runtime import settings as handler_contract


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


def create_topic(ctx: PipelineContext, key_arn) -> aws.sns.Topic:
    name = ctx.tenant.tenant
    topic = aws.sns.Topic(
        f"{name}-alarms",
        name=ctx.names.topic,
        kms_master_key_id=key_arn,
        tags=ctx.tags,
        opts=ctx.opts(),
    )
    aws.sns.TopicPolicy(
        f"{name}-alarms-policy",
        arn=topic.arn,
        policy=pulumi.Output.all(topic.arn, ctx.account_id).apply(
            lambda values: to_json(policies.topic_policy(values[0], values[1]))
        ),
        opts=ctx.opts(),
    )
    for index, email in enumerate(ctx.tenant.notify_emails + list(ctx.settings.notify)):
        aws.sns.TopicSubscription(
            f"{name}-alarms-email-{index}",
            topic=topic.arn,
            protocol="email",
            endpoint=email,
            opts=ctx.opts(),
        )
    return topic


def _alarm_args(spec: AlarmSpec, mapping_uuid: pulumi.Input[str]) -> dict:
    if spec.metric_queries:
        return {"metric_queries": spec.metric_queries}
    return {
        "namespace": spec.namespace,
        "metric_name": spec.metric_name,
        "dimensions": {
            name: mapping_uuid if value == MAPPING_UUID else value for name, value in spec.dimensions.items()
        },
        "statistic": spec.statistic,
        "period": spec.period,
    }


def create_alarms(
    ctx: PipelineContext,
    topic: aws.sns.Topic,
    mapping: aws.lambda_.EventSourceMapping,
    depends_on: list[pulumi.Resource],
) -> list:
    alarms = []
    for spec in alarm_specs(ctx.tenant, ctx.names):
        alarms.append(
            aws.cloudwatch.MetricAlarm(
                f"{ctx.tenant.tenant}-alarm-{spec.suffix}",
                name=f"{ctx.names.alarm_prefix}{spec.suffix}",
                alarm_description=spec.why,
                comparison_operator=spec.comparison,
                threshold=spec.threshold,
                evaluation_periods=spec.evaluation_periods,
                datapoints_to_alarm=spec.datapoints_to_alarm,
                treat_missing_data=spec.treat_missing_data,
                alarm_actions=[topic.arn],
                ok_actions=[topic.arn],
                tags=ctx.tags,
                opts=ctx.opts(depends_on=depends_on),
                **_alarm_args(spec, mapping.uuid),
            )
        )
    return alarms


def dashboard_body(tenant: TenantFile, names: TenantNames, region: str, alarm_arns: list[str]) -> str:
    """One row per stage of the path: stream, processor, table, failures, archive, then alarm states."""

    def graph(title: str, metrics: list[list], stat: str = "Sum") -> dict:
        return {
            "type": "metric",
            "width": 8,
            "height": 6,
            "properties": {"title": title, "region": region, "stat": stat, "period": 60, "metrics": metrics},
        }

    stream, function, table, queue = names.stream, names.function, names.table, names.failure_queue
    widgets = [
        graph("Stream: records in", [["AWS/Kinesis", "IncomingRecords", "StreamName", stream]]),
        graph(
            "Stream: read lag (ms)",
            [["AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", "StreamName", stream]],
            "Maximum",
        ),
        graph("Processor: iterator age (ms)", [["AWS/Lambda", "IteratorAge", "FunctionName", function]], "Maximum"),
        graph(
            "Processor: invocations, errors, throttles",
            [["AWS/Lambda", metric, "FunctionName", function] for metric in ("Invocations", "Errors", "Throttles")],
        ),
        graph("Processor: duration (ms)", [["AWS/Lambda", "Duration", "FunctionName", function]], "Maximum"),
        graph(
            "Handler: records by outcome",
            [
                [
                    handler_contract.METRICS_NAMESPACE,
                    metric,
                    handler_contract.TENANT_DIMENSION,
                    tenant.tenant,
                    handler_contract.SERVICE_DIMENSION,
                    handler_contract.SERVICE_NAME,
                ]
                for metric in (
                    handler_contract.RECORDS_RECEIVED,
                    handler_contract.RECORDS_WRITTEN,
                    handler_contract.DUPLICATES_SKIPPED,
                    handler_contract.STALE_SKIPPED,
                    handler_contract.RECORDS_INVALID,
                )
            ],
        ),
        graph(
            "Table: writes and throttles",
            [
                ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", table],
                ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", table],
            ],
        ),
        graph(
            "Failure queue: depth", [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue]], "Maximum"
        ),
    ]
    if tenant.archive.enabled:
        delivery = names.delivery_stream
        widgets += [
            graph(
                "Archive: records delivered", [["AWS/Firehose", "DeliveryToS3.Records", "DeliveryStreamName", delivery]]
            ),
            graph(
                "Archive: freshness (s)",
                [["AWS/Firehose", "DeliveryToS3.DataFreshness", "DeliveryStreamName", delivery]],
                "Maximum",
            ),
        ]
    widgets.append({"type": "alarm", "width": 24, "height": 4, "properties": {"title": "Alarms", "alarms": alarm_arns}})
    return json.dumps({"widgets": widgets}, sort_keys=True)


def create_dashboard(ctx: PipelineContext, alarms: list[aws.cloudwatch.MetricAlarm]) -> aws.cloudwatch.Dashboard:
    body = pulumi.Output.all(ctx.region, *[alarm.arn for alarm in alarms]).apply(
        lambda values: dashboard_body(ctx.tenant, ctx.names, values[0], list(values[1:]))
    )
    return aws.cloudwatch.Dashboard(
        f"{ctx.tenant.tenant}-dashboard",
        dashboard_name=ctx.names.dashboard,
        dashboard_body=body,
        opts=ctx.opts(),
    )


def dashboard_url(region: str, dashboard: str) -> str:
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={dashboard}"
