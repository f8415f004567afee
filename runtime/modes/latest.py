"""`latest`: the newest state per entity.

pk = partition template; sk = sort template or `state`. A put succeeds only if the stored version is lower (or
there is none), so redelivery and reordering never bring an older state back. A batch puts each item once: its
newest record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from runtime import settings
from runtime.modes.base import PK, Writer, merge, number_value, sequential_groups, settle_failure
from runtime.modes.declaration import KeyLayout, RequiredSetting, WriteMode, require_number
from runtime.modes.model import Items, Key, Problem, TableModel, key_of, number_at, payload_of
from runtime.retry import Deadline, call_errors
from runtime.templates import lookup
from runtime.types import DecodedRecord, Outcome, WriteReport

if TYPE_CHECKING:
    from runtime.config import HandlerConfig


class LatestWriter(Writer):
    """One conditional PutItem per item per batch: within a batch only the item's newest record can win, so its
    put (if the stored version is lower, or there is none) settles every record of the item. An equal or newer
    stored version is Outcome.STALE. Items are written concurrently."""

    def write(self, records: list[DecodedRecord], deadline: Deadline) -> WriteReport:
        path = (self.config.version_field or "").split(".")
        names = {f"#v{i}": name for i, name in enumerate(path)}
        names["#pk"] = PK
        condition = f"attribute_not_exists(#pk) OR {'.'.join(f'#v{i}' for i in range(len(path)))} < :v"
        versions = [Decimal(number_value(record, path)) for record in records]

        def put(position: int) -> Callable[[], Any]:
            request = {
                "TableName": self.table,
                "Item": self.item(records[position]),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {":v": {"N": str(versions[position])}},
                # The item as it was before the put, so each record's outcome is what writing them one by one
                # would have given. No read capacity is consumed
                # (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html#DDB-PutItem-request-ReturnValues).
                "ReturnValues": "ALL_OLD",
            }
            return lambda: self.clients.dynamodb.put_item(**request)

        def write_item(positions: list[int]) -> WriteReport:
            report = WriteReport()
            pending = list(positions)
            while pending:
                newest = max(pending, key=lambda p: (versions[p], -p))  # the first record of the highest version
                try:
                    response = self.call(put(newest), deadline, report)
                except call_errors() as exc:
                    outcome = settle_failure(exc, report, newest, stale=True)
                    if outcome is Outcome.INVALID:  # refused for good: the next newest record may still win
                        report.outcomes[newest] = outcome
                        pending.remove(newest)
                        continue
                    # STALE: the stored version is at least the newest, so every record is stale. TRANSIENT: the
                    # whole item is redelivered from its first record, which keeps its records in order.
                    report.outcomes.update(dict.fromkeys(pending, outcome))
                    return report
                report.outcomes.update(outcomes_in_order(pending, versions, stored_version(response, path)))
                return report
            return report

        return merge(self.concurrently(write_item, sequential_groups(records, link_event_ids=False)))


def stored_version(response: dict[str, Any], path: list[str]) -> Decimal | None:
    """The version of the item a successful put replaced (ReturnValues ALL_OLD); None if there was none."""
    value: Any = {"M": response.get("Attributes") or {}}
    for name in path:
        value = (value.get("M") or {}).get(name) if isinstance(value, dict) else None
    return Decimal(value["N"]) if isinstance(value, dict) and "N" in value else None


def outcomes_in_order(positions: list[int], versions: list[Decimal], stored: Decimal | None) -> dict[int, Outcome]:
    """What putting each record in batch order would have done, given the version stored before: a record whose
    version is higher than everything before it was written (and then replaced by a newer one), the others
    were stale."""
    outcomes = {}
    for position in positions:
        if stored is None or versions[position] > stored:
            outcomes[position], stored = Outcome.WRITTEN, versions[position]
        else:
            outcomes[position] = Outcome.STALE
    return outcomes


def check_payload(parsed: dict[str, Any], config: HandlerConfig) -> None:
    """The version is required and numeric: it is what the put's condition compares."""
    require_number(lookup(parsed, config.version_field) if config.version_field else None, config.version_field)


class LatestModel(TableModel):
    """Each key holds its highest version produced, with the payload of a record of that version; a batch given
    up on may have put a newer version, or the only one."""

    def __init__(self, config: HandlerConfig):
        super().__init__(config)
        self.path = (config.version_field or "").split(".")
        self.required: dict[Key, tuple[Decimal, int]] = {}  # key -> (highest version added, its record)
        self.allowed_versions: dict[Key, set[Decimal]] = defaultdict(set)
        self.payloads: dict[tuple[Key, Decimal], list[dict[str, Any]]] = defaultdict(list)

    def _version(self, record: DecodedRecord) -> Decimal:
        version = number_at(record.parsed, self.path)
        if version is None:  # the decoder refuses such a record; a model fed one is fed wrong
            raise ValueError(f"record {key_of(record)} has no numeric {self.config.version_field!r}")
        return version

    def add(self, record: DecodedRecord, index: int) -> None:
        key, version = key_of(record), self._version(record)
        if key not in self.required or version > self.required[key][0]:
            self.required[key] = (version, index)
        self.payloads[(key, version)].append(record.parsed)

    def allow(self, record: DecodedRecord, index: int) -> None:
        key, version = key_of(record), self._version(record)
        self.allowed_versions[key].add(version)
        self.payloads[(key, version)].append(record.parsed)

    def expected_keys(self) -> Iterable[Key]:
        return set(self.required) | set(self.allowed_versions)

    def mode_problems(self, items: Items) -> list[Problem]:
        problems: list[Problem] = []
        for key, (version, index) in self.required.items():
            stored = self._stored(items, key)
            newer_allowed = {v for v in self.allowed_versions.get(key, ()) if v > version}
            if stored != version and stored not in newer_allowed:
                problems.append(Problem(index, f"{key} holds version {stored} instead of {version}"))
        for key, versions in self.allowed_versions.items():
            stored = self._stored(items, key)
            if key not in self.required and stored is not None and stored not in versions:
                problems.append(Problem(None, f"{key} holds version {stored}, which no produced record has"))
        for key, item in items.items():
            stored = self._stored(items, key)
            options = self.payloads.get((key, stored)) if stored is not None else None
            if options is not None and payload_of(item) not in options:
                index = self.required[key][1] if key in self.required else None
                problems.append(Problem(index, f"{key} holds a payload no record of version {stored} has"))
        return problems

    def _stored(self, items: Items, key: Key) -> Decimal | None:
        return number_at(items[key], self.path) if key in items else None


MODE = WriteMode(
    name="latest",
    summary="newest state per entity: a stale or repeated version never overwrites",
    required_settings=(
        RequiredSetting(
            field="version",
            variable=settings.VERSION_FIELD,
            attribute="version_field",
            purpose="newer versions replace older state",
        ),
    ),
    keys=KeyLayout(one_item_per_event=False, default_sort_key="state"),
    check_payload=check_payload,
    reserved_attributes=settings.RESERVED_ATTRIBUTES,
    dedupe_markers=False,
    table_actions=("dynamodb:PutItem",),
    writer=LatestWriter,
    model=LatestModel,
)
