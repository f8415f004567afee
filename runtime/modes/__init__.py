"""The write modes, one module each, registered here.

Every mode turns at-least-once delivery into exactly-once effects; its module declares, as one WriteMode, the
settings it needs, its key layout, the attributes it reserves, whether it keeps dedupe markers, the table
actions its writer calls, the writer, and the model of the table the writer must leave. Adding a mode is a
module with its MODE and one line below.

Importing this package loads neither boto3, botocore nor powertools: the infrastructure reads the declarations.
"""

from __future__ import annotations

from runtime.modes import counters, events, latest
from runtime.modes.declaration import DEDUPE_PREFIX, KeyLayout, WriteMode

MODES: dict[str, WriteMode] = {
    events.MODE.name: events.MODE,
    latest.MODE.name: latest.MODE,
    counters.MODE.name: counters.MODE,
}
WRITE_MODES = tuple(MODES)
DEFAULT_WRITE_MODE = events.MODE.name


def mode(name: str) -> WriteMode:
    """The write mode called ``name``; ValueError naming the known ones otherwise."""
    try:
        return MODES[name]
    except KeyError:
        raise ValueError(f"must be one of {', '.join(WRITE_MODES)} (got {name!r})") from None


__all__ = [
    "DEDUPE_PREFIX",
    "DEFAULT_WRITE_MODE",
    "MODES",
    "WRITE_MODES",
    "KeyLayout",
    "WriteMode",
    "mode",
]
