"""When a session has drained: every record put on the tenants' streams before the wait began has been processed
by its mapping and read by its delivery.

Each engine counts its finished polls. A poll that began after the wait began has seen every record put before
it, so the wait notes each engine's count, and once every count is two higher (a whole poll since), it takes the
engines' word: every mapping idle (nothing buffered, in flight or waiting for a retry, each shard read to its end)
and every delivery read to the end of its shards. A delivery's buffer interval is latency, not work: the caller
flushes the buffers instead of waiting it out.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sandbox.engines.event_source import EventSourceMapping
from sandbox.engines.firehose import FirehoseDelivery

CHECK_SECONDS = 0.05


def wait_until_drained(
    mappings: list[EventSourceMapping],
    deliveries: list[FirehoseDelivery],
    timeout: float,
    on_progress: Callable[[], None] | None = None,
) -> bool:
    """True once drained, False if `timeout` seconds passed first; `on_progress` is called while it waits."""
    deadline = time.monotonic() + timeout
    engines = [*mappings, *deliveries]
    marks = [engine.polls_completed for engine in engines]

    def drained() -> bool:
        if not all(engine.has_polled_since(mark) for engine, mark in zip(engines, marks, strict=True)):
            return False
        return all(mapping.idle() for mapping in mappings) and all(d.read_everything() for d in deliveries)

    while not drained():
        if time.monotonic() >= deadline:
            return False
        if on_progress:
            on_progress()
        time.sleep(CHECK_SECONDS)
    return True
