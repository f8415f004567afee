"""bench/RESULTS.md and bench/throughput.png, rewritten by every run: the latest run only, with where it ran."""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench.figures import RunResults, figure_rows
from bench.handler_bench import BATCH_WRITE_LIMIT, HANDLER_WRITE_CONCURRENCY, RTTS_MS, HandlerResults
from bench.imports_bench import BASELINE_MODULE, HANDLER_MODULE, ImportResults
from bench.plan_bench import PlanResults
from bench.sandbox_bench import SandboxResults
from bench.workload import BATCH_SIZE, RECORD_BYTES, ROOT, TENANT_OF_MODE

RESULTS = ROOT / "bench" / "RESULTS.md"
PLOT = ROOT / "bench" / "throughput.png"
MAX_UNACCOUNTED_LINES = 5


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({_cpu_model()}), load average {load}"


def _versions() -> str:
    names = ("boto3", "botocore", "aws-lambda-powertools", "pulumi", "moto")
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def _table(header: tuple[str, ...], rows: list[tuple]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows),
    ]


def handler_section(h: HandlerResults) -> list[str]:
    rows = []
    for r in h.results:
        floor = f"{r.floor_seconds * 1000:.0f}" if r.floor_seconds else "0"
        times = f"{r.times_floor:.1f}×" if r.times_floor else "—"
        calls = ", ".join(f"{n} {op}" for op, n in sorted(r.calls.items()))
        valid = "" if r.reported_failures == 0 else f" (INVALID: {r.reported_failures} reported for retry)"
        rows.append(
            (
                f"{r.case.label}{valid}",
                f"{r.case.rtt_ms:.0f} ms",
                f"{r.records_per_second:,.0f}",
                f"{r.cpu_us_per_record:.0f}",
                f"{r.wall_seconds * 1000:.0f}",
                floor,
                times,
                calls,
                r.peak_in_flight,
            )
        )
    tenants = ", ".join(f"`{mode}` as tenants/{tenant}.yaml" for mode, tenant in TENANT_OF_MODE.items())
    return [
        "## Handler and baselines",
        "",
        f"One Kinesis event of {BATCH_SIZE} records of about {RECORD_BYTES} bytes of JSON per invocation; {tenants}; "
        "the baselines write the `events` records. The fake endpoint answers every call after the round trip "
        "(RTT). Medians of "
        f"{h.repetitions} interleaved repetitions after a warm-up. CPU is the function process's, every thread. "
        f"Network floor: ⌈{BATCH_SIZE}/{BATCH_WRITE_LIMIT}⌉ calls ÷ {HANDLER_WRITE_CONCURRENCY} at a time (the "
        "most calls the handler keeps in flight, runtime/modes/base.py) × RTT. Peak in flight: the most calls "
        "the endpoint held at once.",
        "",
        *_table(
            (
                "case",
                "RTT",
                "records/s",
                "CPU µs/record",
                "wall ms",
                "floor ms",
                "× floor",
                "calls per invocation",
                "peak in flight",
            ),
            rows,
        ),
        "",
    ]


def imports_section(i: ImportResults) -> list[str]:
    rows = []
    for environment in ("in Lambda", "outside Lambda"):
        boto3 = i.seconds[(environment, BASELINE_MODULE)] * 1000
        handler = i.seconds[(environment, HANDLER_MODULE)] * 1000
        rows.append((environment, f"{boto3:.0f}", f"{handler:.0f}", f"{i.ratio(environment):.2f}×"))
    return [
        "## Handler import",
        "",
        f"Each import timed inside a fresh interpreter (start-up excluded), medians of {i.repetitions} interleaved "
        "runs. In Lambda: Lambda's runtime variables and the `events` tenant's, tracing on as deployed.",
        "",
        *_table(("environment", "`import boto3` ms", "`import runtime.handler` ms", "ratio"), rows),
        "",
    ]


def plan_section(p: PlanResults) -> list[str]:
    rows = [
        (
            run.tenants,
            run.resources,
            f"{run.wall_seconds:.1f}",
            f"{run.cpu_seconds:.1f}",
            f"{run.cpu_ms_per_tenant:.0f}",
            f"{run.peak_mb:,.0f}",
            f"{run.mb_per_tenant:.2f}",
        )
        for run in p.runs
    ]
    return [
        "## Plan",
        "",
        "The program under the mock engine (`tributary plan`'s), each size in a fresh interpreter, on copies of "
        "tenants/sensors.yaml. Memory per tenant: the peak resident size above the interpreter's before the plan.",
        "",
        *_table(("tenants", "resources", "wall s", "CPU s", "CPU ms/tenant", "peak MB", "MB/tenant"), rows),
        "",
        f"Per-tenant CPU, {p.runs[-1].tenants} vs {p.runs[0].tenants} tenants: {p.linearity:.2f}× (1.0 = linear).",
        "",
    ]


def sandbox_section(s: SandboxResults) -> list[str]:
    return [
        "## Sandbox",
        "",
        f"`make demo`'s session ({s.tenants} tenants, {s.events:,} events with the demo's duplicates, poison pills, "
        "reordering, throttling and crashes), from the first put until drained, then the same records put again "
        "into streams with no consumer in the same emulator.",
        "",
        *_table(
            ("measure", "seconds", "events/s"),
            [
                (
                    "session: produce and drain" + (" (RECORDS UNACCOUNTED)" if s.unaccounted else ""),
                    f"{s.session_seconds:.1f}",
                    f"{s.events_per_second:,.0f}",
                ),
                ("emulator: raw PutRecords, no consumer", f"{s.raw_seconds:.1f}", f"{s.raw_per_second:,.0f}"),
            ],
        ),
        "",
        f"The session runs at {s.share_of_raw:.1%} of the emulator's raw put rate.",
        "",
        *_unaccounted(s.unaccounted),
    ]


def _unaccounted(lines: tuple[str, ...]) -> list[str]:
    """The session report's first few lines about records it could not account for."""
    if not lines:
        return []
    shown = [f"- unaccounted: {line}" for line in lines[:MAX_UNACCOUNTED_LINES]]
    if len(lines) > MAX_UNACCOUNTED_LINES:
        shown.append(f"- ... and {len(lines) - MAX_UNACCOUNTED_LINES} more")
    return [*shown, ""]


def render(results: RunResults, started: datetime, seconds: float, command: str) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"The latest run of `{command}`; every run rewrites this file and throughput.png. Figures are ratios and "
        "medians measured within the run, on a machine other work shares: compare runs by their ratios.",
        "",
        f"- date: {started.strftime('%Y-%m-%d %H:%M UTC')}, {seconds / 60:.1f} minutes",
        f"- machine: {machine()}",
        f"- python: {sys.version.split()[0]}; {_versions()}",
        *(f"- {note}" for note in results.notes),
        "",
        "## Figures",
        "",
        *_table(("figure", "before", "measured", "target", ""), figure_rows(results)),
        "",
    ]
    sections = (
        (results.handler, handler_section),
        (results.imports, imports_section),
        (results.plan, plan_section),
        (results.sandbox, sandbox_section),
    )
    for part, section in sections:
        if part is not None:
            lines += section(part)
    if results.handler is not None:
        lines += ["![throughput per case at each round trip](throughput.png)", ""]
    return "\n".join(lines)


def plot(h: HandlerResults, path: Path = PLOT) -> None:
    """Grouped bars: records/s of every case, one bar per round trip, on a log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(dict.fromkeys(r.case.label for r in h.results))
    width = 0.8 / len(RTTS_MS)
    figure, axes = plt.subplots(figsize=(11, 5))
    for n, rtt in enumerate(RTTS_MS):
        rates = [h.rate(label, rtt) for label in labels]
        offsets = [i + (n - (len(RTTS_MS) - 1) / 2) * width for i in range(len(labels))]
        bars = axes.bar(offsets, rates, width, label=f"RTT {rtt:.0f} ms")
        axes.bar_label(bars, labels=[f"{rate:,.0f}" for rate in rates], fontsize=7, rotation=90, padding=2)
    axes.set_yscale("log")
    axes.set_ylim(top=max(r.records_per_second for r in h.results) * 3)  # room for the bar labels
    axes.set_ylabel("records per second (log)")
    axes.set_xticks(range(len(labels)), labels, rotation=25, ha="right")
    axes.set_title(
        f"Handler by write mode and key spread, and the seed's baselines: {BATCH_SIZE} records per invocation"
    )
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write(results: RunResults, started: datetime, seconds: float, command: str) -> None:
    RESULTS.write_text(render(results, started, seconds, command) + "\n", encoding="utf-8")
    if results.handler is not None:
        plot(results.handler)


def now() -> datetime:
    return datetime.now(UTC)
