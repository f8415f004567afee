"""Why each alarm is red in a sandbox session, in words, from what the session knows: its options (injected
faults, traffic), the tenant's engines and its closing account. An alarm without an explanation here shows the
reason CloudWatch gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sandbox.engines.observe import AlarmState
from sandbox.session.runner import Sandbox, TenantRun

if TYPE_CHECKING:
    from sandbox.session.report import TenantReport


@dataclass
class AlarmContext:
    """What a session knows about why an alarm fired: its options, the tenant's engines and its account."""

    sandbox: Sandbox
    run: TenantRun
    report: TenantReport

    def lambda_total(self, metric: str) -> float:
        """The session's sum of one of Lambda's metrics for the tenant's function."""
        sink = self.sandbox.sink
        function = ("FunctionName", self.run.mapping.function.name)
        totals = list(sink.totals.items()) if sink is not None else []
        return sum(v for (ns, name, dims), v in totals if ns == "AWS/Lambda" and name == metric and function in dims)

    @property
    def crash_pct(self) -> float:
        return self.sandbox.options.faults.crash_pct


def _why_failure_queue(state: AlarmState, ctx: AlarmContext) -> str:
    report = ctx.report
    parts = [f"{report.poison_pills_in_queue} messages for the {report.invalid} poison pills in the traffic"]
    if report.invalid:
        parts[0] += f" (--invalid {ctx.sandbox.options.invalid_pct:g}%)"
    if report.pill_redeliveries:
        parts.append(f"{report.pill_redeliveries} of them sent again by batches delivered again after a crash")
    given_up = report.failure_messages - report.poison_pills_in_queue
    if given_up:
        parts.append(f"{given_up} for batches the mapping gave up on")
    expected = "expected: " if report.invalid and not given_up else ""
    return expected + "; ".join(parts)


def _why_given_up(state: AlarmState, ctx: AlarmContext) -> str:
    report, mapping = ctx.report, ctx.run.mapping
    causes = _failure_causes(ctx)
    return (
        f"{report.given_up} records in {report.batches_given_up} batches ran out of retries ({mapping.max_retries}) "
        f"or age and went to the on-failure destination instead of the table{': ' + causes if causes else ''}"
    )


def _failure_causes(ctx: AlarmContext) -> str:
    """What made invocations fail or return part of their batch in this session, as far as it can tell."""
    workers, mapping = ctx.run.workers.stats, ctx.run.esm.stats
    timeout = ctx.run.mapping.function.timeout_seconds
    causes = []
    if ctx.crash_pct:
        causes.append(f"--faults crash={ctx.crash_pct:g} kills that share of invocations")
    if workers.timeouts:
        causes.append(f"{workers.timeouts} invocations ran past the {timeout} s timeout on this machine")
    partial = mapping.failed_batches - mapping.function_errors
    if partial:
        causes.append(
            f"{partial} invocations returned part of their batch for retry (throttled writes, or too little of "
            f"the {timeout} s left: this machine and its emulator are slower than Lambda and DynamoDB)"
        )
    return "; ".join(causes)


def _why_error_rate(state: AlarmState, ctx: AlarmContext) -> str:
    errors, invocations = ctx.lambda_total("Errors"), ctx.lambda_total("Invocations")
    causes = _failure_causes(ctx) or "see the function's log " + str(ctx.run.log_path)
    return f"{errors:.0f} of {invocations:.0f} invocations failed ({state.value or 0:.1f}%): {causes}"


def _why_duration(state: AlarmState, ctx: AlarmContext) -> str:
    function = ctx.run.mapping.function
    throttled = ctx.sandbox.options.faults.throttle_pct
    backoff = f", and --faults throttle={throttled:g} makes the handler back off and retry" if throttled else ""
    return (
        f"the slowest invocation took {(state.value or 0) / 1000:.1f} s of the {function.timeout_seconds} s timeout: "
        f"every tenant's DynamoDB calls go through one emulator that answers one request at a time, much slower "
        f"than DynamoDB, for batches of up to {ctx.run.mapping.batch_size} records{backoff}"
    )


def _why_iterator_age(state: AlarmState, ctx: AlarmContext) -> str:
    options = ctx.sandbox.options
    waited = f"records waited up to {(state.value or 0) / 1000:.0f} s before the function got to them"
    if options.rate > 0:
        return f"{waited}: the function processes fewer than --rate {options.rate:g} events/s on this machine"
    return (
        f"{waited}: the producers put all {options.events} events at once (--rate 0), faster than the function "
        "gets through them on this machine; --rate R paces them"
    )


def _why_throttles(state: AlarmState, ctx: AlarmContext) -> str:
    return (
        f"invocations waited for one of the function's {ctx.run.workers.max_workers} execution environments "
        "(its reserved concurrency)"
    )


# Why an alarm is red in a sandbox session, from what the session knows; any other alarm shows its own reason.
ALARM_REASONS = {
    "failure-queue-depth": _why_failure_queue,
    "failed-batches": _why_given_up,
    "dropped-events": _why_given_up,
    "error-rate": _why_error_rate,
    "duration": _why_duration,
    "iterator-age": _why_iterator_age,
    "throttles": _why_throttles,
}


def explain_alarm(suffix: str, state: AlarmState, ctx: AlarmContext) -> str:
    explain = ALARM_REASONS.get(suffix)
    return explain(state, ctx) if explain else state.reason
