"""DynamoDB writers, one per write mode. All I/O of the write path lives here.

Each writer takes the valid records of one invocation (in batch order) and returns a WriteReport: an
Outcome per record, the records DynamoDB refused for good (write_rejected) and the number of retries.
Writers never raise for a record; anything not settled in time is Outcome.TRANSIENT.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from runtime import settings
from runtime.config import HandlerConfig
from runtime.exceptions import DeadlineExceededError
from runtime.records import DEDUPE_PREFIX
from runtime.retry import (
    TRANSIENT_CANCELLATIONS,
    Backoff,
    Deadline,
    cancellation_reasons,
    error_code,
    is_retryable,
)
from runtime.types import DecodedRecord, Outcome, WriteReport

BATCH_WRITE_LIMIT = 25  # BatchWriteItem's AWS limit (moto accepts more; we do not send more)
MAX_WORKERS = 4
# botocore makes one attempt per call: its own retries (and their sleeps) would run outside the invocation's
# deadline, which bounds ours (runtime/retry.py). `total_max_attempts` counts the first request too, unlike
# the retries dict's `max_attempts` (https://docs.aws.amazon.com/boto3/latest/guide/retries.html). The socket
# timeouts only free the thread of a call the invocation stopped waiting for; a call that does not answer in
# time is given up at the deadline.
CLIENT_RETRIES = {"total_max_attempts": 1, "mode": "standard"}
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5
MARKER_SORT_KEY = "dedupe"
PK, SK, TTL = settings.PARTITION_KEY_ATTRIBUTE, settings.SORT_KEY_ATTRIBUTE, settings.TTL_ATTRIBUTE
AWS_ERRORS = (ClientError, BotoCoreError, DeadlineExceededError)


class Clients:
    """boto3 clients, created once per container on first use (thread-safe), default endpoint
    resolution so AWS_ENDPOINT_URL reaches an emulator."""

    def __init__(self, factory: Callable[[str], Any] | None = None):
        self._factory = factory or _default_client
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._factory(service)
            return self._clients[service]

    @property
    def dynamodb(self) -> Any:
        return self.get("dynamodb")

    @property
    def sqs(self) -> Any:
        return self.get("sqs")


def _default_client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        retries=CLIENT_RETRIES,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        max_pool_connections=MAX_WORKERS * 2,
    )
    return boto3.session.Session().client(service, config=config)


class Writer:
    """Common plumbing: the table, the retry policy, a retrying call."""

    def __init__(
        self,
        config: HandlerConfig,
        clients: Clients,
        backoff: Backoff | None = None,
        wall_clock: Callable[[], float] = time.time,
        max_workers: int = MAX_WORKERS,
    ):
        self.config = config
        self.clients = clients
        self.table = config.table_name
        self.backoff = backoff or Backoff()
        self.wall_clock = wall_clock
        self.max_workers = max_workers

    def write(self, records: list[DecodedRecord], deadline: Deadline) -> WriteReport:
        raise NotImplementedError

    def item(self, record: DecodedRecord) -> dict[str, Any]:
        item = {PK: {"S": record.pk}, SK: {"S": record.sk}, **record.attributes}
        if record.expires_at is not None:
            item[TTL] = {"N": str(record.expires_at)}
        return item

    def call(self, fn: Callable[[], Any], deadline: Deadline, report: WriteReport) -> Any:
        """Call ``fn`` within the deadline, retrying retryable errors with backoff while time is left;
        re-raise otherwise."""
        attempt = 0
        while True:
            try:
                return deadline.run(fn)
            except AWS_ERRORS as exc:
                if not is_retryable(exc) or not self.backoff.wait(attempt, deadline):
                    raise
                attempt += 1
                report.retries += 1

    def run_groups(
        self, records: list[DecodedRecord], deadline: Deadline, write_one: Callable, link_event_ids: bool = False
    ) -> WriteReport:
        """Each group of ``sequential_groups`` in batch order, one record after the other; groups
        concurrently. After a transient failure the rest of its group is left for redelivery (it
        follows the failed record in the batch, so it is redelivered anyway)."""
        groups = sequential_groups(records, link_event_ids)

        def run(positions: list[int]) -> WriteReport:
            report = WriteReport()
            for i, position in enumerate(positions):
                outcome = write_one(records[position], deadline, report, position)
                report.outcomes[position] = outcome
                if outcome is Outcome.TRANSIENT:
                    report.outcomes.update({p: Outcome.TRANSIENT for p in positions[i + 1 :]})
                    break
            return report

        return merge(self._map(run, groups))

    def _map(self, fn: Callable, items: list) -> Iterable[WriteReport]:
        if len(items) <= 1 or self.max_workers <= 1:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(items))) as pool:
            return list(pool.map(fn, items))


def sequential_groups(records: list[DecodedRecord], link_event_ids: bool) -> list[list[int]]:
    """Positions that must be written one after the other, each group in batch order: the records of one
    (pk, sk) item and, with ``link_event_ids``, the records of one event id (they share a dedupe marker),
    joined transitively. Records of different groups touch different items, so the outcome of every
    record depends on the batch order alone, never on which thread runs first."""
    parent = list(range(len(records)))

    def root(position: int) -> int:
        while parent[position] != position:
            parent[position] = parent[parent[position]]
            position = parent[position]
        return position

    first_with: dict[tuple[str, ...], int] = {}
    for position, record in enumerate(records):
        shared = [("item", record.pk, record.sk)] + ([("event", record.event_id)] if link_event_ids else [])
        for key in shared:
            if key in first_with:
                parent[root(position)] = root(first_with[key])
            else:
                first_with[key] = position
    groups: dict[int, list[int]] = {}
    for position in range(len(records)):
        groups.setdefault(root(position), []).append(position)
    return list(groups.values())


def merge(reports: Iterable[WriteReport]) -> WriteReport:
    total = WriteReport()
    for report in reports:
        total.outcomes.update(report.outcomes)
        total.rejected.update(report.rejected)
        total.retries += report.retries
    return total


class EventsWriter(Writer):
    """Append-only: one item per event, pk = partition template, sk = [sort template + '#'] + event id.
    BatchWriteItem in chunks of at most 25 distinct keys, chunks concurrently. Writing the same
    event again puts the same key, so replays are idempotent."""

    def write(self, records: list[DecodedRecord], deadline: Deadline) -> WriteReport:
        # Dedupe within the batch: BatchWriteItem refuses two requests for one key in a call.
        by_key: dict[tuple[str, str], list[int]] = {}
        for position, record in enumerate(records):
            by_key.setdefault((record.pk, record.sk), []).append(position)
        keys = list(by_key)
        chunks = [keys[i : i + BATCH_WRITE_LIMIT] for i in range(0, len(keys), BATCH_WRITE_LIMIT)]

        def run(chunk: list[tuple[str, str]]) -> WriteReport:
            items = {key: self.item(records[by_key[key][-1]]) for key in chunk}
            key_report = self._write_chunk(items, deadline)
            report = WriteReport(retries=key_report.retries)
            for key, positions in ((k, by_key[k]) for k in chunk):
                for position in positions:
                    report.outcomes[position] = key_report.outcomes[key]
                    if key in key_report.rejected:
                        report.rejected[position] = key_report.rejected[key]
            return report

        return merge(self._map(run, chunks))

    def _write_chunk(self, items: dict[tuple[str, str], dict], deadline: Deadline) -> WriteReport:
        report = WriteReport()
        pending = dict(items)
        attempt = 0
        while pending:
            try:
                requests = [{"PutRequest": {"Item": item}} for item in pending.values()]
                response = deadline.run(
                    lambda requests=requests: self.clients.dynamodb.batch_write_item(
                        RequestItems={self.table: requests}
                    )
                )
            except AWS_ERRORS as exc:
                if error_code(exc) == "ValidationException":
                    return self._write_one_by_one(pending, deadline, report)
                if not is_retryable(exc):
                    break
            else:
                left = response.get("UnprocessedItems", {}).get(self.table, [])
                left_keys = {_key_of(request["PutRequest"]["Item"]) for request in left}
                for key in [k for k in pending if k not in left_keys]:
                    report.outcomes[key] = Outcome.WRITTEN
                    del pending[key]
            if not pending or not self.backoff.wait(attempt, deadline):
                break
            attempt += 1
            report.retries += 1
        report.outcomes.update({key: Outcome.TRANSIENT for key in pending})
        return report

    def _write_one_by_one(self, pending: dict, deadline: Deadline, report: WriteReport) -> WriteReport:
        """A ValidationException names no item: put each one alone to find the one DynamoDB refuses."""
        for key, item in pending.items():
            try:
                self.call(
                    lambda item=item: self.clients.dynamodb.put_item(TableName=self.table, Item=item),
                    deadline,
                    report,
                )
                report.outcomes[key] = Outcome.WRITTEN
            except AWS_ERRORS as exc:
                if error_code(exc) == "ValidationException":
                    report.outcomes[key] = Outcome.INVALID
                    report.rejected[key] = str(exc)
                else:
                    report.outcomes[key] = Outcome.TRANSIENT
        return report


def _key_of(item: dict[str, Any]) -> tuple[str, str]:
    return item[PK]["S"], item[SK]["S"]


class LatestWriter(Writer):
    """Newest state per entity: PutItem if the stored version is lower (or there is none).
    An equal or newer stored version is Outcome.STALE, so redelivery and reordering never regress."""

    def write(self, records: list[DecodedRecord], deadline: Deadline) -> WriteReport:
        path = (self.config.version_field or "").split(".")
        names = {f"#v{i}": name for i, name in enumerate(path)}
        names["#pk"] = PK
        condition = f"attribute_not_exists(#pk) OR {'.'.join(f'#v{i}' for i in range(len(path)))} < :v"

        def write_one(record: DecodedRecord, deadline: Deadline, report: WriteReport, position: int):
            version = _lookup_number(record, path)
            request = {
                "TableName": self.table,
                "Item": self.item(record),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {":v": {"N": version}},
            }
            try:
                self.call(lambda: self.clients.dynamodb.put_item(**request), deadline, report)
            except AWS_ERRORS as exc:
                return settle_failure(exc, report, position, stale=True)
            return Outcome.WRITTEN

        return self.run_groups(records, deadline, write_one)


class CountersWriter(Writer):
    """Aggregates per key with exactly-once effects: one TransactWriteItems per event that puts a
    dedupe marker (pk ``dedupe#<event id>``, sk ``dedupe``, only if absent) and ADDs the counter
    fields and the event count to the counter item. A marker already present cancels the
    transaction: the event was counted before (Outcome.DUPLICATE). Records of one counter item or one
    event id are written in batch order, so an event id on two keys counts on its first occurrence."""

    def write(self, records: list[DecodedRecord], deadline: Deadline) -> WriteReport:
        fields = self.config.counter_fields
        names = {f"#c{i}": name for i, name in enumerate(fields)}
        names["#n"] = settings.EVENTS_COUNTER
        adds = ", ".join([f"#c{i} :c{i}" for i in range(len(fields))] + ["#n :one"])
        update = f"ADD {adds}"
        if self.config.ttl_days:
            names["#exp"] = TTL
            update += " SET #exp = :exp"

        def write_one(record: DecodedRecord, deadline: Deadline, report: WriteReport, position: int):
            values = {f":c{i}": {"N": _lookup_number(record, name.split("."))} for i, name in enumerate(fields)}
            values[":one"] = {"N": "1"}
            if record.expires_at is not None:
                values[":exp"] = {"N": str(record.expires_at)}
            marker = {
                PK: {"S": DEDUPE_PREFIX + record.event_id},
                SK: {"S": MARKER_SORT_KEY},
                TTL: {"N": str(int(self.wall_clock()) + self.config.dedupe_ttl_seconds)},
                "_counter_pk": {"S": record.pk},
                "_counter_sk": {"S": record.sk},
                settings.SEQUENCE_ATTRIBUTE: record.attributes[settings.SEQUENCE_ATTRIBUTE],
            }
            items = [
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": marker,
                        "ConditionExpression": "attribute_not_exists(#pk)",
                        "ExpressionAttributeNames": {"#pk": PK},
                    }
                },
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": {PK: {"S": record.pk}, SK: {"S": record.sk}},
                        "UpdateExpression": update,
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": values,
                    }
                },
            ]
            try:
                self.call(lambda: self.clients.dynamodb.transact_write_items(TransactItems=items), deadline, report)
            except AWS_ERRORS as exc:
                return settle_failure(exc, report, position, stale=False)
            return Outcome.WRITTEN

        # An event id seen on two keys in one batch counts on its first occurrence in batch order.
        return self.run_groups(records, deadline, write_one, link_event_ids=True)


def settle_failure(exc: BaseException, report: WriteReport, position: int, stale: bool) -> Outcome:
    """Classify a single-item write's final error (after retries)."""
    code = error_code(exc)
    if code == "ConditionalCheckFailedException":
        return Outcome.STALE if stale else Outcome.DUPLICATE
    if code == "TransactionCanceledException":
        reasons = cancellation_reasons(exc)
        if reasons and reasons[0] == "ConditionalCheckFailed":
            return Outcome.DUPLICATE
        if "ValidationError" in reasons and not TRANSIENT_CANCELLATIONS.intersection(reasons):
            report.rejected[position] = str(exc)
            return Outcome.INVALID
        return Outcome.TRANSIENT
    if code == "ValidationException":
        report.rejected[position] = str(exc)
        return Outcome.INVALID
    return Outcome.TRANSIENT


def _lookup_number(record: DecodedRecord, path: list[str]) -> str:
    """A counter field's value as a DynamoDB number; an absent field adds 0."""
    value: Any = record.parsed
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    if value is None:
        return "0"
    return format(value, "f") if not isinstance(value, int) else str(value)


WRITERS: dict[str, type[Writer]] = {
    "events": EventsWriter,
    "latest": LatestWriter,
    "counters": CountersWriter,
}


def make_writer(config: HandlerConfig, clients: Clients, **options: Any) -> Writer:
    return WRITERS[config.write_mode](config, clients, **options)
