"""Time budget and backoff shared by the writers and the failure queue.

Nothing outlives the invocation. The deadline is Lambda's remaining time minus a safety margin: no AWS
call (first attempt or retry) starts after it, and a call still in flight then is waited for only during
the first half of the margin (``grace``); the second half is kept for building the response. A call
given up on is reported like a lost response: its record is redelivered, and every write is idempotent.
botocore makes one attempt per call (runtime/modes/base.py); the retries are ours, with exponential backoff
and full jitter (sleep = uniform(0, min(cap, base * 2**attempt))), and one whose sleep would cross the
deadline is not started (the record is reported for redelivery instead).

botocore is imported by the functions that classify its errors, on the first error: the write modes
(runtime/modes/) import this module, and their declarations must load without boto3 or botocore.
"""

from __future__ import annotations

import contextvars
import functools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from runtime.exceptions import DeadlineExceededError

T = TypeVar("T")

DEFAULT_SAFETY_MARGIN_MS = 2_000
# A call already in flight at the deadline may take the first half of the safety margin (its grace); the
# second half is kept for building the response, publishing metrics and returning.
GRACE_SHARE_OF_MARGIN = 0.5
DEFAULT_GRACE_SECONDS = DEFAULT_SAFETY_MARGIN_MS * GRACE_SHARE_OF_MARGIN / 1000
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
        "TransactionInProgressException",
        "RequestThrottled",
        "RequestTimeout",
        "RequestTimeoutException",
        "KMSThrottlingException",
        "AWS.SimpleQueueService.RequestThrottled",
    }
)


@dataclass(frozen=True)
class Deadline:
    """The invocation's time budget on ``clock``: no call or retry starts after ``at``, and no call is
    waited for after ``at + grace``."""

    at: float
    clock: Callable[[], float] = time.monotonic
    grace: float = DEFAULT_GRACE_SECONDS

    @classmethod
    def from_context(cls, context: Any, margin_ms: int = DEFAULT_SAFETY_MARGIN_MS) -> Deadline:
        remaining = context.get_remaining_time_in_millis() if context is not None else 60_000
        return cls.after((remaining - margin_ms) / 1000, grace=max(0, margin_ms) * GRACE_SHARE_OF_MARGIN / 1000)

    @classmethod
    def after(
        cls, seconds: float, clock: Callable[[], float] = time.monotonic, grace: float = DEFAULT_GRACE_SECONDS
    ) -> Deadline:
        return cls(at=clock() + seconds, clock=clock, grace=grace)

    def time_left(self) -> float:
        return self.at - self.clock()

    def expired(self) -> bool:
        return self.time_left() < 0

    def run(self, call: Callable[[], T]) -> T:
        """Make one AWS call within the budget and return its answer, or raise DeadlineExceededError if
        the deadline has passed (the call is not started) or the call has not answered by ``at + grace``
        (it is left to finish on its own thread, which the client's socket timeouts end)."""
        if self.expired():
            raise DeadlineExceededError("not started: the invocation's time budget is spent")
        wait = self.time_left() + self.grace
        pending = _Call(call)
        if not pending.finished.wait(wait):
            raise DeadlineExceededError(f"no answer within the {wait:.2f} s the invocation had left")
        return pending.result()


class _Call:
    """One call on a daemon thread of its own, so that waiting for it can stop at the deadline."""

    def __init__(self, call: Callable[[], Any]):
        self.finished = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None
        context = contextvars.copy_context()  # tracing and logging state follow the call
        threading.Thread(target=context.run, args=(self._run, call), daemon=True, name="tributary-call").start()

    def _run(self, call: Callable[[], Any]) -> None:
        try:
            self._value = call()
        except BaseException as exc:  # handed to the waiting thread, which raises it
            self._error = exc
        finally:
            self.finished.set()

    def result(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._value


@dataclass
class Backoff:
    """Exponential backoff with full jitter, bounded by a Deadline."""

    base: float = 0.05
    cap: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    rng: Callable[[], float] = field(default_factory=lambda: random.Random().random)

    def wait(self, attempt: int, deadline: Deadline) -> bool:
        """Sleep before retry number ``attempt + 1``; False (without sleeping) if that would cross
        the deadline."""
        delay = self.rng() * min(self.cap, self.base * (2**attempt))
        if deadline.time_left() <= delay:
            return False
        self.sleep(delay)
        return True


# TransactionCanceledException is retryable only when the cancellation was transient; a failed
# condition (e.g. the dedupe marker exists) is an answer, not a failure.
TRANSIENT_CANCELLATIONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)


@functools.cache
def call_errors() -> tuple[type[BaseException], ...]:
    """Every way one AWS call fails (``except call_errors()``): botocore's errors, and the invocation's deadline."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError, DeadlineExceededError)


def cancellation_reasons(exc: BaseException) -> list[str]:
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return []
    return [str(r.get("Code")) for r in exc.response.get("CancellationReasons", []) or []]


def error_code(exc: BaseException) -> str:
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


def is_retryable(exc: BaseException) -> bool:
    """Throttling, 5xx, transaction conflicts, connection problems and timeouts."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if error_code(exc) == "TransactionCanceledException":
            reasons = cancellation_reasons(exc)
            return "ConditionalCheckFailed" not in reasons and bool(TRANSIENT_CANCELLATIONS.intersection(reasons))
        return error_code(exc) in RETRYABLE_CODES or int(status) >= 500
    return isinstance(exc, ConnectionError | HTTPClientError)
