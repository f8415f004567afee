"""The access proof's first two steps against the real program's dev plan: the KMS requests a call causes, and the
policies, keys and owners read from the resources the program registers."""

from __future__ import annotations

import pytest
from proof_calls import ALARMS, LOGS, REGION, TENANT, archive_write, call, kms_requests, processor_calls

from access.key_requests import concrete_actions, expand
from access.policy_types import Request
from components.offline import ACCOUNT_ID

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
