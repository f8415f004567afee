"""access.recorder: real boto3 calls against moto become Calls in a log, per client and per process."""

import functools
import multiprocessing
import threading

import boto3
import botocore.exceptions
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

from access.call_types import Call
from access.recorder import CallLog, IteratorStreams, record_client, record_process

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
PROCESSOR = f"arn:aws:iam::{ACCOUNT}:role/acme-dev-processor"
READER = "service:lambda.amazonaws.com"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/events"
STREAM = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/ingest"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:failures"
BUCKET = "arn:aws:s3:::archive"


@functools.cache
def shared_session():
    """One session for the clients a test makes itself: a session loads each service model once."""
    return boto3.session.Session(region_name=REGION, **CREDENTIALS)


def new_client(service, **options):
    return shared_session().client(service, **options)


def create_resources(endpoint_url=None):
    """The table, stream, queue and bucket the tests call, created by a client nobody records."""
    options = {"endpoint_url": endpoint_url} if endpoint_url else {}
    new_client("dynamodb", **options).create_table(
        TableName="events",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    kinesis = new_client("kinesis", **options)
    kinesis.create_stream(StreamName="ingest", ShardCount=1)
    kinesis.put_record(StreamName="ingest", Data=b"{}", PartitionKey="a")
    queue_url = new_client("sqs", **options).create_queue(QueueName="failures")["QueueUrl"]
    new_client("s3", **options).create_bucket(Bucket="archive")
    return queue_url


def seen(path):
    return [(call.principal, call.action, call.resource) for call in CallLog.read(path)]


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield create_resources()


@pytest.fixture
def log(tmp_path):
    with CallLog(tmp_path / "calls.jsonl") as opened:
        yield opened


def test_recorder_records_each_call_of_a_recorded_client(aws, log):
    dynamodb, kinesis, sqs, s3 = (new_client(name) for name in ("dynamodb", "kinesis", "sqs", "s3"))
    for client in (dynamodb, kinesis, sqs, s3):
        record_client(client, PROCESSOR, log, account=ACCOUNT)

    dynamodb.put_item(TableName="events", Item={"pk": {"S": "1"}})
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "events", "Item": {"pk": {"S": "2"}}}},
            {
                "ConditionCheck": {
                    "TableName": TABLE,
                    "Key": {"pk": {"S": "1"}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
        ]
    )
    kinesis.put_record(StreamName="ingest", Data=b"{}", PartitionKey="b")
    sqs.send_message(QueueUrl=aws, MessageBody="poison pill")
    s3.put_object(Bucket="archive", Key="year=2025/part-0.parquet", Body=b"PAR1")
    s3.list_objects_v2(Bucket="archive", Prefix="year=")

    assert seen(log.path) == [
        (PROCESSOR, "dynamodb:PutItem", TABLE),
        (PROCESSOR, "dynamodb:PutItem", TABLE),
        (PROCESSOR, "dynamodb:ConditionCheckItem", TABLE),
        (PROCESSOR, "kinesis:PutRecord", STREAM),
        (PROCESSOR, "sqs:SendMessage", QUEUE),
        (PROCESSOR, "s3:PutObject", f"{BUCKET}/year=2025/part-0.parquet"),
        (PROCESSOR, "s3:ListBucket", BUCKET),
    ]
    assert {call.operation for call in CallLog.read(log.path)} >= {"TransactWriteItems", "ListObjectsV2"}


def test_recorder_get_records_resolved_to_the_stream_of_its_iterator(aws, log):
    kinesis = new_client("kinesis")
    record_client(kinesis, READER, log, account=ACCOUNT)

    shard = kinesis.list_shards(StreamName="ingest")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName="ingest", ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    first = kinesis.get_records(ShardIterator=iterator["ShardIterator"])
    kinesis.get_records(ShardIterator=first["NextShardIterator"])

    assert len(first["Records"]) == 1
    assert seen(log.path) == [
        (READER, "kinesis:ListShards", STREAM),
        (READER, "kinesis:GetShardIterator", STREAM),
        (READER, "kinesis:GetRecords", STREAM),
        (READER, "kinesis:GetRecords", STREAM),
    ]


def test_recorder_unknown_operation_recorded_as_unknown_and_call_still_succeeds(aws, log):
    sqs = new_client("sqs")
    record_client(sqs, PROCESSOR, log, account=ACCOUNT)

    created = sqs.create_queue(QueueName="another")

    assert created["QueueUrl"].endswith(f"/{ACCOUNT}/another")
    assert CallLog.read(log.path) == [
        Call(PROCESSOR, "unknown:sqs:CreateQueue", "*", {"aws:SecureTransport": "true"}, "CreateQueue")
    ]


def test_recorder_call_rejected_by_the_service_is_still_recorded(aws, log):
    dynamodb = new_client("dynamodb")
    record_client(dynamodb, PROCESSOR, log, account=ACCOUNT)

    with pytest.raises(dynamodb.exceptions.ResourceNotFoundException):
        dynamodb.get_item(TableName="missing", Key={"pk": {"S": "1"}})

    assert seen(log.path) == [(PROCESSOR, "dynamodb:GetItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/missing")]


def test_recorder_call_rejected_by_botocore_before_sending_is_not_recorded(aws, log):
    dynamodb = new_client("dynamodb")
    record_client(dynamodb, PROCESSOR, log, account=ACCOUNT)

    with pytest.raises(botocore.exceptions.ParamValidationError):
        dynamodb.put_item(TableName="events")

    assert CallLog.read(log.path) == []


def test_recorder_leaves_other_clients_of_the_same_session_unrecorded(aws, log):
    recorded, other = new_client("sqs"), new_client("sqs")
    record_client(recorded, PROCESSOR, log, account=ACCOUNT)

    other.send_message(QueueUrl=aws, MessageBody="not recorded")
    recorded.send_message(QueueUrl=aws, MessageBody="recorded")

    assert seen(log.path) == [(PROCESSOR, "sqs:SendMessage", QUEUE)]


def test_recorder_two_recorders_on_one_client_each_record_their_own_principal(aws, tmp_path):
    sqs = new_client("sqs")
    with CallLog(tmp_path / "processor.jsonl") as processor, CallLog(tmp_path / "reader.jsonl") as reader:
        record_client(sqs, PROCESSOR, processor, account=ACCOUNT)
        record_client(sqs, READER, reader, account=ACCOUNT)

        sqs.send_message(QueueUrl=aws, MessageBody="seen by both")

        assert seen(processor.path) == [(PROCESSOR, "sqs:SendMessage", QUEUE)]
        assert seen(reader.path) == [(READER, "sqs:SendMessage", QUEUE)]


def test_iterator_streams_keep_only_the_newest_tokens():
    streams = IteratorStreams(limit=2)
    for token in ("first", "second", "third"):
        streams.remember(token, STREAM)

    assert dict(streams) == {"second": STREAM, "third": STREAM}


def test_call_log_round_trips_calls_and_leaves_an_unfinished_line(tmp_path):
    path = tmp_path / "calls.jsonl"
    calls = [
        Call(PROCESSOR, "dynamodb:PutItem", TABLE, {"aws:SecureTransport": "true"}, "PutItem"),
        Call(READER, "kinesis:GetRecords", STREAM, {"aws:SourceArn": STREAM}),
    ]
    with CallLog(path) as log:
        log.append(calls)
    with open(path, "a", encoding="utf-8") as file:
        file.write('{"principal": "half a line')

    assert CallLog.read(path) == calls


def test_call_log_lines_from_concurrent_writers_never_interleave(tmp_path):
    path = tmp_path / "calls.jsonl"
    writers, batches = 8, 200
    batch = [Call(f"role-{n}", "sqs:SendMessage", QUEUE * 20, {"aws:SecureTransport": "true"}) for n in range(3)]
    logs = [CallLog(path) for _ in range(writers)]  # one file descriptor each, as separate processes have

    def write(log):
        for _ in range(batches):
            log.append(batch)

    threads = [threading.Thread(target=write, args=(log,)) for log in logs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for log in logs:
        log.close()

    assert CallLog.read(path) == batch * writers * batches


def test_record_process_records_clients_of_sessions_created_afterwards(aws, tmp_path, monkeypatch):
    path = tmp_path / "calls.jsonl"
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    boto3.setup_default_session(region_name=REGION, **CREDENTIALS)  # exists before the recording starts
    recording = record_process(PROCESSOR, path, account=ACCOUNT)
    try:
        fresh = boto3.session.Session(region_name=REGION, **CREDENTIALS).client("sqs")
        fresh.send_message(QueueUrl=aws, MessageBody="a")
        boto3.client("dynamodb").describe_table(TableName="events")
        with pytest.raises(RuntimeError):
            record_process(READER, path, account=ACCOUNT)
    finally:
        recording.stop()
    fresh.send_message(QueueUrl=aws, MessageBody="from a client created while recording")
    boto3.session.Session(region_name=REGION, **CREDENTIALS).client("sqs").send_message(QueueUrl=aws, MessageBody="b")
    boto3.client("sqs").send_message(QueueUrl=aws, MessageBody="c")

    assert seen(path) == [(PROCESSOR, "sqs:SendMessage", QUEUE), (PROCESSOR, "dynamodb:DescribeTable", TABLE)]


def call_from_a_fresh_process(log_path, endpoint_url, queue_url):
    """The child: record the whole process, then make calls the way the unmodified Lambda handler does."""
    record_process(PROCESSOR, log_path, account=ACCOUNT)
    options = {"region_name": REGION, "endpoint_url": endpoint_url, **CREDENTIALS}
    boto3.session.Session().client("sqs", **options).send_message(QueueUrl=queue_url, MessageBody="from the child")
    boto3.session.Session().client("dynamodb", **options).put_item(TableName="events", Item={"pk": {"S": "c"}})


def test_record_process_in_a_spawned_process_records_its_calls_with_its_principal(monkeypatch, tmp_path):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint_url = f"http://{host}:{port}"
        queue_url = create_resources(endpoint_url)
        path = tmp_path / "calls.jsonl"
        child = multiprocessing.get_context("spawn").Process(
            target=call_from_a_fresh_process, args=(str(path), endpoint_url, queue_url)
        )
        child.start()
        child.join(timeout=60)
    finally:
        server.stop()

    assert child.exitcode == 0
    assert seen(path) == [(PROCESSOR, "sqs:SendMessage", QUEUE), (PROCESSOR, "dynamodb:PutItem", TABLE)]
