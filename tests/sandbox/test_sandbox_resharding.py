"""Both consumers of a stream follow it through a reshard (UpdateShardCount while they run) and deliver every
record once: Firehose to S3, the event source mapping to its function."""

from __future__ import annotations

import base64
import json

from sandbox_helpers import REGION, FakeInvoker, function_spec, mapping_spec, put

from sandbox.engines.event_source import EventSourceMapping
from sandbox.engines.firehose import FirehoseDelivery
from sandbox.engines.specs import DeliverySpec

BEFORE, AFTER = 40, 60


def _events(start: int, count: int) -> list[bytes]:
    return [json.dumps({"event_id": f"e{i}", "entity": f"k{i % 9}"}).encode() for i in range(start, start + count)]


def _keys(start: int, count: int) -> list[str]:
    return [f"k{i % 9}" for i in range(start, start + count)]


def _reshard_under(kinesis, stream: str, settle) -> list[bytes]:
    """Put records, `settle()` the consumer, double the shards, put more: every record sent, in order."""
    put(kinesis, stream, _events(0, BEFORE), _keys(0, BEFORE))
    assert settle()
    kinesis.update_shard_count(StreamName=stream, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    assert len(kinesis.list_shards(StreamName=stream)["Shards"]) > 1, "the stream was not resharded"
    put(kinesis, stream, _events(BEFORE, AFTER), _keys(BEFORE, AFTER))
    return _events(0, BEFORE + AFTER)


def test_firehose_follows_a_resharded_stream_and_delivers_every_record_once(
    aws, make_stream, make_bucket, endpoint_url
):
    name, arn = make_stream()
    bucket = make_bucket()
    spec = DeliverySpec(
        name="acme-archive",
        stream_arn=arn,
        bucket_arn=f"arn:aws:s3:::{bucket}",
        prefix="raw/",
        error_output_prefix="errors/",
        buffer_mb=64,
        buffer_seconds=300,
        output_format="json",
        columns=[],
        compression="UNCOMPRESSED",
    )
    delivery = FirehoseDelivery(spec, endpoint_url, REGION, shard_refresh_seconds=0.0)

    sent = _reshard_under(aws("kinesis"), name, lambda: delivery.run_until_idle(timeout=30, flush=True))
    assert delivery.run_until_idle(timeout=30, flush=True)

    s3 = aws("s3")
    keys = [obj["Key"] for obj in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    archived = [line for key in keys for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()]
    assert sorted(archived) == sorted(sent)
    assert delivery.stats.records_read == len(sent)


def test_mapping_follows_a_resharded_stream_and_invokes_every_record_once_in_key_order(aws, make_stream, endpoint_url):
    name, arn = make_stream()
    invoker = FakeInvoker()
    spec = mapping_spec(function_spec("unused"), arn, batch_size=7)
    mapping = EventSourceMapping(spec, endpoint_url, REGION, invoker, time_scale=0.01, shard_refresh_seconds=0.0)

    sent = _reshard_under(aws("kinesis"), name, lambda: mapping.run_until_idle(timeout=30))
    assert mapping.run_until_idle(timeout=30)
    mapping.close()

    invoked = [payload for index in range(len(invoker.events)) for payload in invoker.payloads(index)]
    assert sorted(invoked) == sorted(sent), "every record exactly once"
    by_key: dict[str, list[int]] = {}
    for event in invoker.events:
        for record in event["Records"]:
            payload = json.loads(base64.b64decode(record["kinesis"]["data"]))
            by_key.setdefault(payload["entity"], []).append(int(payload["event_id"][1:]))
    assert all(order == sorted(order) for order in by_key.values()), by_key
    assert mapping.stats.records_delivered == len(sent)
