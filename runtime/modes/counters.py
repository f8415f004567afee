"""`counters`: aggregates per key, each event counted once.

pk = partition template; sk = sort template or `total`. A transaction puts the dedupe markers of a key's events (each
only if absent) and adds their counter fields and their count to the counter item; a marker already present cancels
the transaction, so a redelivered or replayed event never counts twice. Markers expire (TTL).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, localcontext
from typing import TYPE_CHECKING, Any

from runtime import settings
from runtime.exceptions import KeyFieldMissingError
from runtime.modes.base import PK, SK, TTL, Writer, merge, number_value, sequential_groups
from runtime.modes.counters_batching import Unit, plan
from runtime.modes.declaration import (
    DEDUPE_PREFIX,
    MARKER_SORT_KEY,
    KeyLayout,
    RequiredSetting,
    WriteMode,
    require_number,
)
from runtime.modes.model import Items, Key, Problem, TableModel, key_of, number_at
from runtime.retry import Deadline, call_errors, cancellation_reasons, error_code
from runtime.templates import lookup
from runtime.types import DecodedRecord, Outcome, WriteReport

if TYPE_CHECKING:
    from runtime.config import HandlerConfig

# Sums of counter fields are exact: an addition's digits are never rounded away.
EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
# Where a marker says its event was counted, next to the stream position of the record that counted it.
MARKER_COUNTER_PK = "_counter_pk"
MARKER_COUNTER_SK = "_counter_sk"


def marker_key(event_id: str) -> Key:
    return DEDUPE_PREFIX + event_id, MARKER_SORT_KEY


class CountersWriter(Writer):
    """Transactions of dedupe markers (pk ``dedupe#<event id>``, sk ``dedupe``, each put only if absent) and, per
    counter item, one ADD of its events' summed fields and count (runtime/modes/counters_batching.py plans which).
    A marker already present (a replay) or a value DynamoDB refuses cancels the transaction: its items' events
    are then settled one transaction each, a present marker making its event Outcome.DUPLICATE. Records of one
    event id on two keys are settled one by one in batch order, so the event counts on its first occurrence.
    Transactions of different keys run concurrently."""

    def write(self, records: list[DecodedRecord], deadline: Deadline) -> WriteReport:
        fields = self.config.counter_fields
        names = {f"#c{i}": name for i, name in enumerate(fields)}
        names["#n"] = settings.EVENTS_COUNTER
        update = "ADD " + ", ".join([f"#c{i} :c{i}" for i in range(len(fields))] + ["#n :n"])
        if self.config.ttl_days:
            names["#exp"] = TTL
            update += " SET #exp = :exp"

        def marker(record: DecodedRecord) -> dict[str, Any]:
            marker_pk, marker_sk = marker_key(record.event_id)
            item = {
                PK: {"S": marker_pk},
                SK: {"S": marker_sk},
                TTL: {"N": str(int(self.wall_clock()) + self.config.dedupe_ttl_seconds)},
                MARKER_COUNTER_PK: {"S": record.pk},
                MARKER_COUNTER_SK: {"S": record.sk},
                settings.SEQUENCE_ATTRIBUTE: record.attributes[settings.SEQUENCE_ATTRIBUTE],
            }
            condition = {"ConditionExpression": "attribute_not_exists(#pk)", "ExpressionAttributeNames": {"#pk": PK}}
            return {"Put": {"TableName": self.table, "Item": item, **condition}}

        def actions(positions: list[int]) -> list[dict[str, Any]]:
            """The markers of ``positions`` (events of one counter item) and the ADD of their sums."""
            counted = [records[p] for p in positions]
            values = {f":c{i}": {"N": summed(counted, name.split("."))} for i, name in enumerate(fields)}
            values[":n"] = {"N": str(len(counted))}
            if counted[-1].expires_at is not None:  # the latest counted event's, as if counted one by one
                values[":exp"] = {"N": str(counted[-1].expires_at)}
            adds = {
                "TableName": self.table,
                "Key": {PK: {"S": counted[0].pk}, SK: {"S": counted[0].sk}},
                "UpdateExpression": update,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
            return [*map(marker, counted), {"Update": adds}]

        def transaction(keys: list[list[int]]) -> Callable[[], Any]:
            items = [action for positions in keys for action in actions(positions)]
            return lambda: self.clients.dynamodb.transact_write_items(TransactItems=items)

        def one_by_one(positions: list[int], report: WriteReport) -> None:
            """Each record in batch order, one transaction each; after a transient failure the rest is left for
            redelivery (it follows the failed record in the batch)."""
            for i, position in enumerate(positions):
                outcome = self.settle(transaction([[position]]), deadline, report, position, stale=False)
                report.outcomes[position] = outcome
                if outcome is Outcome.TRANSIENT:
                    report.outcomes.update(dict.fromkeys(positions[i + 1 :], Outcome.TRANSIENT))
                    return

        def run(unit: Unit) -> WriteReport:
            report = WriteReport()
            one_by_one(unit.one_by_one, report)
            for parts in unit.steps:
                try:
                    self.call(transaction([part.new for part in parts]), deadline, report)
                except call_errors() as exc:
                    for part in parts:
                        unsettled = [p for p in part.rest if p not in report.outcomes]
                        if is_transient(exc):  # redelivered from the part's first record: the item stays in order
                            report.outcomes.update(dict.fromkeys(unsettled, Outcome.TRANSIENT))
                        else:  # a marker present, or an event DynamoDB refuses: find which, one by one
                            one_by_one(unsettled, report)
                    break
                for part in parts:
                    report.outcomes.update(dict.fromkeys(part.new, Outcome.WRITTEN))
                    new = set(part.new)  # a later record of an event just counted: its marker was just put
                    repeats = [p for p in part.rest if p not in report.outcomes and part.first_of[p] in new]
                    report.outcomes.update(dict.fromkeys(repeats, Outcome.DUPLICATE))
            return report

        return merge(self.concurrently(run, plan(records, sequential_groups(records, link_event_ids=True))))


def summed(records: list[DecodedRecord], path: list[str]) -> str:
    """The sum of a counter field over records, exact (DynamoDB refuses a number of more than 38 digits, as it
    would the same sum reached one ADD at a time)."""
    with localcontext(EXACT):
        total = sum((Decimal(number_value(record, path)) for record in records), Decimal(0))
    return format(total, "f")


def is_transient(exc: BaseException) -> bool:
    """Whether a transaction's final error leaves its events for redelivery, rather than naming an event that
    cannot be counted now (a marker present, a value DynamoDB refuses)."""
    code = error_code(exc)
    if code == "TransactionCanceledException":
        reasons = set(cancellation_reasons(exc))
        return not {"ConditionalCheckFailed", "ValidationError"} & reasons
    return code != "ValidationException"


def check_payload(parsed: dict[str, Any], config: HandlerConfig) -> None:
    """Counter fields are numeric where present. A counter field the payload leaves out adds 0 (the schema decides
    which fields are required: a `view` event need not carry `clicks`); one that is present but no number is
    refused."""
    for name in config.counter_fields:
        try:
            value = lookup(parsed, name)
        except KeyFieldMissingError:
            continue
        if value is not None:
            require_number(value, name)


class CountersModel(TableModel):
    """Each key holds, per counter field and for the event count, the sum over the unique events that first
    occur with that key, and each counted event has its marker pointing there. An event of a batch given up on
    counts where its marker says it was counted: the marker and the sums are written in one transaction, so the
    marker is the table's own record of which events it holds."""

    def __init__(self, config: HandlerConfig):
        super().__init__(config)
        self.sums: dict[Key, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        self.sources: dict[Key, list[int]] = defaultdict(list)  # key -> the records counted there
        self.counted: dict[str, tuple[Key, int]] = {}  # event id -> (its counter key, its first record)
        self.allowed_keys: set[Key] = set()
        self.allowed_events: dict[str, tuple[Key, dict[str, Decimal], int]] = {}

    def _contributions(self, record: DecodedRecord) -> dict[str, Decimal]:
        values = {name: number_at(record.parsed, name.split(".")) or Decimal(0) for name in self.config.counter_fields}
        return {**values, settings.EVENTS_COUNTER: Decimal(1)}

    def add(self, record: DecodedRecord, index: int) -> None:
        if record.event_id not in self.counted:
            self._count(record.event_id, key_of(record), self._contributions(record), index)

    def allow(self, record: DecodedRecord, index: int) -> None:
        self.allowed_keys.add(key_of(record))
        self.allowed_events.setdefault(record.event_id, (key_of(record), self._contributions(record), index))

    def _count(self, event_id: str, key: Key, contributions: dict[str, Decimal], index: int) -> None:
        self.counted[event_id] = (key, index)
        for name, value in contributions.items():
            self.sums[key][name] += value
        self.sources[key].append(index)

    def expected_keys(self) -> Iterable[Key]:
        return set(self.sums) | self.allowed_keys

    def mode_problems(self, items: Items) -> list[Problem]:
        for event_id, (key, contributions, index) in self.allowed_events.items():
            if event_id not in self.counted and marker_key(event_id) in items:
                self._count(event_id, key, contributions, index)
        problems: list[Problem] = []
        for key, sums in self.sums.items():
            for name, expected in sums.items():
                stored = number_at(items.get(key, {}), [name]) or Decimal(0)
                if stored != expected:
                    problems += [Problem(i, f"{key}.{name} = {stored}, expected {expected}") for i in self.sources[key]]
                    break
        return problems + self._marker_problems(items)

    def _marker_problems(self, items: Items) -> list[Problem]:
        problems: list[Problem] = []
        for event_id, (key, index) in self.counted.items():
            marker = items.get(marker_key(event_id))
            if marker is None:
                problems.append(Problem(index, f"no dedupe marker for event {event_id!r}"))
            elif (marker.get(MARKER_COUNTER_PK), marker.get(MARKER_COUNTER_SK)) != key:
                problems.append(Problem(index, f"the dedupe marker of event {event_id!r} does not point at {key}"))
        markers = {marker_key(event_id) for event_id in self.counted}
        problems += [
            Problem(None, f"dedupe marker {key} matches no counted event")
            for key in items
            if key[0].startswith(DEDUPE_PREFIX) and key not in markers
        ]
        return problems


MODE = WriteMode(
    name="counters",
    summary="sums per key with a dedupe marker per event, so a replay never counts twice",
    required_settings=(
        RequiredSetting(
            field="counters",
            variable=settings.COUNTER_FIELDS,
            attribute="counter_fields",
            purpose="the numeric fields to sum",
            exclusive=True,
            names_attributes=True,
        ),
    ),
    keys=KeyLayout(one_item_per_event=False, default_sort_key="total"),
    check_payload=check_payload,
    reserved_attributes=settings.COUNTERS_RESERVED_ATTRIBUTES,
    dedupe_markers=True,
    table_actions=("dynamodb:PutItem", "dynamodb:UpdateItem"),
    writer=CountersWriter,
    model=CountersModel,
)
