"""The access proof against the real program's dev plan: a tenant's own roles are allowed their calls and the KMS
requests those calls cause, another tenant's roles are refused, and grants no call uses are reported.

Calls are built with `access.calls.calls_for` from API parameters, as the recorder builds them (`proof_calls.py`),
and the policies are the ones the program registers for Pulumi.dev.yaml; `test_proof_expand.py` holds the KMS
requests a call causes. `python tests/access/test_proof.py` prints the proof of `example_calls` (the calls each
principal of every tenant makes), to see which grants a full run leaves unused.
"""

from __future__ import annotations

import json

import pytest
from proof_calls import (
    ALARMS,
    LOGS,
    PROJECT,
    REGION,
    TENANT,
    Tenant,
    archive_write,
    call,
    decisions_of,
    example_calls,
    kms_requests,
    processor_calls,
)

from access.call_types import Call
from access.program_policies import Policies, outputs_identity
from access.proof import prove
from access.proof_report import ProofReport, UnusedGrantException, principal_kind
from components.offline import ACCOUNT_ID, evaluate
from components.stack import read_stack_file

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


def test_proof_every_tenants_pipeline_calls_denied_nothing(evaluation, policies):
    report = prove(example_calls(evaluation), policies)

    assert report.denied == (), report.render()


if __name__ == "__main__":
    plan = evaluate(PROJECT, "dev", read_stack_file(PROJECT, "dev"))
    print(prove(example_calls(plan), Policies.from_resources(plan.resources)).render())
