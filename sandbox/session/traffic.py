"""Producers: records put to a Kinesis stream within PutRecords' limits, with what landed where.

    manifest = put_records(kinesis_client, "orders", records, rate=200)
    manifest = produce(kinesis_client, "orders", schema, TrafficOptions(events=1000), hints)

`put_records` respects PutRecords' limits (`kinesis_limits.py`: 500 records and 5 MiB per call, 1 MiB per
record, partition keys of 1..256 characters) and retries the entries a call reports as failed. The records
come from `synthetic.generate`, or from a file (`partition_key_for` keys each line by its entity).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from components.config import TenantFile
from sandbox.session.kinesis_limits import (
    KINESIS_QUOTAS_PAGE,
    MAX_BYTES_PER_CALL,
    MAX_BYTES_PER_RECORD,
    MAX_PARTITION_KEY_LENGTH,
    MAX_RECORDS_PER_CALL,
)
from sandbox.session.synthetic import KINDS, FieldHints, ProducedRecord, TrafficOptions, entity_fields, generate

MAX_PUT_ATTEMPTS = 8


@dataclass
class Manifest:
    """Everything produced, in order, with where each record landed."""

    records: list[ProducedRecord]
    stream_name: str | None = None
    put_calls: int = 0
    retried_entries: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.counts = {kind: sum(r.kind == kind for r in self.records) for kind in KINDS}

    def of_kind(self, kind: str) -> list[ProducedRecord]:
        return [record for record in self.records if record.kind == kind]


class PutError(RuntimeError):
    """Raised by `put_records` when the stream keeps refusing some records after every retry."""


def record_limit_problem(record: ProducedRecord) -> str | None:
    """Why Kinesis would refuse `record` whatever the retries (its size or its partition key), or None."""
    if not 1 <= len(record.partition_key) <= MAX_PARTITION_KEY_LENGTH:
        return (
            f"partition key of {len(record.partition_key)} characters; Kinesis takes 1 to 256 ({KINESIS_QUOTAS_PAGE})"
        )
    size = len(record.data) + len(record.partition_key.encode())
    if size > MAX_BYTES_PER_RECORD:
        return (
            f"{size:,} bytes with its partition key, over Kinesis's record limit of 1 MiB ({MAX_BYTES_PER_RECORD:,} "
            f"bytes, {KINESIS_QUOTAS_PAGE}); split the event or store its bulk elsewhere and send a reference"
        )
    return None


def _check_limits(record: ProducedRecord) -> None:
    problem = record_limit_problem(record)
    if problem:
        raise ValueError(f"record {record.index}: {problem}")


def chunks(records: list[ProducedRecord], max_records: int = MAX_RECORDS_PER_CALL) -> list[list[ProducedRecord]]:
    """Split into PutRecords calls of at most `max_records` records and 5 MiB."""
    calls: list[list[ProducedRecord]] = []
    current: list[ProducedRecord] = []
    size = 0
    for record in records:
        _check_limits(record)
        record_size = len(record.data) + len(record.partition_key.encode())
        if current and (len(current) >= max_records or size + record_size > MAX_BYTES_PER_CALL):
            calls.append(current)
            current, size = [], 0
        current.append(record)
        size += record_size
    if current:
        calls.append(current)
    return calls


def _put_call(kinesis: Any, stream: str, batch: list[ProducedRecord], manifest: Manifest) -> None:
    pending = batch
    for attempt in range(MAX_PUT_ATTEMPTS):
        response = kinesis.put_records(
            StreamName=stream,
            Records=[{"Data": record.data, "PartitionKey": record.partition_key} for record in pending],
        )
        manifest.put_calls += 1
        failed = []
        for record, entry in zip(pending, response["Records"], strict=True):
            if entry.get("ErrorCode"):
                failed.append(record)
            else:
                record.shard_id, record.sequence_number = entry["ShardId"], entry["SequenceNumber"]
        if not failed:
            return
        manifest.retried_entries += len(failed)
        pending = failed
        time.sleep(min(0.05 * 2**attempt, 2.0))
    raise PutError(f"{len(pending)} records still failing after {MAX_PUT_ATTEMPTS} PutRecords attempts")


def put_records(kinesis: Any, stream: str, records: list[ProducedRecord], rate: float = 0.0) -> Manifest:
    """Put `records` in order at up to `rate` records per second (0 = as fast as possible)."""
    manifest = Manifest(records, stream_name=stream)
    per_call = MAX_RECORDS_PER_CALL if rate <= 0 else max(1, min(MAX_RECORDS_PER_CALL, int(rate / 10)))
    started = time.monotonic()
    sent = 0
    for batch in chunks(records, per_call):
        if rate > 0:
            time.sleep(max(0.0, started + sent / rate - time.monotonic()))
        _put_call(kinesis, stream, batch, manifest)
        sent += len(batch)
    return manifest


def produce(
    kinesis: Any,
    stream: str,
    schema: dict[str, Any],
    options: TrafficOptions,
    hints: FieldHints | None = None,
) -> Manifest:
    """Generate and put: the producers of a demo."""
    return put_records(kinesis, stream, generate(schema, options, hints), options.rate)


def partition_key_for(tenant: TenantFile, line: bytes, index: int) -> str:
    """The Kinesis partition key for a given payload: its entity (the partition-key template's fields),
    so one entity's records stay in order; a line that is not a JSON object gets its own key."""
    try:
        payload = json.loads(line)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        return f"line-{index}"
    values = []
    for name in entity_fields(tenant.records.partition_key):
        value: object = payload
        for part in name.split("."):
            value = value.get(part, "") if isinstance(value, dict) else ""
        values.append(str(value))
    return "#".join(values)[:MAX_PARTITION_KEY_LENGTH] or f"line-{index}"
