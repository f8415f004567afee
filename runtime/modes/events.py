"""`events`: append-only, one item per event.

pk = partition template; sk = [sort template + '#'] + event id. Writing the same event again puts the same key
with the same payload, so replays change nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from runtime import settings
from runtime.modes.base import PK, SK, Writer, merge
from runtime.modes.declaration import KeyLayout, WriteMode, any_payload
from runtime.modes.model import Items, Key, Problem, TableModel, key_of, payload_of
from runtime.retry import Deadline, call_errors, error_code, is_retryable
from runtime.types import DecodedRecord, Outcome, WriteReport

if TYPE_CHECKING:
    from runtime.config import HandlerConfig

BATCH_WRITE_LIMIT = 25  # BatchWriteItem's AWS limit (moto accepts more; we do not send more)


class EventsWriter(Writer):
    """BatchWriteItem in chunks of at most 25 distinct keys, chunks concurrently; UnprocessedItems retried."""

    def write(self, records: list[DecodedRecord], deadline: Deadline) -> WriteReport:
        # Dedupe within the batch: BatchWriteItem refuses two requests for one key in a call.
        by_key: dict[Key, list[int]] = {}
        for position, record in enumerate(records):
            by_key.setdefault(key_of(record), []).append(position)
        keys = list(by_key)
        chunks = [keys[i : i + BATCH_WRITE_LIMIT] for i in range(0, len(keys), BATCH_WRITE_LIMIT)]

        def run(chunk: list[Key]) -> WriteReport:
            items = {key: self.item(records[by_key[key][-1]]) for key in chunk}
            key_report = self._write_chunk(items, deadline)
            report = WriteReport(retries=key_report.retries)
            for key, positions in ((k, by_key[k]) for k in chunk):
                for position in positions:
                    report.outcomes[position] = key_report.outcomes[key]
                    if key in key_report.rejected:
                        report.rejected[position] = key_report.rejected[key]
            return report

        return merge(self.concurrently(run, chunks))

    def _write_chunk(self, items: dict[Key, dict], deadline: Deadline) -> WriteReport:
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
            except call_errors() as exc:
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
            except call_errors() as exc:
                if error_code(exc) == "ValidationException":
                    report.outcomes[key] = Outcome.INVALID
                    report.rejected[key] = str(exc)
                else:
                    report.outcomes[key] = Outcome.TRANSIENT
        return report


def _key_of(item: dict[str, Any]) -> Key:
    return item[PK]["S"], item[SK]["S"]


class EventsModel(TableModel):
    """An item under every record's key, holding the payload of a record produced with that key."""

    def __init__(self, config: HandlerConfig):
        super().__init__(config)
        self.required: dict[Key, int] = {}  # key -> the first record that must have made it
        self.payloads: dict[Key, list[dict[str, Any]]] = defaultdict(list)  # every payload added or allowed

    def add(self, record: DecodedRecord, index: int) -> None:
        self.required.setdefault(key_of(record), index)
        self.payloads[key_of(record)].append(record.parsed)

    def allow(self, record: DecodedRecord, index: int) -> None:
        self.payloads[key_of(record)].append(record.parsed)

    def expected_keys(self) -> Iterable[Key]:
        return self.payloads

    def mode_problems(self, items: Items) -> list[Problem]:
        problems = [Problem(index, f"no item {key}") for key, index in self.required.items() if key not in items]
        for key, item in items.items():
            if key in self.payloads and payload_of(item) not in self.payloads[key]:
                problems.append(Problem(self.required.get(key), f"{key} holds a payload no record of its key has"))
        return problems


MODE = WriteMode(
    name="events",
    summary="append-only: one item per event, so a replay puts the same item again",
    required_settings=(),
    keys=KeyLayout(one_item_per_event=True),
    check_payload=any_payload,
    reserved_attributes=settings.RESERVED_ATTRIBUTES,
    dedupe_markers=False,
    # PutItem only to find the item a BatchWriteItem's ValidationException hides (_write_one_by_one).
    table_actions=("dynamodb:BatchWriteItem", "dynamodb:PutItem"),
    writer=EventsWriter,
    model=EventsModel,
)
