"""Which of a batch's counters records go in which transaction: a pure plan, no AWS call.

A transaction holds dedupe markers and, per counter item, one ADD of its events' sums. TransactWriteItems takes at
most 100 actions and 4 MB in all; the count binds first, since a marker holds two keys of at most 2048 + 1024 bytes
each, a TTL and a sequence number
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html). So a counter item's
new events go 99 at a time, and items with few events share a transaction up to the 100 actions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runtime.modes.model import key_of
from runtime.types import DecodedRecord

MAX_ACTIONS_PER_TRANSACTION = 100
MAX_EVENTS_PER_TRANSACTION = MAX_ACTIONS_PER_TRANSACTION - 1  # the counter item's ADD is the other action


@dataclass(frozen=True)
class Part:
    """New events of one counter item counted in one transaction, and the records that transaction settles."""

    new: list[int]  # positions of the events' first occurrences, in batch order
    rest: list[int]  # every record of the item from new[0] on: repeats to skip, or what a failure leaves unsettled
    first_of: dict[int, int]  # position -> position of its event's first occurrence

    @property
    def actions(self) -> int:
        return len(self.new) + 1


@dataclass(frozen=True)
class Unit:
    """Work one thread does in order: records settled one transaction each, then transactions of parts."""

    one_by_one: list[int] = field(default_factory=list)
    steps: list[list[Part]] = field(default_factory=list)


def plan(records: list[DecodedRecord], groups: list[list[int]]) -> list[Unit]:
    """Units for ``groups`` (runtime/modes/base.py's sequential_groups, event ids linked): a group that spans two
    counter items (an event id on both) one by one, so its first occurrence counts; an item of more than 99 new
    events in chunks, in order; the rest packed."""
    units: list[Unit] = []
    small: list[Part] = []
    for positions in groups:
        seen: dict[str, int] = {}
        first_of = {p: seen.setdefault(records[p].event_id, p) for p in positions}
        new = [p for p in positions if first_of[p] == p]
        if len({key_of(records[p]) for p in positions}) > 1:
            units.append(Unit(one_by_one=positions))
            continue
        parts = [
            Part(chunk, [p for p in positions if p >= chunk[0]], first_of)
            for chunk in (
                new[i : i + MAX_EVENTS_PER_TRANSACTION] for i in range(0, len(new), MAX_EVENTS_PER_TRANSACTION)
            )
        ]
        if len(parts) > 1:
            units.append(Unit(steps=[[part] for part in parts]))
        else:
            small += parts
    return units + packed(small)


def packed(parts: list[Part]) -> list[Unit]:
    """Parts of different counter items in transactions of at most 100 actions, in order."""
    units: list[Unit] = []
    pack: list[Part] = []
    for part in parts:
        if pack and sum(p.actions for p in pack) + part.actions > MAX_ACTIONS_PER_TRANSACTION:
            units.append(Unit(steps=[pack]))
            pack = []
        pack.append(part)
    if len(pack) == 1 and len(pack[0].new) == 1:  # a lone event: one call, even when it is a replay
        return [*units, Unit(one_by_one=pack[0].rest)]
    return units + ([Unit(steps=[pack])] if pack else [])
