"""Fault injection inside a function's worker: throttled DynamoDB calls and crashed invocations.

`--faults throttle=PCT,crash=PCT[,seed=N]` is parsed by `parse_faults` into a `FaultPlan`. The worker
calls `install(plan, ...)` before it imports the handler. The faults sit where the network would be:
botocore's HTTP sender, shared by every client of every session in the process, so the handler's clients
are affected however it builds them (its own `boto3.session.Session()` included):

- throttle: that share of DynamoDB requests is answered, without reaching the emulator, with the
  HTTP 400 `ProvisionedThroughputExceededException` DynamoDB sends. botocore's own retries see a
  throttling error and retry it, as they would against AWS.
- crash: that share of invocations ends with `os._exit(137)` (what an out-of-memory kill looks like)
  on their first DynamoDB request, or, if they make none, just before they return.
"""

from __future__ import annotations

import json
import os
import random
import sys
from dataclasses import dataclass
from typing import Any

THROTTLE_ERROR = "ProvisionedThroughputExceededException"
THROTTLE_MESSAGE = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)
CRASH_EXIT_CODE = 137
FAULT_KINDS = ("throttle", "crash")


class FaultSpecError(ValueError):
    """Raised by `parse_faults` when a `--faults` value cannot be understood."""


@dataclass(frozen=True)
class FaultPlan:
    """Percentages (0..100) of DynamoDB calls to throttle and of invocations to crash."""

    throttle_pct: float = 0.0
    crash_pct: float = 0.0
    seed: int = 0

    @property
    def active(self) -> bool:
        return self.throttle_pct > 0 or self.crash_pct > 0


def _percentage(item: str, value: str) -> float:
    try:
        pct = float(value.strip().removesuffix("%"))
    except ValueError:
        raise FaultSpecError(f"--faults: {item!r} is not a percentage") from None
    if not 0 <= pct <= 100:
        raise FaultSpecError(f"--faults: {item!r} is not between 0 and 100")
    return pct


def parse_faults(text: str | None, seed: int = 0) -> FaultPlan:
    """`"throttle=5,crash=1"` -> `FaultPlan(5.0, 1.0, seed)`; empty or None -> no faults."""
    values: dict[str, float] = {}
    for raw in (text or "").split(","):
        item = raw.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep:
            raise FaultSpecError(f"--faults: {item!r} is not of the form name=PCT")
        if key == "seed":
            try:
                seed = int(value)
            except ValueError:
                raise FaultSpecError(f"--faults: {item!r} is not an integer seed") from None
            continue
        if key not in FAULT_KINDS:
            raise FaultSpecError(f"--faults: unknown fault {key!r} (expected {', '.join(FAULT_KINDS)})")
        if key in values:
            raise FaultSpecError(f"--faults: {key!r} given twice")
        values[key] = _percentage(item, value)
    return FaultPlan(values.get("throttle", 0.0), values.get("crash", 0.0), seed)


def throttle_response(request: Any) -> Any:
    """The response DynamoDB sends when a request exceeds the table's throughput."""
    from botocore.awsrequest import AWSResponse

    body = json.dumps(
        {"__type": f"com.amazonaws.dynamodb.v20120810#{THROTTLE_ERROR}", "message": THROTTLE_MESSAGE}
    ).encode()
    headers = {
        "x-amzn-ErrorType": THROTTLE_ERROR,
        "Content-Type": "application/x-amz-json-1.0",
        "Content-Length": str(len(body)),
        "x-amzn-RequestId": "sandbox-fault-injection",
    }
    return AWSResponse(request.url, 400, headers, _RawBody(body))


class _RawBody:
    """The minimum of urllib3's response that botocore reads a body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, *_args: Any, **_kwargs: Any) -> Any:
        yield self._body

    def read(self, *_args: Any, **_kwargs: Any) -> bytes:
        body, self._body = self._body, b""
        return body


class FaultInjector:
    """The worker-side state: one seeded RNG, and whether the current invocation must crash."""

    def __init__(self, plan: FaultPlan, stream_id: str = "") -> None:
        self.plan = plan
        self._rng = random.Random(f"{plan.seed}:{stream_id}")
        self._crash_armed = False
        self.throttled = 0

    def start_invocation(self) -> None:
        self._crash_armed = self._rng.random() * 100 < self.plan.crash_pct

    def end_invocation(self) -> None:
        if self._crash_armed:
            self.crash()

    def crash(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(CRASH_EXIT_CODE)

    def before_send(self, request: Any, **_kwargs: Any) -> Any:
        if self._crash_armed:
            self.crash()
        if self._rng.random() * 100 < self.plan.throttle_pct:
            self.throttled += 1
            return throttle_response(request)
        return None


def _is_dynamodb(request: Any) -> bool:
    target = request.headers.get("X-Amz-Target", b"")
    return (target.decode() if isinstance(target, bytes) else str(target)).startswith("DynamoDB_")


def install(plan: FaultPlan, stream_id: str = "") -> FaultInjector | None:
    """Put `plan` between this process's AWS clients and the network; None when there is nothing to inject."""
    if not plan.active:
        return None
    from botocore.httpsession import URLLib3Session

    injector = FaultInjector(plan, stream_id)
    send = URLLib3Session.send

    def send_with_faults(session: Any, request: Any) -> Any:
        if _is_dynamodb(request):
            response = injector.before_send(request)
            if response is not None:
                return response
        return send(session, request)

    URLLib3Session.send = send_with_faults  # the worker process is the function's own: nothing else shares it
    return injector
