"""The access proof against the real program's dev plan: a tenant's own roles are allowed their calls and the KMS
requests those calls cause, another tenant's roles are refused, and grants no call uses are reported.

Calls are built with `access.calls.calls_for` from API parameters, as the recorder builds them, and the policies
are the ones the program registers for Pulumi.dev.yaml. `python tests/access/test_proof.py` prints the proof of
`example_calls` (the calls each principal of every tenant makes), to see which grants a full run leaves unused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from access.call_types import Call
from access.calls import calls_for
from access.key_requests import concrete_actions, expand
from access.policy_types import Request
from access.program_policies import Policies, outputs_identity
from access.proof import prove
from access.proof_report import ProofReport, UnusedGrantException, principal_kind
from components.offline import ACCOUNT_ID, Evaluation, evaluate
from components.stack import read_stack_file

PROJECT = Path(__file__).resolve().parents[2]
TENANT = "sensors"  # writes in `events` mode, with BatchWriteItem
OTHER = "orders"
REGION = "us-east-1"  # Pulumi.dev.yaml
ALARMS = "service:cloudwatch.amazonaws.com"
LOGS = f"service:logs.{REGION}.amazonaws.com"


@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    return evaluate(PROJECT, "dev", read_stack_file(PROJECT, "dev"))


@pytest.fixture(scope="module")
def policies(evaluation: Evaluation) -> Policies:
    return Policies.from_resources(evaluation.resources)


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


@pytest.fixture(scope="module")
def own(evaluation: Evaluation) -> Tenant:
    return tenant(evaluation, TENANT)


@pytest.fixture(scope="module")
def other(evaluation: Evaluation) -> Tenant:
    return tenant(evaluation, OTHER)


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


# --- expand: the KMS requests AWS makes because of a call ------------------------------------------------------------


def test_expand_stream_read_adds_decrypt_through_kinesis_with_the_stream_as_context(policies, own):
    (records,) = call(own.processor_role, "kinesis", "GetRecords", StreamARN=own.stream, ShardIterator="iterator")

    requests = expand(records, policies)

    assert requests[0] == Request(records.principal, "kinesis:GetRecords", own.stream, records.context)
    assert requests[1:] == [
        Request(
            own.processor_role,
            "kms:Decrypt",
            own.key,
            {
                "kms:ViaService": f"kinesis.{REGION}.amazonaws.com",
                "kms:CallerAccount": ACCOUNT_ID,
                "kms:EncryptionContext:aws:kinesis:arn": own.stream,
            },
        )
    ]


def test_expand_table_write_names_the_table_by_name_in_the_context(policies, own):
    (write,) = call(own.processor_role, "dynamodb", "BatchWriteItem", RequestItems={own.table_name: []})

    (decrypt,) = kms_requests(expand(write, policies))

    assert decrypt.action == "kms:Decrypt"
    assert decrypt.context["kms:EncryptionContext:aws:dynamodb:tableName"] == own.table_name


def test_expand_object_write_names_the_bucket_as_context_for_the_bucket_key(policies, own):
    (put,) = archive_write(own.archive_bucket, own.firehose_role)

    (generate,) = kms_requests(expand(put, policies))

    assert put.resource.startswith(f"arn:aws:s3:::{own.archive_bucket}/")
    assert generate.action == "kms:GenerateDataKey"
    assert generate.context["kms:EncryptionContext:aws:s3:arn"] == f"arn:aws:s3:::{own.archive_bucket}"
    assert generate.context["kms:ViaService"] == f"s3.{REGION}.amazonaws.com"  # the key's region: S3 ARNs have none


def test_expand_multipart_upload_also_decrypts(policies, own):
    (start,) = call(own.firehose_role, "s3", "CreateMultipartUpload", Bucket=own.archive_bucket, Key="data/part-0")

    assert sorted(request.action for request in kms_requests(expand(start, policies))) == [
        "kms:Decrypt",
        "kms:GenerateDataKey",
    ]


def test_expand_log_events_add_the_logs_service_principal_on_the_log_group(policies, own):
    put_log_events = processor_calls(own, own.processor_role)[-1]

    key_use = kms_requests(expand(put_log_events, policies))

    log_group = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{own.function_log_group}"
    assert {request.principal for request in key_use} == {LOGS}
    assert sorted(request.action for request in key_use) == [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
    ]
    assert all(request.context == {"kms:EncryptionContext:aws:logs:arn": log_group} for request in key_use)


def test_expand_alarm_publish_uses_the_key_as_cloudwatch_itself(policies, own):
    (publish,) = call(
        ALARMS, "sns", "Publish", {"aws:SourceAccount": ACCOUNT_ID}, TopicArn=own.alarm_topic, Message="x"
    )

    key_use = kms_requests(expand(publish, policies))

    assert sorted((request.principal, request.action, request.resource) for request in key_use) == [
        (ALARMS, "kms:Decrypt", own.key),
        (ALARMS, "kms:GenerateDataKey", own.key),
    ]
    assert all("kms:ViaService" not in request.context for request in key_use)


def test_expand_resource_no_tenant_key_encrypts_adds_nothing(policies, own):
    (traces,) = call(own.processor_role, "xray", "PutTraceSegments", TraceSegmentDocuments=[])

    assert expand(traces, policies) == [Request(traces.principal, traces.action, "*", traces.context)]


def test_expand_wildcard_action_without_a_listed_concrete_action_refused():
    with pytest.raises(ValueError, match="kms:List\\*"):
        concrete_actions("kms:List*")


# --- Policies.from_resources ----------------------------------------------------------------------------------------


def test_policies_queue_policy_found_by_the_queue_arn_behind_its_url(policies, own):
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{own.failure_queue_url.rpartition('/')[2]}"

    assert policies.resources[queue_arn].label == f"{TENANT}-failures-policy"


def test_policies_object_and_log_stream_encrypted_by_their_tenant_key(policies, own, other):
    log_stream = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{own.function_log_group}:log-stream:abc"

    assert policies.key_of(f"arn:aws:s3:::{own.archive_bucket}/data/part-0") == own.key
    assert policies.key_of(log_stream) == own.key
    assert policies.key_of(f"arn:aws:s3:::{other.archive_bucket}") == other.key


def test_policies_identity_of_a_role_is_its_role_policy(policies, own):
    assert [policy.label for policy in policies.identity_of(own.processor_role)] == [f"{TENANT}-processor-policy"]


# --- prove: denied requests ------------------------------------------------------------------------------------------


def test_proof_processor_calls_allowed_with_their_key_requests(policies, own):
    report = prove(processor_calls(own, own.processor_role), policies)

    assert report.denied == ()
    assert len(report.calls) == 4
    assert {
        (request.principal, request.context.get("kms:ViaService")) for request in kms_requests(report.requests)
    } == {
        (own.processor_role, f"kinesis.{REGION}.amazonaws.com"),
        (own.processor_role, f"dynamodb.{REGION}.amazonaws.com"),
        (own.processor_role, f"sqs.{REGION}.amazonaws.com"),
        (LOGS, None),
    }


def test_proof_other_tenants_processor_denied_every_request(policies, own, other):
    report = prove(processor_calls(own, other.processor_role), policies)

    made, denied = decisions_of(report, other.processor_role)
    assert made == 8  # four calls, four KMS requests (two through SQS, none for logs)
    assert denied == made


def test_proof_firehose_writes_its_own_archive(policies, own):
    report = prove(archive_write(own.archive_bucket, own.firehose_role), policies)

    assert report.denied == ()
    assert len(report.requests) == 2


def test_proof_firehose_denied_another_tenants_archive(policies, own, other):
    report = prove(archive_write(other.archive_bucket, own.firehose_role), policies)

    assert sorted(denial.request.action for denial in report.denied) == ["kms:GenerateDataKey", "s3:PutObject"]
    assert all(denial.operation == "PutObject" for denial in report.denied)


def test_proof_alarm_publish_allowed_with_source_account(policies, own):
    publish = call(ALARMS, "sns", "Publish", {"aws:SourceAccount": ACCOUNT_ID}, TopicArn=own.alarm_topic, Message="x")

    report = prove(publish, policies)

    assert report.denied == ()
    assert len(report.requests) == 3


def test_proof_alarm_publish_denied_without_source_account(policies, own):
    report = prove(call(ALARMS, "sns", "Publish", TopicArn=own.alarm_topic, Message="x"), policies)

    assert [denial.request.action for denial in report.denied] == ["sns:Publish"]


def test_proof_reader_role_allowed_by_the_reader_policy_output(evaluation, own):
    reader = f"arn:aws:iam::{ACCOUNT_ID}:role/analyst"
    get = call(reader, "dynamodb", "GetItem", TableName=own.table_name, Key={})
    with_reader = Policies.from_resources(
        evaluation.resources, extra_identity=outputs_identity(evaluation.outputs[TENANT], TENANT, readers=[reader])
    )

    def denied_actions(policies: Policies) -> list[str]:
        return [denial.request.action for denial in prove(get, policies).denied]

    assert "dynamodb:GetItem" not in denied_actions(with_reader)
    assert "dynamodb:GetItem" in denied_actions(Policies.from_resources(evaluation.resources))


# --- prove: unused grants and exceptions -----------------------------------------------------------------------------


def stream_read_only(target: Tenant) -> list[Call]:
    return call(target.processor_role, "kinesis", "GetRecords", StreamARN=target.stream, ShardIterator="iterator")


def unused_actions(report: ProofReport, principal: str) -> set[str]:
    return {unused.grant.action for unused in report.unused if unused.principal == principal}


def test_proof_unused_grant_reported_when_no_call_uses_it(policies, own):
    report = prove(stream_read_only(own), policies, exceptions=[])

    unused = unused_actions(report, own.processor_role)
    assert "sqs:SendMessage" in unused
    assert "kinesis:GetRecords" not in unused
    assert not report.ok


def test_proof_unused_key_grant_reported_per_statement_naming_the_principal(policies, own):
    report = prove(stream_read_only(own), policies, exceptions=[])

    statements = {str(unused.grant.ref) for unused in report.unused if unused.principal == own.processor_role}
    assert f"{TENANT}-key:ProcessorSendsFailures" in statements
    assert f"{TENANT}-key:ProcessorReadsStream" not in statements


def test_proof_unused_grant_not_reported_when_excepted(policies, own):
    exception = UnusedGrantException("processor", "sqs:SendMessage", "failures are rare")

    report = prove(stream_read_only(own), policies, exceptions=[exception])

    assert "sqs:SendMessage" not in unused_actions(report, own.processor_role)
    assert [(item.unused.grant.action, item.exception) for item in report.excepted] == [("sqs:SendMessage", exception)]


def test_proof_exception_applies_only_to_its_principal_kind(policies, own):
    exception = UnusedGrantException("firehose", "sqs:*", "not the processor's reason")

    report = prove(stream_read_only(own), policies, exceptions=[exception])

    assert "sqs:SendMessage" in unused_actions(report, own.processor_role)
    assert report.excepted == ()


def test_proof_ok_when_nothing_denied_and_every_unused_grant_excepted(policies, own):
    calls = stream_read_only(own)
    unused = prove(calls, policies, exceptions=[]).unused
    everything = [UnusedGrantException(item.kind, item.grant.action, "test") for item in unused]

    report = prove(calls, policies, exceptions=everything)

    assert unused
    assert report.ok
    assert len(report.excepted) == len(unused)


# --- the report ------------------------------------------------------------------------------------------------------


def test_report_render_lists_each_denial_and_unused_grant_on_one_line(policies, own, other):
    report = prove(archive_write(other.archive_bucket, own.firehose_role), policies, exceptions=[])

    lines = report.render().splitlines()

    assert lines[0].startswith("access proof FAILED: 1 calls, 2 requests, 2 denied")
    assert any(line.startswith("  firehose: 1 calls, 2 requests, 2 denied") for line in lines)
    assert sum(line.startswith("DENIED firehose") for line in lines) == 2
    assert sum(line.startswith("UNUSED firehose") for line in lines) == len(report.unused)


def test_report_as_json_counts_per_principal_kind(policies, own):
    report = prove(processor_calls(own, own.processor_role), policies, exceptions=[])

    data = json.loads(json.dumps(report.as_json()))

    assert data["ok"] is False  # the processor's grants for other calls are unused
    assert data["calls"] == 4
    assert data["by_kind"]["processor"]["requests"] == 8
    assert data["by_kind"]["logs"]["requests"] == 6
    assert data["denied"] == []
    assert len(data["unused"]) == len(report.unused)


@pytest.mark.parametrize(
    ("principal", "kind"),
    [
        (f"arn:aws:iam::{ACCOUNT_ID}:role/sensors-dev-processor", "processor"),
        (f"arn:aws:iam::{ACCOUNT_ID}:role/sensors-dev-firehose", "firehose"),
        (ALARMS, "cloudwatch"),
        (LOGS, "logs"),
        (f"arn:aws:iam::{ACCOUNT_ID}:role/analyst", "role"),
    ],
)
def test_principal_kind_named_by_role_suffix_or_service(principal, kind):
    assert principal_kind(principal) == kind


# --- every tenant's pipeline, as it runs -----------------------------------------------------------------------------

# The table calls runtime/writers.py makes in each write mode (counters: one transaction, a Put and an Update).
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


def test_proof_every_tenants_pipeline_calls_denied_nothing(evaluation, policies):
    report = prove(example_calls(evaluation), policies)

    assert report.denied == (), report.render()


if __name__ == "__main__":
    plan = evaluate(PROJECT, "dev", read_stack_file(PROJECT, "dev"))
    print(prove(example_calls(plan), Policies.from_resources(plan.resources)).render())
