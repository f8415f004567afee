"""What every write mode's writer shares: the AWS clients, the retrying call, the order records of one item
are written in, and how a single-item write's final error settles its record.

A writer takes the valid records of one invocation (in batch order) and returns a WriteReport: an Outcome per
record, the records DynamoDB refused for good (write_rejected) and the number of retries. Writers never raise
for a record; anything not settled in time is Outcome.TRANSIENT. botocore is loaded by the first call or error,
not by importing this module (runtime/retry.py).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from runtime import settings
from runtime.retry import (
    TRANSIENT_CANCELLATIONS,
    Backoff,
    Deadline,
    call_errors,
    cancellation_reasons,
    error_code,
    is_retryable,
)
from runtime.types import DecodedRecord, Outcome, WriteReport

if TYPE_CHECKING:
    from runtime.config import HandlerConfig

# The most AWS calls one invocation keeps in flight. A write takes about one round trip whatever its size, so the
# network floor of n records is ceil(n / 25) BatchWriteItem calls / concurrency x round trip: more calls in flight
# bring the handler nearer to it. 16 because: the tenants' batches of 500 records are 20 calls, so two rounds; each
# call in flight holds two threads (the worker and its deadline's, runtime/retry.py) and a pooled connection; and
# building, signing and reading a call takes the handler's one interpreter about a millisecond, so 16 calls keep it
# busy for longer than a round trip within a Region: more threads would wait for the interpreter, not the network.
MAX_CONCURRENT_CALLS = 16
# botocore makes one attempt per call: its own retries (and their sleeps) would run outside the invocation's
# deadline, which bounds ours (runtime/retry.py). `total_max_attempts` counts the first request too, unlike
# the retries dict's `max_attempts` (https://docs.aws.amazon.com/boto3/latest/guide/retries.html). The socket
# timeouts only free the thread of a call the invocation stopped waiting for; a call that does not answer in
# time is given up at the deadline.
CLIENT_RETRIES = {"total_max_attempts": 1, "mode": "standard"}
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5
# A call given up at the deadline keeps its connection until its socket times out, while the calls after it open
# theirs: room for both, so no connection is opened only to be discarded by a full pool.
POOL_CONNECTIONS = MAX_CONCURRENT_CALLS * 2
# botocore checks every request against the service model before sending it (parameter_validation, on by default:
# https://docs.aws.amazon.com/botocore/latest/reference/config.html). The handler builds every request itself, and
# DynamoDB checks them again: a malformed item comes back as a ValidationException, which the writers settle
# (write_rejected). The check walked every attribute of every item, about half the handler's CPU per record.
PARAMETER_VALIDATION = False
PK, SK, TTL = settings.PARTITION_KEY_ATTRIBUTE, settings.SORT_KEY_ATTRIBUTE, settings.TTL_ATTRIBUTE


class AwsClients:
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

    from runtime.request_bodies import write_batch_bodies_directly

    config = Config(
        retries=CLIENT_RETRIES,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        max_pool_connections=POOL_CONNECTIONS,
        parameter_validation=PARAMETER_VALIDATION,
    )
    client = boto3.session.Session().client(service, config=config)
    if service == "dynamodb":
        write_batch_bodies_directly(client)
    return client


class Writer:
    """Common plumbing: the table, the retry policy, a retrying call. Each mode's writer implements ``write``."""

    def __init__(
        self,
        config: HandlerConfig,
        clients: AwsClients,
        backoff: Backoff | None = None,
        wall_clock: Callable[[], float] = time.time,
        max_workers: int = MAX_CONCURRENT_CALLS,
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
            except call_errors() as exc:
                if not is_retryable(exc) or not self.backoff.wait(attempt, deadline):
                    raise
                attempt += 1
                report.retries += 1

    def settle(
        self, fn: Callable[[], Any], deadline: Deadline, report: WriteReport, position: Any, stale: bool
    ) -> Outcome:
        """Make one single-item write with ``call``: WRITTEN, or what its final error means (``settle_failure``)."""
        try:
            self.call(fn, deadline, report)
        except call_errors() as exc:
            return settle_failure(exc, report, position, stale)
        return Outcome.WRITTEN

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

        return merge(self.concurrently(run, groups))

    def concurrently(self, fn: Callable, items: list) -> Iterable[WriteReport]:
        """``fn`` over ``items`` (one call or group of calls each), on ``concurrency(len(items))`` threads."""
        workers = concurrency(len(items), self.max_workers)
        if workers <= 1:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(fn, items))


def concurrency(calls: int, limit: int = MAX_CONCURRENT_CALLS) -> int:
    """The fewest threads that make ``calls`` calls in as few rounds as ``limit`` threads would: 20 calls under a
    limit of 16 take two rounds either way, so 10 threads, not 16. The time left does not change the choice: no
    number of threads finishes sooner than this one, and every call is bounded by the deadline anyway."""
    if calls <= 1 or limit <= 1:
        return 1
    rounds = math.ceil(calls / limit)
    return math.ceil(calls / rounds)


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


def settle_failure(exc: BaseException, report: WriteReport, position: Any, stale: bool) -> Outcome:
    """Classify a single-item write's final error (after retries). ``stale``: a failed condition means a newer
    version is stored (latest), not that the event was counted before (counters)."""
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


def number_value(record: DecodedRecord, path: list[str]) -> str:
    """A payload field's value as a DynamoDB number (the version, a counter field); an absent field is 0."""
    value: Any = record.parsed
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    if value is None:
        return "0"
    return format(value, "f") if not isinstance(value, int) else str(value)
