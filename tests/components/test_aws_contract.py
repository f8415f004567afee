"""What AWS's documentation requires of the generated policies, evaluated the way AWS evaluates them.

Each test holds one rule a real `pulumi up` or a deployed pipeline depends on and the mocks cannot see:
the page that states it is named in the test's docstring.
"""

from __future__ import annotations

import json

import pytest
from pipeline_model import Pipeline

from access.evaluate import LabelledPolicy, PolicySet, Request, evaluate
from components import glue_schema, policies
from components.key_policy import KEY_ADMIN_ACTIONS
from policy.rules import types as tokens


def _key_policy(p: Pipeline) -> PolicySet:
    document = json.loads(p.one(tokens.KEY).inputs["policy"])
    return PolicySet(identity=[], resource=None, key_policy=LabelledPolicy("key", document))


def _via(p: Pipeline, service: str) -> str:
    return f"{service}.{p.region}.amazonaws.com"


def _root(p: Pipeline) -> str:
    return f"arn:aws:iam::{p.account_id}:root"


@pytest.fixture(params=["clicks", "orders", "sensors"])
def example(request, example_project) -> Pipeline:
    return example_project[request.param]


def test_key_policy_lets_the_deployer_encrypt_a_function_environment_through_lambda(example):
    """Lambda, "Securing environment variables": creating a function with a customer managed key needs
    kms:CreateGrant and kms:Encrypt on it, kms:Decrypt to view or update the variables. An IAM policy
    cannot grant what the key policy withholds ("Key policies in AWS KMS"), so the key policy must allow it."""
    deployer = f"arn:aws:iam::{example.account_id}:role/tributary-deployer"
    allow_all = LabelledPolicy("deployer", {"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]})
    policies_ = PolicySet(identity=[allow_all], resource=None, key_policy=_key_policy(example).key_policy)
    context = {
        "kms:ViaService": _via(example, "lambda"),
        "kms:CallerAccount": example.account_id,
        "kms:GrantIsForAWSResource": "true",
    }
    for action in ("kms:CreateGrant", "kms:Encrypt", "kms:Decrypt"):
        decision = evaluate(Request(deployer, action, example.key_arn, context), policies_)
        assert decision.allowed, f"tenant {example.name}: {action} through Lambda: {decision.reason}"
    # ... and only through Lambda: the same identity cannot decrypt the key directly.
    outside = Request(deployer, "kms:Decrypt", example.key_arn, {"kms:CallerAccount": example.account_id})
    direct = evaluate(outside, policies_)
    assert not direct.allowed, f"tenant {example.name}: the deployer decrypts outside any service"


def test_key_policy_administration_grants_no_use_of_the_key(example):
    """`kms:Create*` includes kms:CreateGrant and `kms:Put*` kms:PutKeyPolicy ("AWS KMS permissions"): the
    administration statement spells its actions out and none of them encrypts, decrypts or grants."""
    statements = json.loads(example.one(tokens.KEY).inputs["policy"])["Statement"]
    admin = next(s for s in statements if s["Sid"] == "AccountAdministersKey")
    assert not [a for a in admin["Action"] if "*" in a], f"tenant {example.name}: wildcard admin actions"
    assert set(admin["Action"]) == set(KEY_ADMIN_ACTIONS)
    for action in ("kms:CreateGrant", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom"):
        decision = evaluate(Request(_root(example), action, example.key_arn), _key_policy(example))
        assert not decision.allowed, f"tenant {example.name}: the account may {action} directly"


def test_key_policy_readers_decrypt_through_dynamodb_s3_and_sqs_only(example_project):
    """SQS's "Key management": consumers need kms:Decrypt; DynamoDB decrypts the table key with the caller's
    kms:Decrypt (encryption.usagenotes); S3 SSE-KMS reads need kms:Decrypt through S3."""
    orders = example_project["orders"]
    [reader] = orders.tenant.access.readers
    key = _key_policy(orders)
    bucket = f"arn:aws:s3:::{orders.names.archive_bucket}"
    reads = {
        "dynamodb": {"kms:EncryptionContext:aws:dynamodb:tableName": orders.names.table},
        "s3": {"kms:EncryptionContext:aws:s3:arn": bucket},
        "sqs": {},
    }
    for service, context in reads.items():
        request = Request(reader, "kms:Decrypt", orders.key_arn, {"kms:ViaService": _via(orders, service), **context})
        assert evaluate(request, key).allowed, f"reader cannot decrypt through {service}"
    for action, service in (("kms:Decrypt", "kinesis"), ("kms:GenerateDataKey", "s3"), ("kms:Decrypt", "lambda")):
        request = Request(reader, action, orders.key_arn, {"kms:ViaService": _via(orders, service)})
        assert not evaluate(request, key).allowed, f"reader may {action} through {service}"


def test_reader_policy_reads_and_never_writes(example_project):
    orders = example_project["orders"]
    document = policies.reader_policy(
        policies.ReaderArns(
            partition="aws",
            region=orders.region,
            account_id=orders.account_id,
            key=orders.key_arn,
            table=f"arn:aws:dynamodb:{orders.region}:{orders.account_id}:table/{orders.names.table}",
            failure_queue=f"arn:aws:sqs:{orders.region}:{orders.account_id}:{orders.names.failure_queue}",
            archive_bucket=f"arn:aws:s3:::{orders.names.archive_bucket}",
            glue_database=f"arn:aws:glue:{orders.region}:{orders.account_id}:database/{orders.names.glue_database}",
            glue_table=f"arn:aws:glue:{orders.region}:{orders.account_id}:table/{orders.names.glue_database}/x",
        )
    )
    actions = {action for statement in document["Statement"] for action in statement["Action"]}
    writes = {a for a in actions if a.split(":")[1].startswith(("Put", "Update", "Delete", "BatchWrite", "Send"))}
    assert not writes, f"the reader policy writes: {sorted(writes)}"
    assert {"dynamodb:Query", "s3:GetObject", "sqs:ReceiveMessage", "glue:GetTable"} <= actions


def test_alarms_cover_failed_batches_for_either_on_failure_destination(example):
    """With `on_failure: s3` no queue is alarmed for failed batches: the mapping's own metrics
    (OnFailureDestinationDeliveredEventCount, DroppedEventCount; dimension EventSourceMappingUUID, Lambda's
    "Event source mapping metrics") cover both destinations."""
    uuid = example.one(tokens.EVENT_SOURCE_MAPPING).state["uuid"]
    watched = {
        alarm.inputs.get("metricName")
        for alarm in example.all(tokens.METRIC_ALARM)
        if (alarm.inputs.get("dimensions") or {}).get("EventSourceMappingUUID") == uuid
    }
    assert watched == {"OnFailureDestinationDeliveredEventCount", "DroppedEventCount"}, example.name


def test_firehose_role_trust_is_conditioned_on_the_external_id(example):
    """Firehose's "Controlling access" page conditions the delivery role's trust on sts:ExternalId = the
    account id; aws:SourceAccount is not documented for Firehose and would fail every archive's creation."""
    role = example.one(tokens.ROLE, name=example.names.firehose_role)
    [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": example.account_id}}


def test_archive_keeps_date_time_values_as_text_so_every_rfc3339_offset_converts():
    """Firehose's OpenX JSON SerDe parses only `...'Z'`, the spaced form and epoch numbers into a timestamp
    ("Record format conversion"): a `date-time` column stays a string, so `+02:00` is archived, not an error."""
    assert glue_schema.glue_type({"type": "string", "format": "date-time"}) == "string"
    assert glue_schema.glue_type({"type": ["string", "null"], "format": "date-time"}) == "string"
    assert glue_schema.glue_type({"type": "string", "format": "date"}) == "date"
