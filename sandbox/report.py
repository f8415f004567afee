"""The sandbox's closing account, read back from the emulator's state, not from the engines' counters.

Every produced record must be accounted for by what the emulator holds:

- a valid record (or a duplicate of one) by its effect in the tenant's table: `events` an item under
  its key, `latest` its entity at the highest version produced, `counters` each key's sums over unique
  events;
- a poison pill by exactly one message about it in the failure queue;
- any record by a batch the event source mapping gave up on (its on-failure destination holds the
  batch's shard and sequence range);
- and every record, valid or not, by a row (or an error record) in the archive.

Keys are computed with the handler's own pure functions from the function's own environment, so the
check knows where each record must land without trusting the handler's counters.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from runtime.config import HandlerConfig
from runtime.exceptions import PermanentRecordError
from runtime.records import decode_user_record
from runtime.types import RecordSource
from sandbox.runner import Sandbox, TenantRun
from sandbox.specs import arn_resource, arn_service

DEDUPE_PREFIX = "dedupe#"


@dataclass
class TenantReport:
    tenant: str
    write_mode: str
    produced: int = 0
    valid: int = 0
    duplicates: int = 0
    invalid: int = 0
    table_items: int = 0
    failure_messages: int = 0
    poison_pills_in_queue: int = 0
    pill_redeliveries: int = 0  # extra copies from batches delivered again after a crash or timeout
    batches_given_up: int = 0
    archived_rows: int = 0
    archive_errors: int = 0
    archive_location: str = ""
    alarms_firing: list[str] = field(default_factory=list)
    unaccounted: list[str] = field(default_factory=list)


@dataclass
class SessionReport:
    tenants: list[TenantReport]
    seconds: float
    query_hint: str = ""

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
            items[(item["pk"]["S"], item["sk"]["S"])] = item
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


def _number(attribute: dict[str, Any] | None) -> Decimal:
    return Decimal(attribute["N"]) if attribute and "N" in attribute else Decimal(0)


class _Expectations:
    """What the table must hold, built record by record from the handler's own key functions."""

    def __init__(self, config: HandlerConfig):
        self.config = config
        self.event_keys: dict[tuple[str, str], int] = {}  # events: key -> producing index
        self.latest: dict[tuple[str, str], tuple[Decimal, int]] = {}  # latest: key -> (max version, index)
        self.sums: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        self.sum_sources: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._counted_events: set[str] = set()
        # Keys a batch the mapping gave up on may have written before it gave up: allowed, not required.
        self.allowed: set[tuple[str, str]] = set()

    def add(self, decoded: Any, index: int) -> None:
        key = (decoded.pk, decoded.sk)
        mode = self.config.write_mode
        if mode == "events":
            self.event_keys.setdefault(key, index)
        elif mode == "latest":
            version = Decimal(str(decoded.parsed[self.config.version_field]))
            if key not in self.latest or version > self.latest[key][0]:
                self.latest[key] = (version, index)
        elif decoded.event_id not in self._counted_events:
            self._counted_events.add(decoded.event_id)
            for name in self.config.counter_fields:
                self.sums[key][name] += Decimal(str(decoded.parsed.get(name, 0) or 0))
            self.sums[key]["events"] += 1
            self.sum_sources[key].append(index)

    def missing(self, items: dict[tuple[str, str], dict[str, Any]]) -> list[tuple[int, str]]:
        """(producing index, what is wrong) for every expected effect the table lacks."""
        problems: list[tuple[int, str]] = []
        for key, index in self.event_keys.items():
            if key not in items:
                problems.append((index, f"no item {key}"))
        for key, (version, index) in self.latest.items():
            stored = items.get(key, {}).get(self.config.version_field)
            if _number(stored) != version:
                problems.append((index, f"{key} holds version {stored} instead of {version}"))
        for key, sums in self.sums.items():
            for name, expected in sums.items():
                stored = _number(items.get(key, {}).get(name))
                if stored != expected:
                    for index in self.sum_sources[key]:
                        problems.append((index, f"{key}.{name} = {stored}, expected {expected}"))
                    break
        expected = set(self.event_keys) | set(self.latest) | set(self.sums) | self.allowed
        for key in items:
            if key not in expected and not key[0].startswith(DEDUPE_PREFIX):
                problems.append((-1, f"item {key} matches no produced record"))
        return problems


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
    expectations = _Expectations(config)
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
            if given_up_record:
                continue  # the destination describes its batch
            payload = base64.b64encode(record.data).decode()
            explained_pills.add((record.sequence_number, payload))
            found = pill_payloads.get((record.sequence_number, payload), 0)
            # Once per delivery: a batch redelivered after a crash reports its pills again (same shard
            # and sequence number, so consumers can tell).
            if found == 0:
                report.unaccounted.append(f"poison pill #{record.index} is not in the failure queue")
            report.pill_redeliveries += max(0, found - 1)
            continue
        if given_up_record:
            expectations.allowed.add((decoded.pk, decoded.sk))
        else:
            expectations.add(decoded, record.index)
    report.unaccounted += [
        f"record #{index}: {problem}" if index >= 0 else problem for index, problem in expectations.missing(items)
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
        prefix = run.tenant.tenant + "-"
        report.alarms_firing = sorted(
            state.name.removeprefix(f"{run.name}-{sandbox.stack}-")
            for state in sandbox.alarm_states
            if state.state == "ALARM" and state.name.startswith(prefix)
        )
        tenants.append(report)
    seconds = time.time() - sandbox.started.timestamp()
    hint = ""
    archived = [t for t in tenants if t.archived_rows]
    if archived:
        path = sandbox.options.work_dir / "archive" / archived[0].tenant / "data"
        hint = (
            'query it: .venv/bin/python -c "import pyarrow.dataset as ds; '
            f"print(ds.dataset('{path}', format='parquet', partitioning='hive').to_table().num_rows)\""
        )
    return SessionReport(tenants=tenants, seconds=seconds, query_hint=hint)


def drain_summary(sandbox: Sandbox) -> dict[str, Any]:
    """What a `drain` did and what the emulator now holds, per tenant (no producer to account against)."""
    clients = sandbox.clients
    rows = []
    for name, run in sorted(sandbox.runs.items()):
        items = scan_table(clients.dynamodb, run.outputs["table_name"])
        bucket = run.outputs.get("archive_bucket")
        archived, _errors = archive_counts(clients.s3, bucket) if bucket else (0, 0)
        attributes = clients.sqs.get_queue_attributes(
            QueueUrl=run.outputs["failure_queue_url"], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        rows.append(
            {
                "tenant": name,
                "processed": run.esm.stats.records_delivered,
                "table_items": sum(1 for pk, _ in items if not pk.startswith(DEDUPE_PREFIX)),
                "failure_messages": int(attributes["ApproximateNumberOfMessages"]),
                "archived_rows": archived,
                "alarms_firing": sorted(
                    s.name.removeprefix(f"{name}-{sandbox.stack}-")
                    for s in sandbox.alarm_states
                    if s.state == "ALARM" and s.name.startswith(f"{name}-")
                ),
            }
        )
    return {"tenants": rows}
