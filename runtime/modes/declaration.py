"""What a write mode is, as data: the settings it needs, its key layout, the attributes it reserves, whether it
writes dedupe markers, the table actions its writer calls, its writer and its model of the table.

Pure: the infrastructure (components/) and the sandbox's account read these declarations, so importing this
module loads neither boto3 nor powertools.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from runtime.exceptions import ValueInvalidError

if TYPE_CHECKING:
    from runtime.config import HandlerConfig
    from runtime.modes.base import Writer
    from runtime.modes.model import TableModel

# Dedupe markers live in the tenant's own table under keys no record can take: every mode refuses a partition
# key with this prefix (runtime/records.py), so switching a table to counters never meets an item in the way.
DEDUPE_PREFIX = "dedupe#"
MARKER_SORT_KEY = "dedupe"


@dataclass(frozen=True)
class RequiredSetting:
    """A tenant setting a write mode cannot work without, by its name in each place it travels."""

    field: str  # under `records:` in the tenant file
    variable: str  # the handler's environment variable (runtime/settings.py)
    attribute: str  # runtime.config.HandlerConfig's attribute
    purpose: str  # why the mode needs it, said to the tenant when it is missing
    exclusive: bool = False  # refused in the tenant file of every other mode
    names_attributes: bool = False  # its field names become item attributes, so reserved names are refused


@dataclass(frozen=True)
class KeyLayout:
    """How a record's sort key is made from the tenant's sort template (when it has one) and its event id."""

    one_item_per_event: bool  # the sort key ends with the event id: every event is an item of its own
    default_sort_key: str = ""  # otherwise, the sort key of a tenant without a sort template

    def __post_init__(self) -> None:
        if not self.one_item_per_event and not self.default_sort_key:
            raise ValueError("a layout that keeps one item per key needs a default sort key")

    def sort_key(self, sort: str | None, event_id: str) -> str:
        if self.one_item_per_event:
            return f"{sort}#{event_id}" if sort is not None else event_id
        return sort if sort is not None else self.default_sort_key


@dataclass(frozen=True)
class WriteMode:
    """One write mode, declared once in its own module (runtime/modes/<name>.py) and registered in
    runtime/modes/__init__.py."""

    name: str
    summary: str  # the guarantee, in one line
    required_settings: tuple[RequiredSetting, ...]
    keys: KeyLayout
    # Refuses (PermanentRecordError) a decoded payload the writer could not write, e.g. a version that is no number.
    check_payload: Callable[[dict[str, Any], HandlerConfig], None]
    reserved_attributes: frozenset[str]  # payload field names the mode's items keep for themselves
    dedupe_markers: bool  # writes dedupe markers, which expire: the table needs its TTL attribute enabled
    # The IAM actions the writer calls on the table; the processor role is granted exactly these
    # (components/pipeline.py). TransactWriteItems is authorized per item action:
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
    table_actions: tuple[str, ...]
    writer: type[Writer]
    model: Callable[[HandlerConfig], TableModel]  # the table the writer must leave, from the records it was given


def any_payload(parsed: dict[str, Any], config: HandlerConfig) -> None:
    """The payload check of a mode that stores any payload the decoder accepts."""


def require_number(value: Any, name: str | None) -> None:
    """Refuse a version or counter field that is not a JSON number."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueInvalidError(f"field '{name}' must be a number (got {type(value).__name__})")
