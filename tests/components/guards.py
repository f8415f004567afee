"""A guard for tests of inputs that used to hang: the test fails after a while instead of never ending."""

from __future__ import annotations

import contextlib
import signal


@contextlib.contextmanager
def refused_within(seconds: int):
    """Fail instead of hanging: a loader that blocks on a FIFO or expands an alias bomb is stopped.

    A guard against hangs, not a measurement: the refusals it guards take milliseconds. Uses SIGALRM, so
    it works in the main thread (where pytest and its xdist workers run tests).
    """

    def stop(signum, frame):
        raise AssertionError(f"still running after {seconds} s: the input was read instead of refused")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
