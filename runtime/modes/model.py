"""What every write mode's model shares: the table its writer must leave, checked against the table itself.

A model is fed the valid records of a stream in the order they were produced. ``add`` takes a record whose
effect the table must hold. ``allow`` takes a record whose effect the table may hold or not: a record of a
batch the event source mapping gave up on, which an invocation may have written before it ran out of time
and returned the rest of its batch. ``problems(items)`` lists every difference between the model and the
table: effects missing, wrong, or that no record explains.

``items`` maps ``(pk, sk)`` to an item's attributes as Python values (as boto3's TypeDeserializer gives them:
numbers as Decimal). Pure: no AWS call, no boto3.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from runtime import settings
from runtime.modes.declaration import DEDUPE_PREFIX

if TYPE_CHECKING:
    from runtime.config import HandlerConfig
    from runtime.types import DecodedRecord

Key = tuple[str, str]
Items = Mapping[Key, Mapping[str, Any]]


class Problem(NamedTuple):
    """One difference between the model and the table."""

    index: int | None  # the producing index of the record whose effect is wrong; None if no record is to blame
    text: str


class TableModel:
    """The base of the modes' models: the check that every item is explained by some record."""

    def __init__(self, config: HandlerConfig):
        self.config = config

    def add(self, record: DecodedRecord, index: int) -> None:
        raise NotImplementedError

    def allow(self, record: DecodedRecord, index: int) -> None:
        raise NotImplementedError

    def expected_keys(self) -> Iterable[Key]:
        """The items a record added or allowed may have made (dedupe markers aside)."""
        raise NotImplementedError

    def mode_problems(self, items: Items) -> list[Problem]:
        raise NotImplementedError

    def problems(self, items: Items) -> list[Problem]:
        expected = set(self.expected_keys())
        unexplained = [
            Problem(None, f"item {key} matches no produced record")
            for key in items
            if key not in expected and not key[0].startswith(DEDUPE_PREFIX)
        ]
        return self.mode_problems(items) + unexplained


def key_of(record: DecodedRecord) -> Key:
    return record.pk, record.sk


def payload_of(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item's payload fields: everything but its keys, TTL and metadata attributes."""
    return {name: value for name, value in item.items() if name not in settings.RESERVED_ATTRIBUTES}


def number_at(value: Any, path: Sequence[str]) -> Decimal | None:
    """The number at a path of field names (a payload's dotted field, or a nested item attribute); None if
    the path is absent or holds no number."""
    for name in path:
        value = value.get(name) if isinstance(value, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    return Decimal(value)
