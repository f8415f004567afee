"""How `tributary sandbox` shows a session: named phases with heartbeats, the live progress, the closing summary
and a drain's table, in the words of `render.MEASURES`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console

from cli import render
from sandbox.session.report import SessionReport, TenantReport, processing_counts
from sandbox.session.runner import Sandbox

# A drain's table: label, then the key of `drain_summary`'s per-tenant row it shows.
DRAIN_MEASURES = (
    ("processed", "processed"),
    ("  written", "written"),
    ("  skipped", "skipped"),
    ("  to failure queue", "to_failure_queue"),
    ("  given up", "given_up"),
    ("table items", "table_items"),
    ("failure messages", "failure_messages"),
    ("archived", "archived_rows"),
    ("archive errors", "archive_errors"),
)


def say(console: Console, text: str, style: str | None = None) -> None:
    """One message: wrapped between words on a terminal, one unbroken line in a log (so grep finds it whole)."""
    console.print(text, style=style, soft_wrap=not console.is_terminal, markup=False, highlight=False)


class Phases:
    """Named phases on the progress stream (deploy, produce, drain, report) and, when that stream is not a
    terminal (a log, CI), a heartbeat line every `heartbeat` seconds, so a long phase is never silent."""

    def __init__(self, console: Console, heartbeat: float) -> None:
        self.console = console
        self._heartbeat = heartbeat
        self._name = ""
        self._status: Callable[[], str] = lambda: ""
        self._since = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, name: str, detail: str, status: Callable[[], str] | None = None) -> None:
        self._name, self._status, self._since = name, status or (lambda: ""), time.monotonic()
        say(self.console, f"{name}: {detail}")

    def done(self, detail: str) -> None:
        elapsed = time.monotonic() - self._since
        say(self.console, f"{self._name}: {detail} ({elapsed:.0f} s)")

    def __enter__(self) -> Phases:
        if not self.console.is_terminal:
            self._thread = threading.Thread(target=self._beat, daemon=True, name="sandbox-heartbeat")
            self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.quiet()

    def quiet(self) -> None:
        """No more heartbeats: what follows (stopping the workers and the emulator) is not a phase to watch."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _beat(self) -> None:
        while not self._stop.wait(self._heartbeat):
            try:
                status = self._status()
            except Exception as error:  # noqa: BLE001 - a heartbeat never ends the session
                status = f"(status unavailable: {error})"
            elapsed = time.monotonic() - self._since
            line = f"{self._name} {elapsed:.0f} s: {status or 'working'}"
            say(self.console, line)


def progress_columns(sandbox: Sandbox) -> dict[str, dict[str, str]]:
    columns = {}
    for name, run in sorted(sandbox.runs.items()):
        counts = processing_counts(sandbox, run)
        values = {
            "produced": "producing" if counts.produced is None else str(counts.produced),
            "processed": str(counts.processed),
            "  written": str(counts.written),
            "  skipped": str(counts.skipped),
            "  to failure queue": str(counts.to_failure_queue),
            "  given up": str(counts.given_up),
            "iterator age": f"{counts.iterator_age_seconds:.1f} s",
        }
        if run.firehose is not None:
            values |= {"archived": str(counts.archived), "archive errors": str(counts.archive_errors)}
        columns[name] = values
    return columns


def producing(sandbox: Sandbox) -> str:
    running = [name for name, run in sorted(sandbox.runs.items()) if run.manifest is None]
    return f"{len(sandbox.runs) - len(running)} of {len(sandbox.runs)} tenants' producers done"


def draining(sandbox: Sandbox) -> str:
    counts = [processing_counts(sandbox, run) for run in sandbox.runs.values()]
    produced = sum(c.produced or 0 for c in counts)
    archived = sum(c.archived + c.archive_errors for c in counts)
    return f"processed {sum(c.processed for c in counts)} of {produced} records, archived {archived} of {produced}"


def summary_columns(tenants: list[TenantReport]) -> dict[str, dict[str, str]]:
    columns = {}
    for tenant in tenants:
        values = {
            "mode": tenant.write_mode,
            "produced": tenant.produced,
            "  resent": tenant.duplicates,
            "  poison pills": tenant.invalid,
            "processed": tenant.processed,
            "  written": tenant.written,
            "  skipped": tenant.skipped,
            "  to failure queue": tenant.to_failure_queue,
            "  given up": tenant.given_up,
            "table items": tenant.table_items,
            "failure messages": tenant.failure_messages,
        }
        if tenant.archive_location:
            values |= {"archived": tenant.archived_rows, "archive errors": tenant.archive_errors}
        values["unaccounted"] = len(tenant.unaccounted)
        columns[tenant.tenant] = {label: str(value) for label, value in values.items()}
    return columns


def print_alarms(console: Console, tenant: str, alarms: list[str], reasons: dict[str, str]) -> None:
    if not alarms:
        say(console, f"{tenant}: no alarm in ALARM")
    for alarm in alarms:
        say(console, f"{tenant}: {alarm} in ALARM: {reasons.get(alarm, '')}")


def print_report(console: Console, report: SessionReport) -> None:
    console.print(render.measures_view("summary", summary_columns(report.tenants), console.width))
    console.print(f"{report.produced} records in {report.seconds:.1f} s: {report.events_per_second:.0f} events/s")
    for tenant in report.tenants:
        print_alarms(console, tenant.tenant, tenant.alarms_firing, tenant.alarm_reasons)
    for tenant in report.tenants:
        if tenant.archive_location:
            say(console, f"{tenant.tenant}: archive at {tenant.archive_location}")
    for tenant in report.tenants:
        for problem in tenant.unaccounted[:5]:
            say(console, f"{tenant.tenant}: unaccounted: {problem}", style="red")


def print_drain(console: Console, summary: dict[str, Any]) -> None:
    """A drain's counts per tenant (read back from the emulator) and its alarms."""
    columns = {row["tenant"]: {label: str(row[key]) for label, key in DRAIN_MEASURES} for row in summary["tenants"]}
    console.print(render.measures_view("this drain (read back from the emulator)", columns, console.width))
    for row in summary["tenants"]:
        print_alarms(console, row["tenant"], row["alarms_firing"], row["alarm_reasons"])
