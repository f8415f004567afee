"""One invocation's work, without Lambda: decode, write, queue permanent failures, and build the
partial batch response.

Kinesis is ordered per shard, and Lambda resumes a shard from the lowest sequence number reported
in ``batchItemFailures``. So the response reports the FIRST record (in batch order) that did not
settle and every record after it; a record of a KPL aggregate is reported as its parent sequence
number, once. Records before the first failure are settled: written, skipped as duplicate/stale,
or sent to the failure queue. Permanent failures after the first transient one are left for the
redelivery to send, so each poison pill reaches the queue once per invocation that settles it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol

from runtime.config import HandlerConfig
from runtime.exceptions import WriteRejectedError
from runtime.records import decode_batch
from runtime.retry import Deadline
from runtime.types import BatchResult, DecodedRecord, Outcome, RecordFailure, WriteReport


class RecordWriter(Protocol):
    def write(self, records: list[DecodedRecord], deadline: Deadline) -> WriteReport: ...


class FailureSink(Protocol):
    def send(self, failures: list[RecordFailure], deadline: Deadline) -> set[int]: ...


def process_batch(
    event: Mapping[str, Any],
    config: HandlerConfig,
    writer: RecordWriter,
    failure_sink: FailureSink,
    deadline: Deadline,
) -> BatchResult:
    records = list(event.get("Records") or [])
    valid, failures = decode_batch(records, config)
    report = writer.write(valid, deadline) if valid else WriteReport()

    for position, detail in report.rejected.items():
        record = valid[position]
        failures.append(RecordFailure(record.source, record.payload, WriteRejectedError.reason, detail))

    first_failed = min(
        (valid[p].source.batch_index for p, o in report.outcomes.items() if o is Outcome.TRANSIENT),
        default=len(records),
    )
    failures.sort(key=lambda f: (f.source.batch_index, f.source.sub_sequence_number))
    to_send = [f for f in failures if f.source.batch_index < first_failed]
    unsent = failure_sink.send(to_send, deadline) if to_send else set()
    if unsent:
        first_failed = min(first_failed, min(to_send[i].source.batch_index for i in unsent))

    result = BatchResult(batch_item_failures=_reported(records, first_failed))
    _count(result, valid, report, failures, first_failed)
    result.queued = [f for i, f in enumerate(to_send) if i not in unsent and f.source.batch_index < first_failed]
    result.failures_queued = len(result.queued)
    arrivals = [float(r["kinesis"].get("approximateArrivalTimestamp") or 0) for r in records]
    result.oldest_arrival = min(arrivals) if arrivals else None
    return result


def _reported(records: list[Mapping[str, Any]], first_failed: int) -> list[str]:
    reported: list[str] = []
    seen: set[str] = set()
    for record in records[first_failed:]:
        sequence = str(record["kinesis"]["sequenceNumber"])
        if sequence not in seen:
            seen.add(sequence)
            reported.append(sequence)
    return reported


def _count(
    result: BatchResult,
    valid: list[DecodedRecord],
    report: WriteReport,
    failures: list[RecordFailure],
    first_failed: int,
) -> None:
    result.received = len(valid) + len(failures) - len(report.rejected)
    # A failure at or after the first reported record is not settled by this delivery: Lambda delivers it
    # again, and it is counted then, once.
    settled = sum(1 for failure in failures if failure.source.batch_index < first_failed)
    result.invalid = settled
    result.transient += len(failures) - settled
    result.retries = report.retries
    for position, outcome in report.outcomes.items():
        if valid[position].source.batch_index >= first_failed:
            result.transient += 1
        elif outcome is Outcome.WRITTEN:
            result.written += 1
        elif outcome is Outcome.DUPLICATE:
            result.duplicates += 1
        elif outcome is Outcome.STALE:
            result.stale += 1


def batch_age_ms(result: BatchResult, now: float | None = None) -> float:
    if result.oldest_arrival is None:
        return 0.0
    return max(0.0, ((now if now is not None else time.time()) - result.oldest_arrival) * 1000)
