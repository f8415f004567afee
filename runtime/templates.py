"""Key templates: ``device#{device_id}``, ``{day}``, ``{site.region}#{hour}``.

A template is parsed once at cold start. Placeholders name payload fields (dotted paths reach into
nested objects) or the built-in time buckets of the event time (UTC): ``{hour}`` -> ``2026-11-26T17``,
``{day}`` -> ``2026-11-26``, ``{month}`` -> ``2026-11``. Built-in names win over payload fields.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from runtime.exceptions import KeyFieldMissingError

BUCKETS = {
    "hour": "%Y-%m-%dT%H",
    "day": "%Y-%m-%d",
    "month": "%Y-%m",
}
_FIELD = re.compile(r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")


@dataclass(frozen=True)
class KeyTemplate:
    """A parsed template: literal text and placeholders, alternating."""

    text: str
    parts: tuple[tuple[str, str | None], ...]  # (literal, field or None)

    @classmethod
    def parse(cls, text: str) -> KeyTemplate:
        """Parse ``text``; raises ValueError with a readable problem (the caller names the variable)."""
        parts = []
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as exc:
            raise ValueError(f"not a valid template ({exc})") from None
        for literal, field, spec, conversion in parsed:
            if field is not None:
                if spec or conversion:
                    raise ValueError(f"placeholder {{{field}}} must not have a format spec or conversion")
                if not _FIELD.match(field):
                    raise ValueError(f"placeholder {{{field}}} is not a field name or dotted path")
            parts.append((literal, field))
        if not text:
            raise ValueError("must not be empty")
        return cls(text=text, parts=tuple(parts))

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(f for _, f in self.parts if f is not None)

    def render(self, payload: dict[str, Any], event_time: datetime) -> str:
        out = []
        for literal, field in self.parts:
            out.append(literal)
            if field is None:
                continue
            if field in BUCKETS:
                out.append(event_time.strftime(BUCKETS[field]))
            else:
                out.append(scalar_text(lookup(payload, field), field))
        return "".join(out)


def lookup(payload: dict[str, Any], path: str) -> Any:
    """The value at a dotted path, or raise KeyFieldMissingError naming the path."""
    value: Any = payload
    for name in path.split("."):
        if not isinstance(value, dict) or name not in value:
            raise KeyFieldMissingError(f"field '{path}' is missing")
        value = value[name]
    return value


def scalar_text(value: Any, path: str) -> str:
    """A key-safe text for a scalar: strings as is, numbers in plain notation, booleans lowercase."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal | float):
        return format(Decimal(value) if isinstance(value, Decimal) else Decimal(repr(value)), "f")
    raise KeyFieldMissingError(f"field '{path}' is {type(value).__name__}, not a string or number")
