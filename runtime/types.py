"""Plain data types passed between the pure record logic, the writers and the entry point."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Kinesis sequence numbers are decimal strings of up to 129 digits (API pattern 0|([1-9]\d{0,128})).
# They are compared as Python ints and stored zero-padded to this width so they sort as strings.
SEQUENCE_DIGITS = 129
# A KPL aggregate holds at most 1 MB, so fewer than 10**7 user records; pad sub-sequences to 7 digits.
SUB_SEQUENCE_DIGITS = 7


@dataclass(frozen=True)
class RecordSource:
    """Where one user record came from: the Kinesis record (by its position in the batch) and, for a
    KPL aggregate, the user record's position inside it."""

    batch_index: int
    shard_id: str
    sequence_number: str
    sub_sequence_number: int
    partition_key: str
    arrival_timestamp: float
    event_source_arn: str
    aggregated: bool = False

    @property
    def sequence_int(self) -> int:
        return int(self.sequence_number)

    @property
    def position_id(self) -> str:
        """``<shardId>:<sequence padded to 129 digits>:<sub-sequence padded to 7 digits>``: unique per
        user record in a stream and lexicographically ordered like the stream."""
        seq = str(self.sequence_int).zfill(SEQUENCE_DIGITS)
        sub = str(self.sub_sequence_number).zfill(SUB_SEQUENCE_DIGITS)
        return f"{self.shard_id}:{seq}:{sub}"


@dataclass(frozen=True)
class DecodedRecord:
    """One valid user record: decoded, validated and keyed, ready for a writer."""

    source: RecordSource
    payload: bytes  # the user record's raw bytes as the producer sent them (maybe compressed)
    parsed: dict[str, Any]  # the JSON object; non-integral numbers are Decimal
    event_id: str  # payload[EVENT_ID_FIELD] if configured, else source.position_id
    event_time: datetime  # UTC; from TIMESTAMP_FIELD, else the arrival timestamp
    pk: str
    sk: str  # final sort key for the write mode
    attributes: dict[str, Any]  # payload fields + metadata, as DynamoDB attribute values
    expires_at: int | None = None  # epoch seconds when TTL_DAYS is set


@dataclass(frozen=True)
class RecordFailure:
    """A record that can never succeed: sent to the tenant's failure queue, not retried."""

    source: RecordSource
    payload: bytes
    reason: str
    detail: str


class Outcome(enum.Enum):
    """What happened to one user record in one invocation."""

    WRITTEN = "written"
    DUPLICATE = "duplicate"  # counters: the dedupe marker already existed
    STALE = "stale"  # latest: the stored version is newer or equal
    INVALID = "invalid"  # permanent failure, sent to the failure queue
    TRANSIENT = "transient"  # not written in this invocation; reported for retry


@dataclass
class WriteReport:
    """What a writer did with a list of records, by position in that list."""

    outcomes: dict[int, Outcome] = field(default_factory=dict)
    rejected: dict[int, str] = field(default_factory=dict)  # position -> detail (write_rejected)
    retries: int = 0


@dataclass
class BatchResult:
    """The outcome of one invocation: the partial batch response plus counts for metrics."""

    batch_item_failures: list[str]
    received: int = 0  # user records after deaggregation
    written: int = 0
    duplicates: int = 0
    stale: int = 0
    invalid: int = 0
    transient: int = 0
    retries: int = 0
    failures_queued: int = 0
    oldest_arrival: float | None = None
    queued: list[RecordFailure] = field(default_factory=list)  # sent to the failure queue

    def response(self) -> dict[str, list[dict[str, str]]]:
        return {"batchItemFailures": [{"itemIdentifier": s} for s in self.batch_item_failures]}
