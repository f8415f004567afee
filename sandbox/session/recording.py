"""The access proof's recording of a session: every principal's AWS calls, each recorded as that principal.

`CallRecording(log_path)` hands the engines what they apply to their clients (`as_principal`), the function's
workers what they run before the handler (`process_setup`), and records CloudWatch publishing an alarm to its
topic as the service (`as_cloudwatch`). The engines never import the recorder: the session injects it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from access.recorder import CallLog, record_client, record_process

CLOUDWATCH = "service:cloudwatch.amazonaws.com"  # the principal alarms publish to their topic as


def _account(arn: str) -> str:
    return arn.split(":")[4]


class CallRecording:
    """One call log (JSON Lines of access.calls.Call) that every principal of a session records into."""

    def __init__(self, log_path: Path) -> None:
        self._path = log_path
        self._log = CallLog(log_path)

    def as_principal(self, principal: str | None) -> Callable[[Any], Any] | None:
        """A hook that records a client's calls as `principal`'s (None when the principal is unknown)."""
        if not principal:
            return None

        def instrument(client: Any) -> Any:
            record_client(client, principal, self._log, account=_account(principal))
            return client

        return instrument

    def process_setup(self, principal: str | None) -> Callable[[], object] | None:
        """What a worker process calls to record its handler's calls as `principal`'s: a partial of a
        module-level function, so it pickles to the spawned worker."""
        if not principal:
            return None
        return functools.partial(record_process, principal, str(self._path), account=_account(principal))

    def as_cloudwatch(self, sns: Any, alarm_arn: str) -> None:
        """Record `sns`'s calls as CloudWatch's, acting for the alarm (its aws:SourceArn and account)."""
        account = _account(alarm_arn)
        context = {"aws:SourceAccount": account, "aws:SourceArn": alarm_arn}
        record_client(sns, CLOUDWATCH, self._log, account=account, context=context)

    def close(self) -> None:
        self._log.close()
