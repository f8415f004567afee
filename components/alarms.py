"""The tenant's alarms, their SNS topic, and its dashboard.

`create_alarms` turns the catalogue (`alarm_specs.py`: which alarms, on which metric, at which threshold and why)
into CloudWatch alarms that notify the topic; the dashboard shows every stage of the path and the alarms' states.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from components import policies
from components.alarm_specs import MAPPING_UUID, AlarmSpec, alarm_specs
from components.config import TenantFile
from components.context import PipelineContext, to_json
from components.naming import TenantNames
from runtime import settings as handler_contract


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
