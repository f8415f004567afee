"""A session is drained only after every engine has polled once since the wait began and found nothing left."""

from __future__ import annotations

import threading
import time

from sandbox.engines.polling import PollingEngine
from sandbox.session.drain import wait_until_drained


class Engine(PollingEngine):
    """Polls like the real engines (a thread, a counter); `work` is what is left before it goes idle."""

    def __init__(self, work: int = 0) -> None:
        super().__init__(poll_interval=0.01)
        self.work = work
        self.lock = threading.Lock()

    def poll_once(self) -> bool:
        with self.lock:
            if self.work:
                self.work -= 1
                return True
            return False

    def idle(self) -> bool:
        with self.lock:
            return self.work == 0

    read_everything = idle


def test_drain_waits_for_a_poll_after_the_wait_began_even_when_engines_look_idle():
    mapping, delivery = Engine(), Engine()
    # Idle, but not polling yet: records put a moment ago may be unread, so this is not drained.
    assert not wait_until_drained([mapping], [delivery], timeout=0.3)
    mapping.start()
    delivery.start()
    try:
        assert wait_until_drained([mapping], [delivery], timeout=10)
    finally:
        mapping.close()
        delivery.close()


def test_drain_waits_until_every_engine_has_done_its_work():
    mapping, delivery = Engine(work=20), Engine(work=5)
    for engine in (mapping, delivery):
        engine.start()
    try:
        assert wait_until_drained([mapping], [delivery], timeout=10)
        assert mapping.work == 0 and delivery.work == 0
    finally:
        mapping.close()
        delivery.close()


def test_drain_gives_up_at_the_timeout_and_reports_progress_meanwhile():
    busy = Engine(work=10**9)
    busy.start()
    beats = []
    try:
        started = time.monotonic()
        assert not wait_until_drained([busy], [], timeout=0.3, on_progress=lambda: beats.append(1))
        assert time.monotonic() - started >= 0.3
        assert beats
    finally:
        busy.close()
