"""The event source mapping behaves as Lambda's Kinesis mapping does."""

from __future__ import annotations

import base64
import json
import re
import time

from sandbox_helpers import FakeInvoker, function_spec, mapping_spec, put

from sandbox.engines.event_source import EventSourceMapping
from sandbox.engines.workers import InvocationResult

FAILURE_RECORD_KEYS = {"requestContext", "responseContext", "version", "timestamp", "KinesisBatchInfo"}
BATCH_INFO_KEYS = {
    "shardId",
    "startSequenceNumber",
    "endSequenceNumber",
    "approximateArrivalOfFirstRecord",
    "approximateArrivalOfLastRecord",
    "batchSize",
    "streamArn",
}
ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def function_error(event):
    return InvocationResult("req", function_error="Unhandled", error_type="RuntimeError", error_message="boom")


def payloads(count: int, prefix: str = "r") -> list[bytes]:
    return [f"{prefix}{i}".encode() for i in range(count)]


def run(spec, endpoint_url, invoker, **kwargs) -> EventSourceMapping:
    mapping = EventSourceMapping(spec, endpoint_url, "us-east-1", invoker, time_scale=0.01, **kwargs)
    assert mapping.run_until_idle(timeout=30), "mapping did not become idle"
    mapping.close()
    return mapping


def sqs_messages(sqs, queue_url: str, expected: int) -> list[dict]:
    messages: list[dict] = []
    for _ in range(10):
        response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages += [json.loads(m["Body"]) for m in response.get("Messages", [])]
        if len(messages) >= expected:
            break
    return messages


# --------------------------------------------------------------------------- batching and order


def test_mapping_batches_respect_batch_size_and_shard_order(aws, make_stream, make_table, make_workers, endpoint_url):
    name, arn = make_stream(shards=2)
    table = make_table()
    keys = [f"device-{i % 7}" for i in range(37)]
    put(aws("kinesis"), name, payloads(37), keys)
    function = function_spec("record_to_table", {"TABLE_NAME": table})
    spec = mapping_spec(function, arn, batch_size=5)

    mapping = run(spec, endpoint_url, make_workers(function, max_workers=2))

    items = aws("dynamodb").scan(TableName=table)["Items"]
    assert len(items) == 37
    assert max(int(item["batch_size"]["N"]) for item in items) <= 5
    for shard in {item["shard"]["S"] for item in items}:
        in_shard = sorted((i for i in items if i["shard"]["S"] == shard), key=lambda i: float(i["written_at"]["S"]))
        sequence = [int(i["seq"]["S"]) for i in in_shard]
        assert sequence == sorted(sequence), f"{shard} processed out of order"
    assert mapping.stats.records_delivered == 37
    assert mapping.stats.function_errors == 0


def test_mapping_event_has_the_kinesis_event_shape(aws, make_stream, endpoint_url):
    name, arn = make_stream()
    put(aws("kinesis"), name, [b'{"a": 1}'], ["pk-1"])
    invoker = FakeInvoker()
    run(mapping_spec(function_spec("unused"), arn), endpoint_url, invoker)

    record = invoker.events[0]["Records"][0]
    assert set(record) == {
        "kinesis",
        "eventSource",
        "eventVersion",
        "eventID",
        "eventName",
        "invokeIdentityArn",
        "awsRegion",
        "eventSourceARN",
    }
    assert record["eventSource"] == "aws:kinesis" and record["eventName"] == "aws:kinesis:record"
    assert record["eventSourceARN"] == arn and record["awsRegion"] == "us-east-1"
    assert record["kinesis"]["kinesisSchemaVersion"] == "1.0"
    assert record["kinesis"]["partitionKey"] == "pk-1"
    assert base64.b64decode(record["kinesis"]["data"]) == b'{"a": 1}'
    assert isinstance(record["kinesis"]["approximateArrivalTimestamp"], float)
    assert record["eventID"] == f"shardId-000000000000:{record['kinesis']['sequenceNumber']}"


def test_mapping_latest_skips_records_put_before_it_started(aws, make_stream, endpoint_url):
    name, arn = make_stream()
    put(aws("kinesis"), name, [b"old"])
    invoker = FakeInvoker()
    mapping = EventSourceMapping(
        mapping_spec(function_spec("unused"), arn, starting_position="LATEST"), endpoint_url, "us-east-1", invoker
    )
    put(aws("kinesis"), name, [b"new"])
    assert mapping.run_until_idle(10)
    mapping.close()
    assert [p for i in range(len(invoker.events)) for p in invoker.payloads(i)] == [b"new"]


def test_mapping_parallelization_keeps_per_partition_key_order(aws, make_stream, endpoint_url):
    name, arn = make_stream()
    keys = [f"entity-{i % 10}" for i in range(100)]
    put(aws("kinesis"), name, [f"{key}:{i}".encode() for i, key in enumerate(keys)], keys)
    invoker = FakeInvoker(delay=0.02)
    spec = mapping_spec(function_spec("unused"), arn, batch_size=3, parallelization_factor=4)

    mapping = run(spec, endpoint_url, invoker)

    seen: dict[str, list[int]] = {}
    for event in invoker.events:
        for record in event["Records"]:
            seen.setdefault(record["kinesis"]["partitionKey"], []).append(int(record["kinesis"]["sequenceNumber"]))
    assert sum(len(v) for v in seen.values()) == 100
    for key, sequence in seen.items():
        assert sequence == sorted(sequence), f"{key} out of order"
    assert invoker.max_running > 1, "lanes never ran concurrently"
    assert mapping.stats.records_delivered == 100


# --------------------------------------------------------------------------- partial batch responses


def test_mapping_partial_response_checkpoints_at_lowest_reported_sequence(aws, make_stream, make_queue, endpoint_url):
    name, arn = make_stream()
    data = [b"ok0", b"ok1", b"FAIL2", b"ok3", b"FAIL4", b"ok5"]
    results = put(aws("kinesis"), name, data)
    queue_url, queue_arn = make_queue()

    def respond(event):
        failing = [
            r["kinesis"]["sequenceNumber"]
            for r in event["Records"]
            if b"FAIL" in base64.b64decode(r["kinesis"]["data"])
        ]
        return {"batchItemFailures": [{"itemIdentifier": seq} for seq in reversed(failing)]}

    invoker = FakeInvoker(respond)
    spec = mapping_spec(function_spec("unused"), arn, max_retries=1, on_failure_destination=queue_arn)
    mapping = run(spec, endpoint_url, invoker)

    assert invoker.payloads(0) == data
    assert invoker.payloads(1) == data[2:], "the retry starts at the lowest reported record"
    assert mapping.stats.records_delivered == 2
    [message] = sqs_messages(aws("sqs"), queue_url, 1)
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["KinesisBatchInfo"]["startSequenceNumber"] == results[2]["SequenceNumber"]
    assert message["KinesisBatchInfo"]["endSequenceNumber"] == results[5]["SequenceNumber"]
    assert message["KinesisBatchInfo"]["batchSize"] == 4
    assert message["requestContext"]["approximateInvokeCount"] == 2


def test_mapping_malformed_response_retries_the_whole_batch(aws, make_stream, make_queue, endpoint_url):
    name, arn = make_stream()
    put(aws("kinesis"), name, payloads(4))
    queue_url, queue_arn = make_queue()
    invoker = FakeInvoker(lambda event: {"batchItemFailures": [{"itemIdentifier": "nope"}]})
    spec = mapping_spec(function_spec("unused"), arn, max_retries=1, on_failure_destination=queue_arn)

    mapping = run(spec, endpoint_url, invoker)

    assert [len(e["Records"]) for e in invoker.events] == [4, 4]
    [message] = sqs_messages(aws("sqs"), queue_url, 1)
    assert message["KinesisBatchInfo"]["batchSize"] == 4
    assert mapping.stats.records_delivered == 0


# --------------------------------------------------------------------------- errors, bisect, destinations


def test_mapping_bisect_isolates_poison_record(aws, make_stream, make_queue, make_workers, endpoint_url):
    name, arn = make_stream()
    data = payloads(8)
    data[5] = b"POISON"
    results = put(aws("kinesis"), name, data)
    queue_url, queue_arn = make_queue()
    function = function_spec("raise_on_poison")
    spec = mapping_spec(function, arn, bisect_on_error=True, max_retries=0, on_failure_destination=queue_arn)

    metrics = []
    mapping = run(spec, endpoint_url, make_workers(function), on_metric=lambda *metric: metrics.append(metric))

    [message] = sqs_messages(aws("sqs"), queue_url, 1)
    # Lambda's mapping metrics: the record went to the destination, so it counts as delivered, not dropped.
    mapping_metrics = [(name, value) for name, value, dims in metrics if dims == {"EventSourceMappingUUID": spec.uuid}]
    assert mapping_metrics == [("OnFailureDestinationDeliveredEventCount", 1.0)]
    assert message["KinesisBatchInfo"]["batchSize"] == 1
    assert message["KinesisBatchInfo"]["startSequenceNumber"] == results[5]["SequenceNumber"]
    assert message["responseContext"]["functionError"] == "Unhandled"
    assert mapping.stats.records_delivered == 7
    assert mapping.stats.records_to_destination == 1
    # 8 -> 4 + 4 -> (4 ok) 2 + 2 -> (2 ok) 1 + 1: splits use no retries, so max_retries=0 still isolates.
    assert mapping.stats.invocations == 7


def test_mapping_retries_exhausted_sends_exact_record_to_sqs(aws, make_stream, make_queue, endpoint_url):
    name, arn = make_stream()
    results = put(aws("kinesis"), name, payloads(3))
    queue_url, queue_arn = make_queue()
    function = function_spec("unused")
    invoker = FakeInvoker(function_error)
    spec = mapping_spec(function, arn, max_retries=2, on_failure_destination=queue_arn)

    mapping = run(spec, endpoint_url, invoker)

    assert len(invoker.events) == 3, "one invocation and two retries"
    [message] = sqs_messages(aws("sqs"), queue_url, 1)
    assert set(message) == FAILURE_RECORD_KEYS
    assert message["requestContext"] == {
        "requestId": message["requestContext"]["requestId"],
        "functionArn": function.function_arn,
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 3,
    }
    assert message["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert message["version"] == "1.0"
    assert ISO_MILLIS.match(message["timestamp"])
    info = message["KinesisBatchInfo"]
    assert set(info) == BATCH_INFO_KEYS
    assert info["shardId"] == "shardId-000000000000"
    assert info["startSequenceNumber"] == results[0]["SequenceNumber"]
    assert info["endSequenceNumber"] == results[2]["SequenceNumber"]
    assert ISO_MILLIS.match(info["approximateArrivalOfFirstRecord"])
    assert ISO_MILLIS.match(info["approximateArrivalOfLastRecord"])
    assert info["batchSize"] == 3 and info["streamArn"] == arn
    assert mapping.stats.retries == 2 and mapping.stats.function_errors == 3


def test_mapping_retries_exhausted_writes_record_to_s3(aws, make_stream, make_bucket, endpoint_url):
    name, arn = make_stream()
    put(aws("kinesis"), name, payloads(2))
    bucket = make_bucket()
    spec = mapping_spec(function_spec("unused"), arn, max_retries=0, on_failure_destination=f"arn:aws:s3:::{bucket}")

    run(spec, endpoint_url, FakeInvoker(function_error))

    [obj] = aws("s3").list_objects_v2(Bucket=bucket)["Contents"]
    pattern = (
        rf"^aws/lambda/{spec.uuid}/shardId-000000000000/\d{{4}}/\d\d/\d\d/"
        r"\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d-[0-9a-f-]{36}$"
    )
    assert re.match(pattern, obj["Key"]), obj["Key"]
    body = json.loads(aws("s3").get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
    assert set(body) == FAILURE_RECORD_KEYS | {"payload"}
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert body["KinesisBatchInfo"]["batchSize"] == 2
    assert len(body["payload"]["Records"]) == 2


def test_mapping_records_older_than_max_age_skip_the_function(aws, make_stream, make_queue, endpoint_url):
    name, arn = make_stream()
    put(aws("kinesis"), name, payloads(3))
    queue_url, queue_arn = make_queue()
    invoker = FakeInvoker()
    spec = mapping_spec(function_spec("unused"), arn, max_record_age_seconds=60, on_failure_destination=queue_arn)

    mapping = run(spec, endpoint_url, invoker, clock=lambda: time.time() + 120)

    assert invoker.events == []
    [message] = sqs_messages(aws("sqs"), queue_url, 1)
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["requestContext"]["approximateInvokeCount"] == 0
    assert mapping.stats.records_to_destination == 3


def test_mapping_failing_batch_discarded_when_it_ages_out(aws, make_stream, make_queue, endpoint_url):
    name, arn = make_stream()
    put(aws("kinesis"), name, payloads(2))
    queue_url, queue_arn = make_queue()
    offset = [0.0]

    def age_after_failing(event):
        offset[0] = 3600.0  # the next look at the batch finds its records an hour old
        return function_error(event)

    invoker = FakeInvoker(age_after_failing)
    spec = mapping_spec(
        function_spec("unused"), arn, max_retries=-1, max_record_age_seconds=60, on_failure_destination=queue_arn
    )

    run(spec, endpoint_url, invoker, clock=lambda: time.time() + offset[0])

    assert len(invoker.events) == 1
    [message] = sqs_messages(aws("sqs"), queue_url, 1)
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["requestContext"]["approximateInvokeCount"] == 1


def test_mapping_reports_lambda_metrics(aws, make_stream, endpoint_url):
    name, arn = make_stream()
    put(aws("kinesis"), name, payloads(4))
    metrics: list[tuple[str, float, dict]] = []
    function = function_spec("unused")
    spec = mapping_spec(function, arn, batch_size=2)

    mapping = run(spec, endpoint_url, FakeInvoker(), on_metric=lambda *m: metrics.append(m))

    names = [m[0] for m in metrics]
    assert names.count("Invocations") == 2 and names.count("Duration") == 2
    assert names.count("Errors") == 2 and names.count("IteratorAge") == 2
    assert all(m[2] == {"FunctionName": function.name} for m in metrics)
    assert mapping.stats.iterator_age_ms >= 0


# --------------------------------------------------------------------------- real workers


def test_mapping_timeout_kills_worker_and_next_batch_recovers(aws, make_stream, make_queue, make_workers, endpoint_url):
    name, arn = make_stream()
    queue_url, queue_arn = make_queue()
    put(aws("kinesis"), name, [b"SLOW"])
    function = function_spec("sleep_past_timeout", timeout=1)
    workers = make_workers(function)
    spec = mapping_spec(function, arn, max_retries=0, on_failure_destination=queue_arn)
    mapping = EventSourceMapping(spec, endpoint_url, "us-east-1", workers, time_scale=0.01)
    assert mapping.run_until_idle(30)

    put(aws("kinesis"), name, [b"fast"])
    assert mapping.run_until_idle(30)
    mapping.close()

    assert workers.stats.timeouts == 1
    assert workers.stats.cold_starts == 2, "a fresh worker replaced the killed one"
    assert mapping.stats.records_delivered == 1 and mapping.stats.records_to_destination == 1
    [message] = sqs_messages(aws("sqs"), queue_url, 1)
    assert message["responseContext"]["functionError"] == "Unhandled"


def test_mapping_batching_window_waits_for_more_records(aws, make_stream, endpoint_url):
    name, arn = make_stream()
    put(aws("kinesis"), name, payloads(3, "a"))
    invoker = FakeInvoker()
    spec = mapping_spec(function_spec("unused"), arn, batch_size=10, batching_window_seconds=100)
    mapping = EventSourceMapping(spec, endpoint_url, "us-east-1", invoker, time_scale=0.01)  # a 1 s window

    mapping.poll_once()
    assert invoker.events == [], "a part-full batch waits for the window"
    put(aws("kinesis"), name, payloads(3, "b"))
    assert mapping.run_until_idle(10)
    mapping.close()

    assert [len(event["Records"]) for event in invoker.events] == [6]
