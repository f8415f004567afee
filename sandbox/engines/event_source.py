"""The Kinesis event source mapping, run the way Lambda runs it.

For every shard of the stream the mapping reads records (GetShardIterator/GetRecords against the
emulator), forms batches, invokes the function through its `FunctionWorkers` and checkpoints:

- batches hold at most `batch_size` records (and at most Lambda's 6 MB invocation payload); with a
  batching window the mapping waits up to the window (times `time_scale`) for a full batch;
- `parallelization_factor` N: each shard's records are spread over N lanes by the MD5 hash of their
  partition key, and the lanes run concurrently, so records of one partition key stay in order;
- `report_batch_item_failures`: the lane checkpoints before the lowest reported sequence number and
  retries the batch's records from there; a malformed response fails the whole batch;
- a function error (exception, timeout, crash) fails the whole batch. With `bisect_on_error` the
  batch is split in two and the halves retried in order; as in Lambda, a split does not use up a
  retry attempt, a retry of an unsplittable batch does;
- after `max_retries` retries, or when a batch's oldest record is older than
  `max_record_age_seconds`, the batch is described to the on-failure destination (SQS or S3) in the
  record format Lambda uses and the lane moves past it.

Records older than the maximum age are also skipped (and described) before their first invocation.
Checkpoints live in memory: a mapping reads every shard once, from its starting position.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.exceptions import ClientError

from sandbox.engines import emulator
from sandbox.engines.polling import PollingEngine
from sandbox.engines.specs import MappingSpec, arn_account, arn_resource, arn_service, stream_name
from sandbox.engines.workers import InvocationResult, worker_concurrency

MetricHook = Callable[[str, float, dict[str, str]], None]
METRIC_UNITS = {
    "Invocations": "Count",
    "Errors": "Count",
    "Throttles": "Count",
    "Duration": "Milliseconds",
    "IteratorAge": "Milliseconds",
}
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # Lambda's synchronous invocation payload limit
RECORD_OVERHEAD_BYTES = 400  # the JSON around one record's data in the event
GET_RECORDS_LIMIT = 10000
RETRY_BACKOFF_SECONDS = (0.5, 1.0, 2.0, 4.0, 8.0)  # before time_scale
SHARD_REFRESH_SECONDS = 10.0


class Invoker(Protocol):
    def invoke(self, event: dict[str, Any]) -> InvocationResult: ...


@dataclass(frozen=True)
class StreamRecord:
    shard_id: str
    sequence_number: str
    partition_key: str
    data: bytes
    arrival: float  # epoch seconds


@dataclass
class Batch:
    records: list[StreamRecord]
    retries: int = 0  # retry attempts used
    invocations: int = 0  # invocations that carried these records
    last_result: InvocationResult | None = None
    not_before: float = 0.0  # monotonic time before which a retry waits


@dataclass
class MappingStats:
    records_read: int = 0
    batches: int = 0
    invocations: int = 0
    records_delivered: int = 0
    function_errors: int = 0
    failed_batches: int = 0  # function errors, malformed and partial responses
    retries: int = 0
    throttles: int = 0
    records_to_destination: int = 0
    destination_messages: int = 0
    records_dropped: int = 0  # given up on with no on-failure destination configured
    iterator_age_ms: float = 0.0


@dataclass
class _Lane:
    pending: deque[StreamRecord] = field(default_factory=deque)
    retry: deque[Batch] = field(default_factory=deque)
    pending_since: float | None = None
    inflight: Future[InvocationResult] | None = None
    inflight_batch: Batch | None = None

    @property
    def idle(self) -> bool:
        return not self.pending and not self.retry and self.inflight is None


@dataclass
class _Shard:
    shard_id: str
    parents: tuple[str, ...]
    lanes: list[_Lane]
    iterator: str | None = None
    last_sequence: str | None = None
    caught_up: bool = False
    started: bool = False

    @property
    def closed_and_done(self) -> bool:
        return self.started and self.iterator is None and all(lane.idle for lane in self.lanes)


# --------------------------------------------------------------------------- pure helpers


def iso_millis(epoch: float) -> str:
    """`2019-11-14T00:38:06.021Z`: the timestamp format of Lambda's invocation records."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def lane_of(partition_key: str, lanes: int) -> int:
    if lanes == 1:
        return 0
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big") % lanes


def kinesis_event(records: list[StreamRecord], stream_arn: str, region: str, identity_arn: str) -> dict:
    """The event Lambda passes to a function for a batch of Kinesis records."""
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record.partition_key,
                    "sequenceNumber": record.sequence_number,
                    "data": base64.b64encode(record.data).decode("ascii"),
                    "approximateArrivalTimestamp": record.arrival,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{record.shard_id}:{record.sequence_number}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": identity_arn,
                "awsRegion": region,
                "eventSourceARN": stream_arn,
            }
            for record in records
        ]
    }


def first_failed_index(response: Any, records: list[StreamRecord]) -> int | None:
    """Index of the lowest reported failure in a partial batch response; None if all succeeded.

    Raises ValueError for a response Lambda treats as a failure of the whole batch.
    """
    if response is None:
        return None
    if not isinstance(response, dict):
        raise ValueError(f"response is a {type(response).__name__}, not an object")
    failures = response.get("batchItemFailures")
    if failures is None:
        return None
    if not isinstance(failures, list):
        raise ValueError("batchItemFailures is not a list")
    positions = {record.sequence_number: index for index, record in enumerate(records)}
    lowest: int | None = None
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or not identifier:
            raise ValueError(f"bad itemIdentifier in {failure!r}")
        if identifier not in positions:
            raise ValueError(f"itemIdentifier {identifier!r} is not in the batch")
        index = positions[identifier]
        lowest = index if lowest is None else min(lowest, index)
    return lowest


def failure_record(
    spec: MappingSpec,
    batch: Batch,
    condition: str,
    now: float,
    request_id: str | None = None,
) -> dict[str, Any]:
    """What Lambda sends to a Kinesis mapping's on-failure destination for a discarded batch."""
    first, last = batch.records[0], batch.records[-1]
    result = batch.last_result
    response_context: dict[str, Any] = {"statusCode": result.status_code if result else 200}
    response_context["executedVersion"] = "$LATEST"
    response_context["functionError"] = (result.function_error if result else None) or ""
    return {
        "requestContext": {
            "requestId": request_id or (result.request_id if result else str(uuid.uuid4())),
            "functionArn": spec.function.function_arn,
            "condition": condition,
            "approximateInvokeCount": batch.invocations,
        },
        "responseContext": response_context,
        "version": "1.0",
        "timestamp": iso_millis(now),
        "KinesisBatchInfo": {
            "shardId": first.shard_id,
            "startSequenceNumber": first.sequence_number,
            "endSequenceNumber": last.sequence_number,
            "approximateArrivalOfFirstRecord": iso_millis(first.arrival),
            "approximateArrivalOfLastRecord": iso_millis(last.arrival),
            "batchSize": len(batch.records),
            "streamArn": spec.stream_arn,
        },
    }


def s3_failure_key(mapping_uuid: str, shard_id: str, now: float) -> str:
    stamp = datetime.fromtimestamp(now, UTC)
    return f"aws/lambda/{mapping_uuid}/{shard_id}/{stamp:%Y/%m/%d}/{stamp:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}"


# --------------------------------------------------------------------------- the mapping


class EventSourceMapping(PollingEngine):
    """One Kinesis event source mapping; drive it with `poll_once`, `run_until_idle` or `start`."""

    def __init__(
        self,
        spec: MappingSpec,
        endpoint_url: str,
        region: str,
        workers: Invoker,
        *,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.time,
        on_metric: MetricHook | None = None,
        poll_interval: float = 0.05,
        resume_after: dict[str, str] | None = None,
        instrument: Callable[[Any], Any] | None = None,
    ) -> None:
        """`instrument(client)` is applied to each client the engine makes (the sandbox records its calls)."""
        super().__init__(poll_interval)
        self.thread_name = f"esm-{spec.uuid[:8]}"
        self.spec = spec
        self.region = region
        self._resume_after = dict(resume_after or {})
        self._workers = workers
        self._time_scale = time_scale
        self._clock = clock
        self._on_metric = on_metric
        self._stats = MappingStats()
        self._instrument = instrument or (lambda client: client)
        self._kinesis = self._instrument(emulator.client("kinesis", endpoint_url, region))
        self._endpoint_url = endpoint_url
        self._stream = stream_name(spec.stream_arn)
        self._identity = spec.function.role_arn or (
            f"arn:aws:iam::{arn_account(spec.function.function_arn) or emulator.DUMMY_ACCOUNT}"
            f":role/{spec.function.name}-role"
        )
        self._shards: dict[str, _Shard] = {}
        self._last_refresh = 0.0
        self._destination_client: Any = None
        self._queue_url: str | None = None
        self._refresh_shards()
        concurrency = worker_concurrency(spec.parallelization_factor, len(self._shards))
        self._executor = ThreadPoolExecutor(concurrency, thread_name_prefix=f"esm-{spec.uuid[:8]}")
        for shard in self._shards.values():
            if self._parents_done(shard):
                self._start_shard(shard)  # LATEST means "from the mapping's creation on"

    # -- public

    @property
    def stats(self) -> MappingStats:
        return replace(self._stats)

    def poll_once(self) -> bool:
        """Read, dispatch and settle what is ready on every shard; True if anything happened."""
        did_work = False
        if time.monotonic() - self._last_refresh > SHARD_REFRESH_SECONDS:
            did_work |= self._refresh_shards()
        for shard in list(self._shards.values()):
            if not self._parents_done(shard):
                continue
            did_work |= self._read(shard)
            for lane in shard.lanes:
                did_work |= self._settle(lane)
                did_work |= self._dispatch(lane)
        return did_work

    def idle(self) -> bool:
        """Nothing buffered, in flight or waiting for a retry, and every shard read to its end."""
        return all(
            all(lane.idle for lane in shard.lanes) and (shard.caught_up or shard.iterator is None)
            for shard in self._shards.values()
        )

    def run_until_idle(self, timeout: float = 30.0) -> bool:
        """Poll until `idle()`; False if `timeout` seconds passed first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            did_work = self.poll_once()
            if not did_work and self.idle():
                return True
            if not did_work:
                time.sleep(self._poll_interval)
        return False

    def close(self) -> None:
        super().close()
        self._executor.shutdown(wait=True, cancel_futures=True)

    # -- shards and reading

    def _refresh_shards(self) -> bool:
        self._last_refresh = time.monotonic()
        found = False
        kwargs: dict[str, Any] = {"StreamName": self._stream}
        while True:
            page = self._kinesis.list_shards(**kwargs)
            for shard in page["Shards"]:
                if shard["ShardId"] not in self._shards:
                    parents = tuple(shard[key] for key in ("ParentShardId", "AdjacentParentShardId") if shard.get(key))
                    lanes = [_Lane() for _ in range(self.spec.parallelization_factor)]
                    self._shards[shard["ShardId"]] = _Shard(shard["ShardId"], parents, lanes)
                    found = True
            if not page.get("NextToken"):
                return found
            kwargs = {"NextToken": page["NextToken"]}

    def _parents_done(self, shard: _Shard) -> bool:
        # A child shard is read only after its parents are finished, so per-key order survives a reshard.
        return all(parent not in self._shards or self._shards[parent].closed_and_done for parent in shard.parents)

    def positions(self) -> dict[str, str]:
        """Per shard, the last sequence number read. Once `idle()`, every record up to it is settled,
        so a later mapping built with `resume_after=positions()` continues exactly where this one ended."""
        return {
            **self._resume_after,
            **{s.shard_id: s.last_sequence for s in self._shards.values() if s.last_sequence is not None},
        }

    def _start_shard(self, shard: _Shard) -> None:
        position = self.spec.starting_position
        if shard.parents and any(parent in self._shards for parent in shard.parents):
            position = "TRIM_HORIZON"  # a child of a shard we read continues where its parent ended
        kwargs: dict[str, Any] = {"ShardIteratorType": position}
        if shard.shard_id in self._resume_after:
            kwargs = {
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "StartingSequenceNumber": self._resume_after[shard.shard_id],
            }
        shard.iterator = self._kinesis.get_shard_iterator(StreamName=self._stream, ShardId=shard.shard_id, **kwargs)[
            "ShardIterator"
        ]
        shard.started = True

    def _read(self, shard: _Shard) -> bool:
        if not shard.started:
            self._start_shard(shard)
        if shard.iterator is None:
            return False
        buffered = sum(len(lane.pending) for lane in shard.lanes)
        if buffered >= self.spec.batch_size * self.spec.parallelization_factor * 2:
            return False
        try:
            page = self._kinesis.get_records(ShardIterator=shard.iterator, Limit=GET_RECORDS_LIMIT)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ExpiredIteratorException":
                raise
            self._renew_iterator(shard)
            return False
        shard.iterator = page.get("NextShardIterator")
        records = page["Records"]
        shard.caught_up = not records
        now = time.monotonic()
        for raw in records:
            record = StreamRecord(
                shard.shard_id,
                raw["SequenceNumber"],
                raw["PartitionKey"],
                raw["Data"],
                raw["ApproximateArrivalTimestamp"].timestamp(),
            )
            lane = shard.lanes[lane_of(record.partition_key, len(shard.lanes))]
            if not lane.pending:
                lane.pending_since = now
            lane.pending.append(record)
            shard.last_sequence = record.sequence_number
        self._stats.records_read += len(records)
        return bool(records)

    def _renew_iterator(self, shard: _Shard) -> None:
        kwargs: dict[str, Any] = {"StreamName": self._stream, "ShardId": shard.shard_id}
        if shard.last_sequence is None:
            kwargs["ShardIteratorType"] = self.spec.starting_position
        else:
            kwargs["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
            kwargs["StartingSequenceNumber"] = shard.last_sequence
        shard.iterator = self._kinesis.get_shard_iterator(**kwargs)["ShardIterator"]

    # -- batching and invoking

    def _expired(self, record: StreamRecord, now: float) -> bool:
        max_age = self.spec.max_record_age_seconds
        return max_age != -1 and now - record.arrival > max_age

    def _dispatch(self, lane: _Lane) -> bool:
        if lane.inflight is not None:
            return False
        if lane.retry:
            return self._dispatch_retry(lane)
        now = self._clock()
        expired: list[StreamRecord] = []
        while lane.pending and self._expired(lane.pending[0], now) and len(expired) < self.spec.batch_size:
            expired.append(lane.pending.popleft())
        if expired:
            self._give_up(Batch(expired), "RecordAgeExceeded")
            return True
        if not lane.pending:
            return False
        window = self.spec.batching_window_seconds * self._time_scale
        waited = time.monotonic() - (lane.pending_since or 0.0)
        if len(lane.pending) < self.spec.batch_size and waited < window:
            return False
        self._submit(lane, Batch(self._take(lane)))
        return True

    def _take(self, lane: _Lane) -> list[StreamRecord]:
        records: list[StreamRecord] = []
        size = 0
        while lane.pending and len(records) < self.spec.batch_size:
            record_size = len(lane.pending[0].data) * 4 // 3 + RECORD_OVERHEAD_BYTES
            if records and size + record_size > MAX_PAYLOAD_BYTES:
                break
            records.append(lane.pending.popleft())
            size += record_size
        lane.pending_since = time.monotonic() if lane.pending else None
        return records

    def _dispatch_retry(self, lane: _Lane) -> bool:
        batch = lane.retry[0]
        if self._expired(batch.records[0], self._clock()):
            lane.retry.popleft()
            self._give_up(batch, "RecordAgeExceeded")
            return True
        if time.monotonic() < batch.not_before:
            return False
        lane.retry.popleft()
        self._stats.retries += 1
        self._submit(lane, batch)
        return True

    def _submit(self, lane: _Lane, batch: Batch) -> None:
        self._stats.batches += 1
        event = kinesis_event(batch.records, self.spec.stream_arn, self.region, self._identity)
        lane.inflight_batch = batch
        lane.inflight = self._executor.submit(self._workers.invoke, event)

    # -- settling results

    def _settle(self, lane: _Lane) -> bool:
        if lane.inflight is None or not lane.inflight.done():
            return False
        result = lane.inflight.result()
        batch = lane.inflight_batch
        assert batch is not None
        lane.inflight, lane.inflight_batch = None, None
        batch.invocations += 1
        batch.last_result = result
        self._count_invocation(result)
        if not result.ok:
            self._stats.function_errors += 1
            self._failed(lane, batch)
            return True
        if not self.spec.report_batch_item_failures:
            self._commit(batch.records)
            return True
        try:
            index = first_failed_index(result.payload, batch.records)
        except ValueError:
            self._failed(lane, batch)
            return True
        if index is None:
            self._commit(batch.records)
            return True
        self._commit(batch.records[:index])
        self._retry_or_give_up(lane, replace(batch, records=batch.records[index:]))
        self._stats.failed_batches += 1
        return True

    def _failed(self, lane: _Lane, batch: Batch) -> None:
        """The whole batch failed: bisect it (no retry used up) or retry it."""
        self._stats.failed_batches += 1
        if self.spec.bisect_on_error and len(batch.records) > 1:
            half = len(batch.records) // 2
            lane.retry.appendleft(replace(batch, records=batch.records[half:]))
            lane.retry.appendleft(replace(batch, records=batch.records[:half]))
            return
        self._retry_or_give_up(lane, batch)

    def _retry_or_give_up(self, lane: _Lane, batch: Batch) -> None:
        if self.spec.max_retries != -1 and batch.retries >= self.spec.max_retries:
            self._give_up(batch, "RetryAttemptsExhausted")
            return
        backoff = RETRY_BACKOFF_SECONDS[min(batch.retries, len(RETRY_BACKOFF_SECONDS) - 1)]
        batch.retries += 1
        batch.not_before = time.monotonic() + backoff * self._time_scale
        lane.retry.appendleft(batch)

    def _commit(self, records: list[StreamRecord]) -> None:
        if not records:
            return
        self._stats.records_delivered += len(records)
        self._record_iterator_age(records[-1])

    def _record_iterator_age(self, record: StreamRecord) -> None:
        self._stats.iterator_age_ms = max(0.0, (self._clock() - record.arrival) * 1000)
        self._metric("IteratorAge", self._stats.iterator_age_ms)

    def _count_invocation(self, result: InvocationResult) -> None:
        self._stats.invocations += 1
        self._metric("Invocations", 1)
        self._metric("Duration", result.duration_ms)
        self._metric("Errors", 0 if result.ok else 1)
        if result.throttled:
            self._stats.throttles += 1
            self._metric("Throttles", 1)

    def _metric(self, name: str, value: float) -> None:
        if self._on_metric is not None:
            self._on_metric(name, float(value), {"FunctionName": self.spec.function.name})

    def _mapping_metric(self, name: str, value: float) -> None:
        """The mapping's own metrics (MetricsConfig EventCount) carry only its UUID, as Lambda publishes them."""
        if self._on_metric is not None:
            self._on_metric(name, float(value), {"EventSourceMappingUUID": self.spec.uuid})

    # -- the on-failure destination

    def _give_up(self, batch: Batch, condition: str) -> None:
        self._record_iterator_age(batch.records[-1])
        destination = self.spec.on_failure_destination
        if not destination:
            self._stats.records_dropped += len(batch.records)
            self._mapping_metric("DroppedEventCount", len(batch.records))
            return
        now = self._clock()
        message = failure_record(self.spec, batch, condition, now)
        if arn_service(destination) == "s3":
            # An S3 destination also receives the invocation record itself.
            event = kinesis_event(batch.records, self.spec.stream_arn, self.region, self._identity)
            message["payload"] = event
            self._s3().put_object(
                Bucket=arn_resource(destination),
                Key=s3_failure_key(self.spec.uuid, batch.records[0].shard_id, now),
                Body=json.dumps(message).encode(),
                ContentType="application/json",
            )
        else:
            self._sqs().send_message(QueueUrl=self._failure_queue_url(), MessageBody=json.dumps(message))
        self._stats.records_to_destination += len(batch.records)
        self._stats.destination_messages += 1
        # Delivered to the destination, so not dropped ("Dropped events also excludes events that you send
        # to an on-failure destination", Lambda's event source mapping metrics).
        self._mapping_metric("OnFailureDestinationDeliveredEventCount", len(batch.records))

    def _s3(self) -> Any:
        if self._destination_client is None:
            self._destination_client = self._instrument(emulator.client("s3", self._endpoint_url, self.region))
        return self._destination_client

    def _sqs(self) -> Any:
        if self._destination_client is None:
            self._destination_client = self._instrument(emulator.client("sqs", self._endpoint_url, self.region))
        return self._destination_client

    def _failure_queue_url(self) -> str:
        # Lambda sends to the destination's ARN and never looks the queue up; the emulator's URL follows
        # from the ARN the same way, so the mapping makes no call its role would not make on AWS.
        if self._queue_url is None:
            destination = self.spec.on_failure_destination or ""
            self._queue_url = f"{self._endpoint_url}/{arn_account(destination)}/{arn_resource(destination)}"
        return self._queue_url
