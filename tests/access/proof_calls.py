"""What the access proof's tests call and read from the program's dev plan: each tenant's names (`Tenant`), calls
built with `access.calls.calls_for` from API parameters as the recorder builds them, and the calls every principal
of every tenant makes (`example_calls`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from access.call_types import Call
from access.calls import calls_for
from access.policy_types import Request
from access.proof_report import ProofReport
from components.offline import ACCOUNT_ID, Evaluation

PROJECT = Path(__file__).resolve().parents[2]
TENANT = "sensors"  # writes in `events` mode, with BatchWriteItem
OTHER = "orders"
REGION = "us-east-1"  # Pulumi.dev.yaml
ALARMS = "service:cloudwatch.amazonaws.com"
LOGS = f"service:logs.{REGION}.amazonaws.com"


@dataclass(frozen=True)
class Tenant:
    """What one tenant's calls name, read from the plan."""

    name: str
    processor_role: str
    firehose_role: str
    key: str
    stream: str
    table_name: str
    failure_queue_url: str
    archive_bucket: str
    alarm_topic: str
    function_log_group: str
    firehose_log_group: str
    glue_database: str
    glue_table: str
    write_mode: str
    failure_bucket: str | None


def tenant(evaluation: Evaluation, name: str) -> Tenant:
    resources = {resource.name: resource for resource in evaluation.by_tenant()[name]}
    outputs = evaluation.outputs[name]
    function = resources[f"{name}-processor"].inputs
    failure_bucket = resources.get(f"{name}-failure-bucket")
    return Tenant(
        name=name,
        processor_role=resources[f"{name}-processor-role"].state["arn"],
        firehose_role=resources[f"{name}-firehose-role"].state["arn"],
        key=outputs["key_arn"],
        stream=outputs["stream_arn"],
        table_name=outputs["table_name"],
        failure_queue_url=outputs["failure_queue_url"],
        archive_bucket=outputs["archive_bucket"],
        alarm_topic=outputs["alarm_topic_arn"],
        function_log_group=resources[f"{name}-processor-logs"].state["name"],
        firehose_log_group=resources[f"{name}-archive-logs"].state["name"],
        glue_database=resources[f"{name}-catalog"].state["name"],
        glue_table=resources[f"{name}-catalog-table"].state["name"],
        write_mode=function["environment"]["variables"]["TRIBUTARY_WRITE_MODE"],
        failure_bucket=failure_bucket.state["bucket"] if failure_bucket else None,
    )


def call(principal: str, service: str, operation: str, context: dict | None = None, **params) -> list[Call]:
    return calls_for(
        service, operation, params, principal=principal, region=REGION, account=ACCOUNT_ID, context=context
    )


def processor_calls(target: Tenant, principal: str) -> list[Call]:
    """The brief's four: the mapping reads the stream, the handler writes the table and a failure, Lambda logs."""
    return [
        *call(principal, "kinesis", "GetRecords", StreamARN=target.stream, ShardIterator="iterator"),
        *call(principal, "dynamodb", "BatchWriteItem", RequestItems={target.table_name: []}),
        *call(principal, "sqs", "SendMessage", QueueUrl=target.failure_queue_url, MessageBody="{}"),
        *call(
            principal,
            "logs",
            "PutLogEvents",
            logGroupName=target.function_log_group,
            logStreamName="2025/01/01/[$LATEST]0123456789abcdef",
            logEvents=[],
        ),
    ]


def archive_write(target_bucket: str, principal: str) -> list[Call]:
    return call(principal, "s3", "PutObject", Bucket=target_bucket, Key="data/year=2025/month=01/part-0.parquet")


def kms_requests(requests) -> list[Request]:
    return [request for request in requests if request.action.startswith("kms:")]


def decisions_of(report: ProofReport, principal: str) -> tuple[int, int]:
    """(requests made by `principal`, of which denied)."""
    made = {
        json.dumps([r.action, r.resource, sorted(r.context.items())])
        for r in report.requests
        if r.principal == principal
    }
    return len(made), sum(1 for denial in report.denied if denial.principal == principal)


# The table calls each write mode's writer makes (runtime/modes/; counters: one transaction, a Put and an Update).
TABLE_WRITES = {
    "events": (("BatchWriteItem", lambda t: {"RequestItems": {t: []}}), ("PutItem", lambda t: {"TableName": t})),
    "latest": (("PutItem", lambda t: {"TableName": t}),),
    "counters": (
        ("TransactWriteItems", lambda t: {"TransactItems": [{"Put": {"TableName": t}}, {"Update": {"TableName": t}}]}),
    ),
}


def example_calls(evaluation: Evaluation) -> list[Call]:
    """The calls each principal of every tenant makes: the event source mapping and the handler (processor role),
    Lambda's logs and traces, Firehose's read, conversion, multipart delivery and logs, and the alarms."""
    calls: list[Call] = []
    for name in evaluation.by_tenant():
        t = tenant(evaluation, name)
        role, stream = t.processor_role, {"StreamARN": t.stream}
        for reader in (role, t.firehose_role):
            calls += call(reader, "kinesis", "DescribeStream", **stream)
            calls += call(reader, "kinesis", "ListShards", **stream)
            calls += call(reader, "kinesis", "GetShardIterator", ShardId="0", ShardIteratorType="LATEST", **stream)
            calls += call(reader, "kinesis", "GetRecords", ShardIterator="iterator", **stream)
        for operation, params in TABLE_WRITES[t.write_mode]:
            calls += call(role, "dynamodb", operation, **params(t.table_name))
        calls += call(role, "sqs", "SendMessage", QueueUrl=t.failure_queue_url, MessageBody="{}")
        if t.failure_bucket:
            calls += call(role, "s3", "PutObject", Bucket=t.failure_bucket, Key="batches/0.json")
        lambda_logs = {"logGroupName": t.function_log_group, "logStreamName": "2025/01/01/[$LATEST]0"}
        calls += call(role, "logs", "CreateLogStream", **lambda_logs)
        calls += call(role, "logs", "PutLogEvents", logEvents=[], **lambda_logs)
        calls += call(role, "xray", "PutTraceSegments", TraceSegmentDocuments=[])
        calls += call(role, "xray", "PutTelemetryRecords", TelemetryRecords=[])
        firehose, archive = t.firehose_role, {"Bucket": t.archive_bucket, "Key": "data/part-0.parquet"}
        schema = {"DatabaseName": t.glue_database, "TableName": t.glue_table}
        calls += call(firehose, "glue", "GetTableVersions", **schema)
        for operation in ("CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
            calls += call(firehose, "s3", operation, **archive)
        delivery_logs = {"logGroupName": t.firehose_log_group, "logStreamName": "DestinationDelivery"}
        calls += call(firehose, "logs", "PutLogEvents", logEvents=[], **delivery_logs)
        calls += call(ALARMS, "sns", "Publish", {"aws:SourceAccount": ACCOUNT_ID}, TopicArn=t.alarm_topic, Message="x")
    return calls
