"""`tributary redrive`: replay the batches the event source mapping gave up on, through the tenant's own function.

For each range the on-failure destination records (ops/failure_records.py), in stream order:

1. read its records again from the stream (ops/stream_range.py), counting those past retention;
2. invoke the function with the event Lambda would send (sandbox/engines/lambda_records.py: `kinesis_event`), in
   chunks of at most the mapping's batch size and Invoke's 6 MB payload. A partial batch response is read as the
   mapping reads it: the records before the first reported failure are done, and the invocation is retried from
   that record, at most REPLAY_ATTEMPTS times in all; a function error retries the whole chunk;
3. delete the failure record once every record still on the stream was replayed and none is past retention
   (or, with `drop_expired`, whatever is past retention); otherwise keep it for the next redrive.

A replay is harmless by construction: every write mode gives exactly-once effects on at-least-once delivery
(runtime/modes/), so a range replayed twice, or records the function had already written before it gave up,
change nothing. `dry_run` reads and counts, invokes nothing and deletes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ops.failure_records import BatchRange, FailureRecord, FailureSource
from ops.stream_range import RangeRead, read_range
from sandbox.engines.event_source import MAX_PAYLOAD_BYTES, Invoker
from sandbox.engines.lambda_records import first_failed_index, kinesis_event
from sandbox.engines.shard_reader import StreamRecord
from sandbox.engines.workers import InvocationResult

REPLAY_ATTEMPTS = 3  # invocations of one chunk before its remaining records count as failed
RETRY_BACKOFF_SECONDS = (1.0, 2.0)  # before the second and third attempts
INVOKE_OVERHEAD_SECONDS = 30  # an invocation's time beyond the function's own: a cold start, the network, a backoff
# The JSON around the records' entries: {"Records": [...]} and the ", " between entries.
EVENT_ENVELOPE_BYTES = len(json.dumps({"Records": []}))
ENTRY_SEPARATOR_BYTES = len(", ")


@dataclass(frozen=True)
class ReplaySettings:
    """What the event and the chunks take from the deployed mapping and function."""

    stream_arn: str
    stream_name: str
    region: str
    batch_size: int  # the mapping's BatchSize: no invocation carries more
    identity_arn: str  # the function's role: the event's invokeIdentityArn, as the mapping sends it
    timeout_seconds: int  # the function's timeout: how long a replayed range keeps its record hidden


@dataclass
class BatchOutcome:
    """What redrive did with one range (and every failure record that describes it)."""

    range: BatchRange
    records: list[FailureRecord]
    reread: int = 0
    replayed: int = 0
    failed: int = 0
    past_retention: int = 0
    why_gone: str | None = None
    failure: str | None = None  # the first failed record and why
    deleted: int = 0
    kept: int = 0
    not_deleted: int = 0  # deletes the destination refused

    def line(self, kind: str, dry_run: bool) -> str:
        counts = f"{self.reread} re-read"
        counts += "" if dry_run else f", {self.replayed} replayed, {self.failed} failed"
        counts += f", {self.past_retention} past retention"
        if self.why_gone:
            counts += f" ({self.why_gone})"
        return f"{self.range.describe()}: {counts}; {self._action(kind, dry_run)}"

    def _action(self, kind: str, dry_run: bool) -> str:
        many = len(self.records)
        if dry_run:
            return f"dry run, {_count(many, kind)} left"
        if self.failure:
            return f"{_count(self.kept, kind)} kept: {self.failure}"
        if self.not_deleted:
            return f"{_count(self.not_deleted, kind)} not deleted (the next redrive replays the range again)"
        if self.kept:
            return f"{_count(self.kept, kind)} kept: records past retention (--drop-expired deletes it)"
        return f"{_count(self.deleted, kind)} deleted"


@dataclass
class RedriveSummary:
    """Every range's outcome, and what else the destination held."""

    kind: str  # "message" or "object"
    where: str
    dry_run: bool
    outcomes: list[BatchOutcome] = field(default_factory=list)
    others: int = 0  # poison pills and anything that is no batch record, left in place

    @property
    def failed(self) -> int:
        return sum(outcome.failed for outcome in self.outcomes)

    def line(self) -> str:
        batches = _count(len(self.outcomes), "batch")
        past = sum(outcome.past_retention for outcome in self.outcomes)
        if self.dry_run:
            reread = sum(outcome.reread for outcome in self.outcomes)
            return f"dry run: {batches}, {reread} records to replay, {past} past retention; nothing invoked or deleted"
        replayed = sum(outcome.replayed for outcome in self.outcomes)
        deleted = sum(outcome.deleted for outcome in self.outcomes)
        return (
            f"{batches}, {replayed} records replayed, {self.failed} failed, {past} past retention; "
            f"{_count(deleted, self.kind)} deleted"
        )


def _count(number: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("ch") else "s")
    return f"{number} {noun if number == 1 else plural}"


# --------------------------------------------------------------------------------- the run


def redrive(
    source: FailureSource,
    kinesis: Any,
    settings: ReplaySettings,
    invoker: Invoker,
    *,
    dry_run: bool = False,
    drop_expired: bool = False,
    on_outcome: Callable[[BatchOutcome], None] = lambda outcome: None,
    sleep: Callable[[float], None] = time.sleep,
) -> RedriveSummary:
    """Replay every range `source` records for `settings`' stream; `on_outcome` hears of each as it is settled."""
    found = source.read()
    summary = RedriveSummary(kind=source.kind, where=source.where, dry_run=dry_run, others=found.others)
    strangers = [record for record in found.records if record.range.stream_arn != settings.stream_arn]
    summary.others += len(strangers)
    source.keep(strangers)
    for batch, records in _by_range(r for r in found.records if r.range.stream_arn == settings.stream_arn):
        outcome = BatchOutcome(batch, records)
        read = read_range(kinesis, settings.stream_name, batch)
        outcome.reread, outcome.past_retention, outcome.why_gone = len(read.records), read.past_retention, read.why_gone
        if dry_run:
            source.keep(records)
        else:
            _replay_and_settle(source, outcome, read, settings, invoker, drop_expired, sleep)
        summary.outcomes.append(outcome)
        on_outcome(outcome)
    return summary


def _by_range(records: Iterator[FailureRecord]) -> list[tuple[BatchRange, list[FailureRecord]]]:
    """Records grouped by range (a destination may hold one twice), in stream order."""
    groups: dict[tuple[str, int, int], list[FailureRecord]] = {}
    for record in records:
        groups.setdefault((record.range.shard_id, record.range.start, record.range.end), []).append(record)
    ranges = [(max((r.range for r in group), key=lambda r: r.batch_size), group) for group in groups.values()]
    return sorted(ranges, key=lambda pair: pair[0])


def _replay_and_settle(
    source: FailureSource,
    outcome: BatchOutcome,
    read: RangeRead,
    settings: ReplaySettings,
    invoker: Invoker,
    drop_expired: bool,
    sleep: Callable[[float], None],
) -> None:
    records = outcome.records
    chunks = list(chunked(read.records, settings))
    # Hidden from other readers while its chunks run: every attempt may take the function's whole timeout.
    source.hide(records, len(chunks) * REPLAY_ATTEMPTS * (settings.timeout_seconds + INVOKE_OVERHEAD_SECONDS))
    for chunk in chunks:
        replayed, failure = replay_chunk(chunk, settings, invoker, sleep)
        outcome.replayed += replayed
        if failure is not None:
            outcome.failed = len(read.records) - outcome.replayed
            outcome.failure = failure
            break
    done = outcome.failure is None and (outcome.past_retention == 0 or drop_expired)
    if done:
        outcome.not_deleted = source.delete(records)
        outcome.deleted = len(records) - outcome.not_deleted
    else:
        outcome.kept = len(records)
        source.keep(records)


def chunked(records: list[StreamRecord], settings: ReplaySettings) -> Iterator[list[StreamRecord]]:
    """Consecutive chunks of at most the mapping's batch size whose event fits Invoke's payload limit."""
    chunk: list[StreamRecord] = []
    size = EVENT_ENVELOPE_BYTES
    for record in records:
        entry = len(json.dumps(_event([record], settings)["Records"][0])) + ENTRY_SEPARATOR_BYTES
        if chunk and (len(chunk) >= settings.batch_size or size + entry > MAX_PAYLOAD_BYTES):
            yield chunk
            chunk, size = [], EVENT_ENVELOPE_BYTES
        chunk.append(record)
        size += entry
    if chunk:
        yield chunk


def replay_chunk(
    chunk: list[StreamRecord], settings: ReplaySettings, invoker: Invoker, sleep: Callable[[float], None]
) -> tuple[int, str | None]:
    """Invoke the function with `chunk` until every record succeeds or REPLAY_ATTEMPTS are used; (records that
    succeeded, None) or (records that succeeded before the first that did not, why it did not)."""
    done = 0
    pending = chunk
    for attempt in range(REPLAY_ATTEMPTS):
        if attempt:
            sleep(RETRY_BACKOFF_SECONDS[min(attempt - 1, len(RETRY_BACKOFF_SECONDS) - 1)])
        result = invoker.invoke(_event(pending, settings))
        failed_at, why = _first_failure(result, pending)
        if failed_at is None:
            return done + len(pending), None
        done += failed_at
        pending = pending[failed_at:]
    first = pending[0]
    return done, f"sequence number {first.sequence_number} failed {REPLAY_ATTEMPTS} invocations ({why})"


def _first_failure(result: InvocationResult, records: list[StreamRecord]) -> tuple[int | None, str]:
    """The index of the first record the invocation did not process, and why; (None, "") when all were."""
    if not result.ok:
        return 0, f"{result.error_type}: {result.error_message}"
    try:
        index = first_failed_index(result.payload, records)
    except ValueError as error:  # Lambda fails the whole batch on a malformed partial batch response
        return 0, f"malformed batch response: {error}"
    return index, "" if index is None else "reported in batchItemFailures"


def _event(records: list[StreamRecord], settings: ReplaySettings) -> dict:
    return kinesis_event(records, settings.stream_arn, settings.region, settings.identity_arn)
