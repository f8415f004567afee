"""The sandbox's accounts: how far each pipeline got while it runs, and the closing account, read back
from the emulator's state, not from the engines' counters.

Every produced record must be accounted for by what the emulator holds:

- a valid record (or a duplicate of one) by its effect in the tenant's table: `events` an item under
  its key, `latest` its entity at the highest version produced, `counters` each key's sums over unique
  events;
- a poison pill by a message about it in the failure queue (one per delivery that settled it);
- any record by a batch the event source mapping gave up on (its on-failure destination holds the
  batch's shard and sequence range). Such a batch may have written some of its records and sent some of
  its poison pills before it was given up: those effects are allowed, not required;
- and every record, valid or not, by a row (or an error record) in the archive.

Keys are computed with the handler's own pure functions from the function's own environment, and what the
table must hold is the write mode's own model (runtime/modes/), so the check knows where each record must land
without trusting the handler's counters. Each alarm in ALARM comes with the reason this session gives it
(alarm_reasons.py: poison pills, injected faults, a backlog), so a red alarm is never left unexplained.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from runtime import settings
from runtime.config import HandlerConfig
from runtime.exceptions import PermanentRecordError
from runtime.modes import DEDUPE_PREFIX, MODES
from runtime.records import decode_user_record
from runtime.types import RecordSource
from sandbox.engines.observe import AlarmState
from sandbox.engines.specs import arn_resource, arn_service
from sandbox.session.alarm_reasons import AlarmContext, explain_alarm
from sandbox.session.runner import Sandbox, TenantRun


@dataclass(frozen=True)
class ProcessingCounts:
    """How far one tenant's pipeline got, from the engines and the handler's own metrics, in the words the
    closing account uses too. Each record the function settles is counted once, by the invocation that settled
    it (a crashed or timed-out one reports nothing), so `processed` is exactly the sum of its parts."""

    produced: int | None  # None while the producers are still putting records
    written: int  # records the function wrote to the table (a resent event is written again in `events` mode)
    skipped: int  # records whose effect the table already held: a counted event, or an older or equal version
    to_failure_queue: int  # poison pills the function sent to the failure queue
    given_up: int  # records of batches the mapping gave up on (its on-failure destination, or dropped)
    iterator_age_seconds: float
    archived: int  # rows Firehose wrote to the archive
    archive_errors: int  # records Firehose could not convert (under the error prefix)

    @property
    def processed(self) -> int:
        return self.written + self.skipped + self.to_failure_queue + self.given_up


def processing_counts(sandbox: Sandbox, run: TenantRun) -> ProcessingCounts:
    """The live counts of one tenant, safe to call while the engines run."""
    mapping = run.esm.stats
    delivery = run.firehose.stats if run.firehose is not None else None
    return ProcessingCounts(
        produced=len(run.manifest.records) if run.manifest is not None else None,
        written=int(sandbox.totals(run.name, settings.RECORDS_WRITTEN)),
        skipped=int(
            sandbox.totals(run.name, settings.DUPLICATES_SKIPPED) + sandbox.totals(run.name, settings.STALE_SKIPPED)
        ),
        to_failure_queue=int(sandbox.totals(run.name, settings.RECORDS_INVALID)),
        given_up=mapping.records_to_destination + mapping.records_dropped,
        iterator_age_seconds=mapping.iterator_age_ms / 1000,
        archived=delivery.rows_archived if delivery else 0,
        archive_errors=delivery.conversion_failures if delivery else 0,
    )


@dataclass
class TenantReport:
    tenant: str
    write_mode: str
    produced: int = 0
    valid: int = 0
    duplicates: int = 0
    invalid: int = 0
    # What the function and the mapping did (ProcessingCounts at the end of the session).
    processed: int = 0
    written: int = 0
    skipped: int = 0
    to_failure_queue: int = 0
    given_up: int = 0
    # What the emulator holds.
    table_items: int = 0
    failure_messages: int = 0
    poison_pills_in_queue: int = 0
    pill_redeliveries: int = 0  # extra copies from batches delivered again after a crash or timeout
    batches_given_up: int = 0
    archived_rows: int = 0
    archive_errors: int = 0
    archive_location: str = ""
    alarms_firing: list[str] = field(default_factory=list)
    alarm_reasons: dict[str, str] = field(default_factory=dict)  # alarm -> why it is red in this session
    unaccounted: list[str] = field(default_factory=list)


@dataclass
class SessionReport:
    tenants: list[TenantReport]
    seconds: float

    @property
    def produced(self) -> int:
        return sum(t.produced for t in self.tenants)

    @property
    def unaccounted(self) -> int:
        return sum(len(t.unaccounted) for t in self.tenants)

    @property
    def events_per_second(self) -> float:
        return self.produced / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenants": [asdict(t) for t in self.tenants],
            "seconds": round(self.seconds, 2),
            "produced": self.produced,
            "events_per_second": round(self.events_per_second, 1),
            "unaccounted": self.unaccounted,
        }


# --------------------------------------------------------------------------------- reading the emulator


def scan_table(dynamodb: Any, table: str) -> dict[tuple[str, str], dict[str, Any]]:
    items: dict[tuple[str, str], dict[str, Any]] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page["Items"]:
            items[(item[settings.PARTITION_KEY_ATTRIBUTE]["S"], item[settings.SORT_KEY_ATTRIBUTE]["S"])] = item
    return items


def read_queue(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message in the queue, left in the queue (visible again) for the user to inspect."""
    messages: dict[str, dict[str, Any]] = {}
    receipts: list[str] = []
    for _ in range(1000):
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
        if not batch:
            break
        for message in batch:
            messages[message["MessageId"]] = json.loads(message["Body"])
            receipts.append(message["ReceiptHandle"])
    for receipt in receipts:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt, VisibilityTimeout=0)
    return list(messages.values())


def read_bucket_failures(s3: Any, bucket: str) -> list[dict[str, Any]]:
    records = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="aws/lambda/"):
        for obj in page.get("Contents", []):
            records.append(json.loads(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()))
    return records


def archive_counts(s3: Any, bucket: str, save_to: Path | None = None) -> tuple[int, int]:
    """(rows in the archive's data objects, records under the error prefix); copies them to `save_to`."""
    import pyarrow.parquet as pq

    rows = errors = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            if save_to is not None:
                local = save_to / obj["Key"]
                local.parent.mkdir(parents=True, exist_ok=True)
                local.write_bytes(body)
            if obj["Key"].startswith("errors/"):
                errors += sum(1 for line in body.splitlines() if line.strip())
            elif obj["Key"].endswith(".parquet"):
                rows += pq.read_metadata(io.BytesIO(body)).num_rows
            elif obj["Key"].startswith("data/"):
                import gzip

                text = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
                rows += sum(1 for line in text.splitlines() if line.strip())
    return rows, errors


# --------------------------------------------------------------------------------- accounting


def _given_up_ranges(destination_records: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    ranges = []
    for record in destination_records:
        info = record.get("KinesisBatchInfo")
        if info:
            ranges.append((info["shardId"], int(info["startSequenceNumber"]), int(info["endSequenceNumber"])))
    return ranges


def _in_ranges(shard: str | None, sequence: str | None, ranges: list[tuple[str, int, int]]) -> bool:
    if shard is None or sequence is None:
        return False
    value = int(sequence)
    return any(shard == s and start <= value <= end for s, start, end in ranges)


_deserializer = TypeDeserializer()


def _as_values(items: dict[tuple[str, str], dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Scanned items with their attributes as Python values (numbers as Decimal), as the modes' models read them."""
    return {
        key: {name: _deserializer.deserialize(value) for name, value in item.items()} for key, item in items.items()
    }


def stream_arrivals(kinesis: Any, stream: str) -> dict[tuple[str, str], float]:
    """(shard, sequence number) -> the stream's arrival timestamp, for keys built on arrival time."""
    arrivals: dict[tuple[str, str], float] = {}
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10000)
            for record in page["Records"]:
                arrivals[(shard["ShardId"], record["SequenceNumber"])] = record[
                    "ApproximateArrivalTimestamp"
                ].timestamp()
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return arrivals


def _source_of(record: Any, run: TenantRun, arrivals: dict[tuple[str, str], float]) -> RecordSource:
    shard, sequence = record.shard_id or "", record.sequence_number or "0"
    return RecordSource(
        batch_index=0,
        shard_id=shard,
        sequence_number=sequence,
        sub_sequence_number=0,
        partition_key=record.partition_key,
        arrival_timestamp=arrivals.get((shard, sequence), time.time()),
        event_source_arn=run.mapping.stream_arn,
    )


def account_tenant(sandbox: Sandbox, run: TenantRun) -> TenantReport:
    clients = sandbox.clients
    config = HandlerConfig.from_env(run.mapping.function.environment)
    report = TenantReport(tenant=run.name, write_mode=config.write_mode)
    manifest = run.manifest
    if manifest is None:
        report.unaccounted.append("nothing was produced")
        return report
    items = scan_table(clients.dynamodb, run.outputs["table_name"])
    queue = read_queue(clients.sqs, run.outputs["failure_queue_url"])
    destination = run.mapping.on_failure_destination or ""
    given_up = [m for m in queue if "KinesisBatchInfo" in m]
    if destination and arn_service(destination) == "s3":
        given_up += read_bucket_failures(clients.s3, arn_resource(destination))
    pills = [m for m in queue if "KinesisBatchInfo" not in m]
    ranges = _given_up_ranges(given_up)
    pill_payloads = defaultdict(int)
    for pill in pills:
        pill_payloads[(pill.get("sequenceNumber"), pill.get("payload"))] += 1

    report.produced = len(manifest.records)
    report.table_items = sum(1 for pk, _ in items if not pk.startswith(DEDUPE_PREFIX))
    report.failure_messages = len(queue)
    report.poison_pills_in_queue = len(pills)
    report.batches_given_up = len(given_up)
    model = MODES[config.write_mode].model(config)
    explained_pills: set[tuple[str | None, str]] = set()
    arrivals = stream_arrivals(clients.kinesis, run.outputs["stream_name"])
    for record in manifest.records:
        report.valid += record.kind == "valid"
        report.duplicates += record.kind == "duplicate"
        given_up_record = _in_ranges(record.shard_id, record.sequence_number, ranges)
        try:
            decoded = decode_user_record(_source_of(record, run, arrivals), record.data, config)
        except PermanentRecordError:
            report.invalid += 1
            payload = base64.b64encode(record.data).decode()
            explained_pills.add((record.sequence_number, payload))
            found = pill_payloads.get((record.sequence_number, payload), 0)
            # Once per delivery: a batch redelivered after a crash reports its pills again (same shard
            # and sequence number, so consumers can tell). A pill in a batch the mapping gave up on is
            # described by the destination's record, and may also be in the queue from an earlier delivery.
            if found == 0 and not given_up_record:
                report.unaccounted.append(f"poison pill #{record.index} is not in the failure queue")
            report.pill_redeliveries += max(0, found - 1)
            continue
        if given_up_record:
            model.allow(decoded, record.index)
        else:
            model.add(decoded, record.index)
    report.unaccounted += [
        f"record #{problem.index}: {problem.text}" if problem.index is not None else problem.text
        for problem in model.problems(_as_values(items))
    ]
    report.unaccounted += [
        f"failure queue message for sequence {sequence} matches no poison pill"
        for sequence, payload in pill_payloads
        if (sequence, payload) not in explained_pills
    ]
    if run.delivery is not None:
        bucket = arn_resource(run.delivery.bucket_arn)
        local = sandbox.options.work_dir / "archive" / run.name
        shutil.rmtree(local, ignore_errors=True)
        report.archived_rows, report.archive_errors = archive_counts(clients.s3, bucket, save_to=local)
        report.archive_location = f"s3://{bucket}/data/ (copied to {local}/data)"
        archived = report.archived_rows + report.archive_errors
        if archived != report.produced:
            report.unaccounted.append(f"the archive holds {archived} records of {report.produced} produced")
    return report


def build_report(sandbox: Sandbox) -> SessionReport:
    tenants = []
    for run in sorted(sandbox.runs.values(), key=lambda r: r.name):
        report = account_tenant(sandbox, run)
        counts = processing_counts(sandbox, run)
        report.processed, report.written, report.skipped = counts.processed, counts.written, counts.skipped
        report.to_failure_queue, report.given_up = counts.to_failure_queue, counts.given_up
        for suffix, state in sorted(firing_alarms(sandbox, run).items()):
            report.alarms_firing.append(suffix)
            report.alarm_reasons[suffix] = explain_alarm(suffix, state, AlarmContext(sandbox, run, report))
        tenants.append(report)
    seconds = time.time() - sandbox.started.timestamp()
    return SessionReport(tenants=tenants, seconds=seconds)


# --------------------------------------------------------------------------------- alarms, explained

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def firing_alarms(sandbox: Sandbox, run: TenantRun) -> dict[str, AlarmState]:
    """The tenant's alarms in ALARM, by the suffix the program names them with (`iterator-age`, ...)."""
    suffixes = {
        resource.inputs.get("name"): resource.name.removeprefix(f"{run.name}-alarm-")
        for resource in run.resources
        if resource.type == ALARM
    }
    return {suffixes[s.name]: s for s in sandbox.alarm_states if s.state == "ALARM" and s.name in suffixes}


def drain_summary(sandbox: Sandbox) -> dict[str, Any]:
    """What a `drain` did and what the emulator now holds, per tenant (no producer to account against), in the
    closing account's words."""
    clients = sandbox.clients
    rows = []
    for name, run in sorted(sandbox.runs.items()):
        counts = processing_counts(sandbox, run)
        items = scan_table(clients.dynamodb, run.outputs["table_name"])
        bucket = run.outputs.get("archive_bucket")
        archived, errors = archive_counts(clients.s3, bucket) if bucket else (0, 0)
        attributes = clients.sqs.get_queue_attributes(
            QueueUrl=run.outputs["failure_queue_url"], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        firing = firing_alarms(sandbox, run)
        rows.append(
            {
                "tenant": name,
                "processed": counts.processed,
                "written": counts.written,
                "skipped": counts.skipped,
                "to_failure_queue": counts.to_failure_queue,
                "given_up": counts.given_up,
                "table_items": sum(1 for pk, _ in items if not pk.startswith(DEDUPE_PREFIX)),
                "failure_messages": int(attributes["ApproximateNumberOfMessages"]),
                "archived_rows": archived,
                "archive_errors": errors,
                "alarms_firing": sorted(firing),
                "alarm_reasons": {suffix: state.reason for suffix, state in sorted(firing.items())},
            }
        )
    return {"tenants": rows}
