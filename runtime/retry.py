"""Time budget and backoff shared by the writers and the failure queue.

Retries never outlive the invocation: the budget is Lambda's remaining time minus a safety margin,
and a retry whose backoff would cross it is not started (the record is reported for redelivery
instead). Backoff is exponential with full jitter (sleep = uniform(0, min(cap, base * 2**attempt))).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

DEFAULT_SAFETY_MARGIN_MS = 2_000
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
    """A point in time (on ``clock``) after which no retry starts."""

    at: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def from_context(cls, context: Any, margin_ms: int = DEFAULT_SAFETY_MARGIN_MS) -> Deadline:
        remaining = context.get_remaining_time_in_millis() if context is not None else 60_000
        return cls.after((remaining - margin_ms) / 1000)

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(at=clock() + seconds, clock=clock)

    def time_left(self) -> float:
        return self.at - self.clock()


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


def cancellation_reasons(exc: BaseException) -> list[str]:
    if not isinstance(exc, ClientError):
        return []
    return [str(r.get("Code")) for r in exc.response.get("CancellationReasons", []) or []]


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


def is_retryable(exc: BaseException) -> bool:
    """Throttling, 5xx, transaction conflicts, connection problems and timeouts."""
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if error_code(exc) == "TransactionCanceledException":
            reasons = cancellation_reasons(exc)
            return "ConditionalCheckFailed" not in reasons and bool(TRANSIENT_CANCELLATIONS.intersection(reasons))
        return error_code(exc) in RETRYABLE_CODES or int(status) >= 500
    return isinstance(exc, ConnectionError | HTTPClientError)
