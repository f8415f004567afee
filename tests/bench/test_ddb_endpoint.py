"""The benchmark's fake DynamoDB/SQS endpoint answers boto3 as the services would, and counts what it received;
the seed's baselines make the calls they claim. Functional only: nothing here is timed."""

from __future__ import annotations

import hashlib
import json
import math

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bench import baselines
from bench.ddb_endpoint import FakeAwsEndpoint
from bench.workload import RECORD_BYTES, check_schema, kinesis_event, payloads

TABLE = "bench"
ITEM = {"pk": {"S": "a"}, "sk": {"S": "b"}, "n": {"N": "1"}}


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.fixture
def endpoint_with(monkeypatch):
    """An endpoint with the given behaviour, which boto3's default endpoint resolution reaches."""
    started = []

    def start(**behaviour) -> FakeAwsEndpoint:
        endpoint = FakeAwsEndpoint(**behaviour).start()
        started.append(endpoint)
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint.url)
        baselines._dynamodb.cache_clear()  # the baselines' resource is per execution environment
        return endpoint

    yield start
    for endpoint in started:
        endpoint.stop()
    baselines._dynamodb.cache_clear()


def client(service: str):
    return boto3.session.Session().client(service, config=Config(retries={"total_max_attempts": 1}))


def test_endpoint_answers_every_dynamodb_write_with_success_and_counts_it(endpoint_with):
    endpoint = endpoint_with()
    dynamodb = client("dynamodb")
    requests = [{"PutRequest": {"Item": {**ITEM, "sk": {"S": str(i)}}}} for i in range(25)]

    assert dynamodb.batch_write_item(RequestItems={TABLE: requests})["UnprocessedItems"] == {}
    dynamodb.put_item(TableName=TABLE, Item=ITEM, ConditionExpression="attribute_not_exists(pk)")
    dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": ITEM["pk"], "sk": ITEM["sk"]},
        UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    dynamodb.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": ITEM}}])

    calls = endpoint.stats.calls
    assert [calls[f"DynamoDB_20120810.{op}"] for op in ("BatchWriteItem", "PutItem", "UpdateItem")] == [1, 1, 1]
    assert calls["DynamoDB_20120810.TransactWriteItems"] == 1
    assert endpoint.stats.items["BatchWriteItem"] == 25
    assert endpoint.stats.refused == {}
    assert endpoint.stats.peak_in_flight == 1  # one call after the other


def test_endpoint_refuses_conditional_writes_as_dynamodb_does_when_told(endpoint_with):
    endpoint = endpoint_with(conditional_failure_pct=100)
    dynamodb = client("dynamodb")

    with pytest.raises(ClientError) as refused:
        dynamodb.put_item(TableName=TABLE, Item=ITEM, ConditionExpression="attribute_not_exists(pk)")
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    dynamodb.put_item(TableName=TABLE, Item=ITEM)  # no condition: nothing to refuse

    marker = {"Put": {"TableName": TABLE, "Item": ITEM, "ConditionExpression": "attribute_not_exists(pk)"}}
    update = {
        "Update": {
            "TableName": TABLE,
            "Key": {"pk": ITEM["pk"]},
            "UpdateExpression": "ADD n :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(TransactItems=[marker, update])
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in cancelled.value.response["CancellationReasons"]] == ["ConditionalCheckFailed", "None"]
    assert endpoint.stats.refused == {"PutItem": 1, "TransactWriteItems": 1}


def test_endpoint_refuses_the_given_share_of_conditional_writes_spread_evenly(endpoint_with):
    endpoint_with(conditional_failure_pct=25)
    dynamodb = client("dynamodb")
    outcomes = []
    for _ in range(8):
        try:
            dynamodb.put_item(TableName=TABLE, Item=ITEM, ConditionExpression="attribute_not_exists(pk)")
            outcomes.append("written")
        except ClientError:
            outcomes.append("refused")
    assert outcomes == ["written", "written", "written", "refused"] * 2


def test_endpoint_leaves_the_last_requests_of_each_batch_unprocessed_when_told(endpoint_with):
    endpoint_with(unprocessed_per_batch=2)
    requests = [{"PutRequest": {"Item": {**ITEM, "sk": {"S": str(i)}}}} for i in range(5)]

    response = client("dynamodb").batch_write_item(RequestItems={TABLE: requests})

    assert response["UnprocessedItems"] == {TABLE: requests[-2:]}


def test_endpoint_answers_sqs_send_message_batch_with_every_entry_sent(endpoint_with):
    endpoint = endpoint_with()
    entries = [{"Id": str(i), "MessageBody": f'{{"n": {i}}}'} for i in range(3)]

    response = client("sqs").send_message_batch(QueueUrl=f"{endpoint.url}/123456789012/failures", Entries=entries)

    assert [entry["Id"] for entry in response["Successful"]] == ["0", "1", "2"]
    assert response["Successful"][1]["MD5OfMessageBody"] == hashlib.md5(b'{"n": 1}').hexdigest()
    assert response.get("Failed", []) == []
    assert endpoint.stats.calls["AmazonSQS.SendMessageBatch"] == 1
    assert endpoint.stats.items["SendMessageBatch"] == 3


@pytest.mark.parametrize("records", [25, 60])
def test_batch_write_baseline_sends_every_record_in_calls_of_25(endpoint_with, records):
    endpoint = endpoint_with()

    baselines.batch_write_handler(kinesis_event(payloads("events", "uniform", records)), None)

    assert endpoint.stats.calls["DynamoDB_20120810.BatchWriteItem"] == math.ceil(records / 25)
    assert endpoint.stats.items["BatchWriteItem"] == records


def test_batch_write_baseline_retries_unprocessed_items_once(endpoint_with):
    endpoint = endpoint_with(unprocessed_per_batch=3)

    baselines.batch_write_handler(kinesis_event(payloads("events", "uniform", 60)), None)

    # 3 calls of the records, then one retry each of its 3 unprocessed; what the retry leaves is dropped.
    assert endpoint.stats.calls["DynamoDB_20120810.BatchWriteItem"] == 6
    assert endpoint.stats.items["BatchWriteItem"] == 60 + 3 * 3


def test_conditional_put_baseline_puts_each_record_and_skips_duplicates(endpoint_with):
    endpoint = endpoint_with(conditional_failure_pct=50)

    baselines.conditional_put_handler(kinesis_event(payloads("events", "uniform", 20)), None)

    assert endpoint.stats.calls["DynamoDB_20120810.PutItem"] == 20
    assert endpoint.stats.refused["PutItem"] == 10  # refused as duplicates, without failing the invocation


@pytest.mark.parametrize("mode", ["events", "latest", "counters"])
def test_workload_records_are_a_kilobyte_valid_for_the_example_tenant_with_uniform_or_one_hot_key(mode):
    uniform, hot = payloads(mode, "uniform", 50), payloads(mode, "hot", 50)
    key_field = {"events": "device_id", "latest": "order_id", "counters": "page"}[mode]

    check_schema(mode, uniform + hot)  # raises WorkloadError naming the tenant file otherwise
    assert {len(json.dumps(record, separators=(",", ":"))) for record in uniform + hot} == {RECORD_BYTES}
    assert len({record[key_field] for record in uniform}) == 50
    assert len({record[key_field] for record in hot}) == 1
