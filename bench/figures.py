"""The figures the benchmark reports, as data: each with the value measured before this work, its target, and
how to read it from a run's results. A figure whose part of the benchmark did not run is left out.

Throughput comparisons are at the 5 ms round trip (a DynamoDB call from Lambda in the same region); the 0 ms
cases, in the detail tables, show our side's cost alone.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.handler_bench import BASELINE_LABELS, HandlerResults, handler_label
from bench.imports_bench import ImportResults
from bench.plan_bench import PlanResults
from bench.sandbox_bench import SandboxResults

RTT_MS = 5.0
EVENTS = handler_label("events", "uniform")
BATCH_WRITE = BASELINE_LABELS["batch-write-25"]
CONDITIONAL_PUT = BASELINE_LABELS["conditional-put"]


@dataclass
class RunResults:
    handler: HandlerResults | None = None
    imports: ImportResults | None = None
    plan: PlanResults | None = None
    sandbox: SandboxResults | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Figure:
    name: str
    today: str  # as measured before this work (the figures)
    target: str
    part: str  # the RunResults attribute it reads
    value: Callable[[Any], float]
    unit: str
    meets: Callable[[float], bool]

    def measured(self, results: RunResults) -> float | None:
        part = getattr(results, self.part)
        return None if part is None else self.value(part)


def _at_least(bound: float) -> Callable[[float], bool]:
    return lambda value: operator.ge(value, bound)


def _at_most(bound: float) -> Callable[[float], bool]:
    return lambda value: operator.le(value, bound)


def _ratio(label: str, other: str) -> Callable[[HandlerResults], float]:
    return lambda h: h.rate(label, RTT_MS) / h.rate(other, RTT_MS)


TODAY_HOT_KEY_RATE = 160  # records/s, latest and counters alike

FIGURES = (
    Figure(
        "`events` throughput vs (a) batch-write-25",
        "1.6×",
        "≥ 3× (aim 5×)",
        "handler",
        _ratio(EVENTS, BATCH_WRITE),
        "×",
        _at_least(3),
    ),
    Figure(
        "`events` throughput vs (b) conditional-put",
        "24×",
        "≥ 50×",
        "handler",
        _ratio(EVENTS, CONDITIONAL_PUT),
        "×",
        _at_least(50),
    ),
    Figure(
        "handler CPU per record, `events`",
        "~206 µs",
        "≤ 100 µs (aim 50)",
        "handler",
        lambda h: h.find(EVENTS, RTT_MS).cpu_us_per_record,
        "µs",
        _at_most(100),
    ),
    Figure(
        "`latest`, one hot key (500 records, one entity)",
        f"~{TODAY_HOT_KEY_RATE} rec/s",
        f"≥ {10 * TODAY_HOT_KEY_RATE:,} rec/s (10× today)",
        "handler",
        lambda h: h.rate(handler_label("latest", "hot"), RTT_MS),
        "rec/s",
        _at_least(10 * TODAY_HOT_KEY_RATE),
    ),
    Figure(
        "`counters`, one hot key (500 records, one entity)",
        f"~{TODAY_HOT_KEY_RATE} rec/s",
        f"≥ {10 * TODAY_HOT_KEY_RATE:,} rec/s (10× today)",
        "handler",
        lambda h: h.rate(handler_label("counters", "hot"), RTT_MS),
        "rec/s",
        _at_least(10 * TODAY_HOT_KEY_RATE),
    ),
    Figure(
        "`latest`, uniform keys, vs `events`",
        "0.15×",
        "≥ 0.5×",
        "handler",
        _ratio(handler_label("latest", "uniform"), EVENTS),
        "×",
        _at_least(0.5),
    ),
    Figure(
        "`counters`, uniform keys, vs `events`",
        "0.15×",
        "≥ 0.5×",
        "handler",
        _ratio(handler_label("counters", "uniform"), EVENTS),
        "×",
        _at_least(0.5),
    ),
    Figure(
        "handler import vs `import boto3`, with Lambda's env vars",
        "1.53×",
        "≤ 1.2×",
        "imports",
        lambda i: i.ratio("in Lambda"),
        "×",
        _at_most(1.2),
    ),
    Figure(
        "plan CPU per tenant (largest size)",
        "~150 ms",
        "≤ 100 ms",
        "plan",
        lambda p: p.largest.cpu_ms_per_tenant,
        "ms",
        _at_most(100),
    ),
    Figure(
        "plan memory per tenant (largest size)",
        "3.4 MB",
        "≤ 1.5 MB",
        "plan",
        lambda p: p.largest.mb_per_tenant,
        "MB",
        _at_most(1.5),
    ),
    Figure(
        "plan linearity: CPU per tenant, largest size vs 25",
        "~1.5× (500 tenants: 111 s)",
        "≤ 1.2× (linear)",
        "plan",
        lambda p: p.linearity,
        "×",
        _at_most(1.2),
    ),
    Figure(
        "sandbox, `make demo`",
        "47 events/s",
        "≥ 300 events/s",
        "sandbox",
        lambda s: s.events_per_second,
        "events/s",
        _at_least(300),
    ),
    Figure(
        "sandbox vs the emulator's raw put rate, same run",
        "not measured",
        "≥ 50%",
        "sandbox",
        lambda s: s.share_of_raw * 100,
        "%",
        _at_least(50),
    ),
)


def formatted(value: float, unit: str) -> str:
    if unit == "×":
        return f"{value:.2f}×"
    if unit in ("rec/s", "events/s"):
        return f"{value:,.0f} {unit}"
    if unit == "%":
        return f"{value:.1f}%"
    return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"


def figure_rows(results: RunResults) -> list[tuple[str, str, str, str, str]]:
    """(figure, today, measured, target, met/missed) for every figure whose part ran."""
    rows = []
    for figure in FIGURES:
        value = figure.measured(results)
        if value is not None:
            verdict = "met" if figure.meets(value) else "missed"
            rows.append((figure.name, figure.today, formatted(value, figure.unit), figure.target, verdict))
    return rows
