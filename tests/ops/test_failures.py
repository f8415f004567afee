"""Poison pills out of the failure queue and back onto the stream, in the sandbox.

The queue is filled with the handler's own message writer (runtime/failures.py), plus a record of a given-up
batch in Lambda's format, so the export reads exactly what the handler sends."""

from __future__ import annotations

import base64
import io
import json

import pytest
from day_two_helpers import sandbox_deployment, stream_records
from hypothesis import given
from hypothesis import strategies as st

from ops.failures import PillFileError, pill_line, read_pill_file, read_queue, record_from_line, write_lines
from ops.put import Record, put
from ops.target import resolve
from runtime.failures import failure_message
from runtime.types import RecordFailure, RecordSource

SCHEMA_INVALID = (
    b'{"device_id": "dev-001", "reading_id": "r-1", "recorded_at": "2025-01-02T03:04:05Z", "temperature": "hot"}'
)
NOT_JSON = b"<<not json 17>>"
NOT_UTF8 = b"\xff\xfe device dev-002"
# The event source mapping's record of a batch it gave up on: Lambda's on-failure format, no payload.
BATCH_RECORD = {
    "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4},
    "version": "1.0",
    "KinesisBatchInfo": {"shardId": "shardId-000000000000", "startSequenceNumber": "1", "batchSize": 3},
}


def _failure(payload: bytes, sequence: int, key: str, reason: str = "schema-invalid") -> RecordFailure:
    source = RecordSource(
        batch_index=0,
        shard_id="shardId-000000000000",
        sequence_number=str(sequence),
        sub_sequence_number=0,
        partition_key=key,
        arrival_timestamp=1735787045.0,
        event_source_arn="arn:aws:kinesis:us-east-1:123456789012:stream/sensors--dev--events",
    )
    return RecordFailure(source=source, payload=payload, reason=reason, detail=f"{reason} at {sequence}")


# Queue order differs from stream order on purpose; the schema-invalid pill is delivered twice (a batch redelivered).
PILLS = [
    _failure(NOT_UTF8, 300, "device#dev-002", "undecodable"),
    _failure(SCHEMA_INVALID, 100, "device#dev-001"),
    _failure(NOT_JSON, 200, "device#dev-003", "not-json"),
    _failure(SCHEMA_INVALID, 100, "device#dev-001"),
]


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    with sandbox_deployment(tmp_path_factory.mktemp("failures"), ["sensors"]) as (project, _):
        yield project


@pytest.fixture
def queue(deployed):
    """(project, sensors): its failure queue holding the pills and one batch record, nothing else."""
    target = resolve(deployed, "sensors", None, sandbox=True)
    sqs = target.client("sqs")
    url = target.names.failure_queue_url
    # Received messages visible again at once, so each test empties the queue whatever the last one read (SQS
    # allows one PurgeQueue a minute); the export then meets every message a second time, and must stop.
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "0"})
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    bodies = [failure_message("sensors", pill) for pill in PILLS] + [json.dumps(BATCH_RECORD)]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    return deployed, target


def _messages_left(target) -> int:
    attributes = target.client("sqs").get_queue_attributes(
        QueueUrl=target.names.failure_queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def _run(*arguments: str):
    from typer.testing import CliRunner

    from cli.main import app

    return CliRunner().invoke(app, list(arguments))


# --------------------------------------------------------------------------------- out of the queue


def test_failures_export_writes_each_distinct_pill_once_in_stream_order(queue):
    _, target = queue
    found = read_queue(target.client("sqs"), target.names.failure_queue_url)
    assert [line["sequenceNumber"] for line in found.pills] == ["100", "200", "300"]
    assert (found.repeats, found.batch_records, found.unrecognised) == (1, 1, 0)
    assert len(found.receipts) == 4  # every delivery of every pill, so --delete leaves no copy behind
    schema_invalid, not_json, not_utf8 = found.pills
    assert schema_invalid["payload"] == json.loads(SCHEMA_INVALID)
    assert not_json["payloadText"] == NOT_JSON.decode()
    assert base64.b64decode(not_utf8["payloadBase64"]) == NOT_UTF8
    assert schema_invalid["partitionKey"] == "device#dev-001" and schema_invalid["reason"] == "schema-invalid"


def test_failures_export_round_trip_puts_exactly_the_repaired_payloads(queue, tmp_path):
    project, target = queue
    # Given: the pills exported as a file.
    exported = _run("failures", "export", "sensors", "--sandbox", "--project", str(project))
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert len(lines) == 3
    # When: a person repairs two of them (a number, and text that becomes JSON) and sends the file back.
    lines[0]["payload"]["temperature"] = 21.5
    del lines[1]["payloadText"]
    lines[1]["payload"] = {"device_id": "dev-003", "reading_id": "r-3", "recorded_at": "2025-01-02T03:04:06Z"}
    pills = tmp_path / "pills.jsonl"
    pills.write_text("".join(json.dumps(line) + "\n" for line in lines))
    sent = _run("send", "sensors", "--file", str(pills), "--sandbox", "--project", str(project))
    # Then: exactly those payloads are on the stream, under their partition keys, in file order.
    assert sent.exit_code == 0, sent.output
    assert "sent 3 record(s)" in sent.stdout
    keys = {"device#dev-001", "device#dev-002", "device#dev-003"}  # no other test puts records under these
    records = [r for r in stream_records(target.client("kinesis"), target.names.stream) if r["PartitionKey"] in keys]
    by_key = {record["PartitionKey"]: record["Data"] for record in records}
    assert len(records) == 3
    assert json.loads(by_key["device#dev-001"]) == {**json.loads(SCHEMA_INVALID), "temperature": 21.5}
    assert json.loads(by_key["device#dev-003"]) == lines[1]["payload"]
    assert by_key["device#dev-002"] == NOT_UTF8  # not repaired: the original bytes


def test_failures_export_keeps_the_messages_without_delete(queue):
    project, target = queue
    result = _run("failures", "export", "sensors", "--sandbox", "--project", str(project))
    assert result.exit_code == 0, result.output
    assert _messages_left(target) == 5
    assert "1 message(s) record batches the mapping gave up on" in result.stderr
    assert "`tributary redrive sensors` replays them" in result.stderr


def test_failures_export_delete_removes_what_was_written_and_nothing_else(queue):
    project, target = queue
    result = _run("failures", "export", "sensors", "--delete", "--sandbox", "--project", str(project))
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 3
    assert "deleted 4 message(s)" in result.stderr
    assert _messages_left(target) == 1  # the batch record, for `tributary redrive`


# --------------------------------------------------------------------------------- back from a file

MALFORMED = {
    "not JSON": ('{"payload": {"device_id": ', "not a JSON line"),
    "not an object": ('["device#dev-001"]', "a JSON list, not an object"),
    "no payload": ('{"partitionKey": "k"}', "needs exactly one of them (got none)"),
    "two payloads": ('{"payload": 1, "payloadText": "1", "partitionKey": "k"}', "(got payload, payloadText)"),
    "no partition key": ('{"payload": {"a": 1}}', "partitionKey: missing or not a string"),
    "truncated": ('{"payloadText": "{\\"a\\": ", "partitionKey": "k", "payloadTruncated": true}', "payloadTruncated:"),
    "bad base64": ('{"payloadBase64": "***", "partitionKey": "k"}', "payloadBase64: not base64"),
    "empty key": ('{"payload": 1, "partitionKey": ""}', "partition key of 0 characters"),
}


@pytest.mark.parametrize("line, problem", MALFORMED.values(), ids=MALFORMED.keys())
def test_pill_file_malformed_line_is_named_by_file_and_line(tmp_path, line, problem):
    # Given: a good line, a blank line, then the bad one (line 3, as an editor numbers it).
    path = tmp_path / "pills.jsonl"
    path.write_text('{"payload": {"a": 1}, "partitionKey": "k"}\n\n' + line + "\n")
    with pytest.raises(PillFileError) as refusal:
        read_pill_file(path)
    assert refusal.value.problems[0].startswith(f"{path}:3: "), refusal.value.problems
    assert problem in refusal.value.problems[0]
    assert refusal.value.problems[-1] == f"{path}: nothing sent"


def test_send_with_a_malformed_line_exits_1_and_sends_nothing(queue, tmp_path):
    project, target = queue
    path = tmp_path / "pills.jsonl"
    path.write_text('{"payload": {"a": 1}, "partitionKey": "k"}\n{"payload": {"a": 2}}\n')
    before = len(stream_records(target.client("kinesis"), target.names.stream))
    result = _run("send", "sensors", "--file", str(path), "--sandbox", "--project", str(project))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}:2: partitionKey: missing or not a string; it is the key the record goes back under",
        f"{path}: nothing sent",
    ]
    assert "Traceback" not in result.output
    assert len(stream_records(target.client("kinesis"), target.names.stream)) == before


def test_put_sends_more_than_one_call_of_records_in_order(deployed):
    # PutRecords takes 500 records a call: 1,201 records take three calls, in file order.
    target = resolve(deployed, "sensors", None, sandbox=True)
    kinesis = target.client("kinesis")
    records = [Record(line=n, data=f'{{"n": {n}}}'.encode(), partition_key="put-test") for n in range(1201)]
    assert put(kinesis, target.names.stream, records) == 1201
    sent = [record for record in stream_records(kinesis, target.names.stream) if record["PartitionKey"] == "put-test"]
    assert [json.loads(record["Data"])["n"] for record in sent] == list(range(1201))


# --------------------------------------------------------------------------------- the format, as a property


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
PAYLOADS = st.one_of(
    st.binary(max_size=200),  # mostly not UTF-8
    st.text(max_size=100).map(str.encode),  # text, sometimes JSON
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
)


@given(payload=PAYLOADS, key=st.text(min_size=1, max_size=20))
def test_pill_line_sends_back_the_payload_the_handler_reported(payload, key):
    """Any payload, written by the handler's writer, exported and read back unrepaired, goes back as the same
    bytes, or (for JSON) as the same JSON value."""
    body = json.loads(failure_message("sensors", _failure(payload, 7, key)))
    out = io.StringIO()
    write_lines([pill_line(body)], out)
    record = record_from_line(out.getvalue().encode(), 1)
    assert record.partition_key == key
    line = json.loads(out.getvalue())
    if "payload" in line:
        assert json.loads(record.data) == json.loads(payload)
    else:
        assert record.data == payload
