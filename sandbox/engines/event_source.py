"""The Kinesis event source mapping, run the way Lambda runs it.

For every shard of the stream the mapping reads records (through its `ShardReader`, which follows
resharding and renews iterators), forms batches, invokes the function through its `FunctionWorkers`
and checkpoints:

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
A retry re-invokes the lane's own copy of the batch; nothing is read from the stream twice. Checkpoints:
`positions()` is, per shard, the last sequence number read, and once the mapping is `idle()` every record
up to it is settled, so a mapping built with `resume_after=positions()` continues exactly where this one
stopped (the sandbox keeps them between commands).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sandbox.engines import emulator
from sandbox.engines.lambda_records import failure_record, first_failed_index, kinesis_event
from sandbox.engines.on_failure import OnFailureDestination
from sandbox.engines.polling import PollingEngine
from sandbox.engines.shard_reader import SHARD_REFRESH_SECONDS, ShardReader, StreamRecord
from sandbox.engines.specs import MappingSpec, arn_account, stream_name
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
RETRY_BACKOFF_SECONDS = (0.5, 1.0, 2.0, 4.0, 8.0)  # before time_scale


class Invoker(Protocol):
    def invoke(self, event: dict[str, Any]) -> InvocationResult: ...


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


def lane_of(partition_key: str, lanes: int) -> int:
    if lanes == 1:
        return 0
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big") % lanes


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
        shard_refresh_seconds: float = SHARD_REFRESH_SECONDS,
    ) -> None:
        """`instrument(client)` is applied to each client the engine makes (the sandbox records its calls)."""
        super().__init__(poll_interval)
        self.thread_name = f"esm-{spec.uuid[:8]}"
        self.spec = spec
        self.region = region
        self._workers = workers
        self._time_scale = time_scale
        self._clock = clock
        self._on_metric = on_metric
        self._stats = MappingStats()
        self._instrument = instrument or (lambda client: client)
        kinesis = self._instrument(emulator.client("kinesis", endpoint_url, region))
        self._identity = spec.function.role_arn or (
            f"arn:aws:iam::{arn_account(spec.function.function_arn) or emulator.DUMMY_ACCOUNT}"
            f":role/{spec.function.name}-role"
        )
        self._reader = ShardReader(
            kinesis,
            stream_name(spec.stream_arn),
            starting_position=spec.starting_position,
            resume_after=resume_after,
            refresh_seconds=shard_refresh_seconds,
        )
        self._lanes: dict[str, list[_Lane]] = {}
        # A poll moves records between a lane's queues; `idle()` waits for it, so it never sees a batch between two.
        self._polling = threading.RLock()
        self._destination = (
            OnFailureDestination(spec.on_failure_destination, spec.uuid, endpoint_url, region, self._instrument)
            if spec.on_failure_destination
            else None
        )
        self._reader.refresh()
        concurrency = worker_concurrency(spec.parallelization_factor, len(self._reader.shard_ids()))
        self._executor = ThreadPoolExecutor(concurrency, thread_name_prefix=f"esm-{spec.uuid[:8]}")
        for shard_id in self._reader.readable():
            self._reader.start(shard_id)  # LATEST means "from the mapping's creation on"

    # -- public

    @property
    def stats(self) -> MappingStats:
        return replace(self._stats)

    def poll_once(self) -> bool:
        """Read, dispatch and settle what is ready on every shard; True if anything happened."""
        with self._polling:
            did_work = self._reader.refresh_if_due()
            for shard_id in self._reader.shard_ids():
                lanes = self._lanes_of(shard_id)
                if self._reader.may_read(shard_id, self._drained):
                    did_work |= self._read(shard_id, lanes)
                for lane in lanes:
                    did_work |= self._settle(lane)
                    did_work |= self._dispatch(lane)
            return did_work

    def idle(self) -> bool:
        """Nothing buffered, in flight or waiting for a retry, and every shard read to its end."""
        with self._polling:
            lanes = [lane for shard_lanes in self._lanes.values() for lane in shard_lanes]
            return all(lane.idle for lane in lanes) and self._reader.caught_up()

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

    def positions(self) -> dict[str, str]:
        """Per shard, the last sequence number read. Once `idle()`, every record up to it is settled,
        so a later mapping built with `resume_after=positions()` continues exactly where this one ended."""
        return self._reader.positions()

    # -- reading

    def _lanes_of(self, shard_id: str) -> list[_Lane]:
        if shard_id not in self._lanes:
            self._lanes[shard_id] = [_Lane() for _ in range(self.spec.parallelization_factor)]
        return self._lanes[shard_id]

    def _drained(self, shard_id: str) -> bool:
        """Every record read from the shard is settled: its children may be read (per-key order)."""
        return all(lane.idle for lane in self._lanes_of(shard_id))

    def _read(self, shard_id: str, lanes: list[_Lane]) -> bool:
        buffered = sum(len(lane.pending) for lane in lanes)
        if buffered >= self.spec.batch_size * self.spec.parallelization_factor * 2:
            return False
        records = self._reader.read(shard_id)
        now = time.monotonic()
        for record in records:
            lane = lanes[lane_of(record.partition_key, len(lanes))]
            if not lane.pending:
                lane.pending_since = now
            lane.pending.append(record)
        self._stats.records_read += len(records)
        return bool(records)

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
        if self._destination is None:
            self._stats.records_dropped += len(batch.records)
            self._mapping_metric("DroppedEventCount", len(batch.records))
            return
        now = self._clock()
        message = failure_record(
            function_arn=self.spec.function.function_arn,
            stream_arn=self.spec.stream_arn,
            records=batch.records,
            invocations=batch.invocations,
            last_result=batch.last_result,
            condition=condition,
            now=now,
        )
        if self._destination.is_bucket:
            message["payload"] = kinesis_event(batch.records, self.spec.stream_arn, self.region, self._identity)
        self._destination.send(message, batch.records[0].shard_id, now)
        self._stats.records_to_destination += len(batch.records)
        self._stats.destination_messages += 1
        # Delivered to the destination, so not dropped ("Dropped events also excludes events that you send
        # to an on-failure destination", Lambda's event source mapping metrics).
        self._mapping_metric("OnFailureDestinationDeliveredEventCount", len(batch.records))
