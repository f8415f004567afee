"""`tributary cost`: what each tenant the stack selects costs a month, by component, and with no traffic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from components.config import TenantFile, TenantFileError, load_tenants, tenant_files
from components.naming import DEFAULT_STACK
from components.stack import StackSettings, read_named_stack, select_tenants, stack_file
from ops.article import TOTAL_RANGE, ArticleComparison, article_comparison
from ops.cost import DEFAULT_TRAFFIC, Estimate, Traffic, monthly_estimate, notes
from ops.prices import PriceTable, load_prices

out = Console()


def cost(
    tenant: Annotated[
        str | None, typer.Argument(help="One tenant's name; default every tenant the stack selects.")
    ] = None,
    events_per_day: Annotated[
        float, typer.Option("--events-per-day", help="Average events a day, per tenant.")
    ] = DEFAULT_TRAFFIC.events_per_day,
    record_bytes: Annotated[
        int, typer.Option("--record-bytes", help="Bytes per record (as produced to the stream).")
    ] = DEFAULT_TRAFFIC.record_bytes,
    duration_ms: Annotated[
        float, typer.Option("--duration-ms", help="Milliseconds one invocation runs (measure it; else the article's).")
    ] = DEFAULT_TRAFFIC.duration_ms,
    article: Annotated[
        bool, typer.Option("--article", help="Also price the seed article's example, row by row, beside Tributary's.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the estimate as JSON.")] = False,
    project: Annotated[Path, typer.Option("--project", help="The project folder (Pulumi.yaml, tenants/).")] = Path("."),
    stack: Annotated[str, typer.Option("--stack", "-s", help="The stack whose tenants are priced.")] = DEFAULT_STACK,
) -> None:
    """Estimate each tenant's monthly AWS cost by component, and its idle floor, from a dated list-price table."""
    traffic = Traffic(events_per_day=events_per_day, record_bytes=record_bytes, duration_ms=duration_ms)
    _refuse([f"--{option}: {message}" for option, message in traffic.problems()])
    try:
        settings = read_named_stack(project, stack)
        tenants = load_tenants(tenant_files(project / settings.tenants_dir), stack)
    except TenantFileError as error:
        _refuse(error.problems)
        return
    chosen = _chosen(tenants, settings, project, stack, tenant)
    prices = load_prices()
    estimates = [monthly_estimate(one, settings, traffic, prices) for one in chosen]
    comparison = article_comparison(prices) if article else None
    at_article = [monthly_estimate(one, settings, DEFAULT_TRAFFIC, prices) for one in chosen] if article else []
    if as_json:
        print(json.dumps(_as_json(estimates, traffic, prices, comparison, at_article), indent=1))
        return
    _render(estimates, traffic, prices)
    if comparison is not None:
        _render_article(comparison, at_article)


def _refuse(problems: list[str]) -> None:
    if problems:
        for line in problems:
            typer.echo(line, err=True)  # one unwrapped line per problem
        raise typer.Exit(code=1)


def _chosen(
    tenants: list[TenantFile], settings: StackSettings, project: Path, stack: str, name: str | None
) -> list[TenantFile]:
    selected = select_tenants(tenants, settings.tenants)
    folder = f"{project / settings.tenants_dir}/"
    if name is None:
        if not selected:
            source = stack_file(project, stack)
            _refuse([f"{source}: tributary:tenants: {settings.tenants} selects no tenant in {folder}"])
        return selected
    chosen = [one for one in selected if one.tenant == name]
    if not chosen:
        known = sorted(one.tenant for one in selected)
        why = (
            f"not selected by stack {stack!r} (tributary:tenants: {settings.tenants})"
            if any(one.tenant == name for one in tenants)
            else f"no such tenant in {folder}"
        )
        _refuse([f"tenant {name!r}: {why}; the stack selects: {', '.join(known) or 'none'}"])
    return chosen


def _as_json(
    estimates: list[Estimate],
    traffic: Traffic,
    prices: PriceTable,
    comparison: ArticleComparison | None,
    at_article: list[Estimate],
) -> dict:
    document = {
        "prices": {
            "as_of": prices.as_of.isoformat(),
            "region": prices.region,
            "currency": prices.currency,
            "hours_per_month": prices.hours_per_month,
            "sources": prices.sources(),
        },
        "traffic": traffic.as_json(),
        "tenants": [estimate.as_json() for estimate in estimates],
        "total_usd": round(sum(estimate.total for estimate in estimates), 4),
        "idle_usd": round(sum(estimate.idle for estimate in estimates), 4),
        "notes": notes(estimates, prices),
    }
    if comparison is not None:
        document["article"] = {
            **comparison.as_json(),
            "traffic": DEFAULT_TRAFFIC.as_json(),
            "tributary_total_usd": {estimate.tenant: round(estimate.total, 4) for estimate in at_article},
        }
    return document


def _usd(value: float) -> str:
    return f"{value:,.2f}"


def _render(estimates: list[Estimate], traffic: Traffic, prices: PriceTable) -> None:
    out.print(
        f"Monthly estimate at {traffic.events_per_day:,.0f} events/day of {traffic.record_bytes:,} bytes, "
        f"{traffic.duration_ms:g} ms per invocation; {prices.region} list prices as of {prices.as_of.isoformat()}",
        highlight=False,
    )
    for estimate in estimates:
        stream = estimate.stream_mode.replace("_", "-")
        title = f"{estimate.tenant}: {stream} stream, {estimate.write_mode} writes"
        table = Table(title=title, box=box.SIMPLE_HEAD)
        table.add_column("component")
        table.add_column("usage")
        table.add_column("monthly $", justify="right")
        table.add_column("idle $", justify="right")
        idle = {component.name: component.monthly_usd for component in estimate.idle_components}
        for component in estimate.components:
            table.add_row(component.name, component.usage, _usd(component.monthly_usd), _usd(idle[component.name]))
        table.add_section()
        table.add_row("total", "", _usd(estimate.total), _usd(estimate.idle), style="bold")
        out.print(table)
        for warning in estimate.warnings:
            out.print(f"[yellow]warning[/yellow]: {warning}", highlight=False)
    if len(estimates) > 1:
        summary = Table(title="all tenants", box=box.SIMPLE_HEAD)
        summary.add_column("tenant")
        summary.add_column("monthly $", justify="right")
        summary.add_column("idle $", justify="right")
        for estimate in estimates:
            summary.add_row(estimate.tenant, _usd(estimate.total), _usd(estimate.idle))
        summary.add_section()
        summary.add_row(
            "total", _usd(sum(e.total for e in estimates)), _usd(sum(e.idle for e in estimates)), style="bold"
        )
        out.print(summary)
    for line in notes(estimates, prices):
        out.print(f"- {line}", highlight=False)


def _render_article(comparison: ArticleComparison, at_article: list[Estimate]) -> None:
    table = Table(title="the seed article's example, priced today", box=box.SIMPLE_HEAD)
    for column in ("component", "article's usage", "article $", "priced as", "today $"):
        table.add_column(column, justify="right" if column.endswith("$") else "left")
    for row in comparison.rows:
        figure = f"{row.article_low:g}" + (f"-{row.article_high:g}" if row.article_high != row.article_low else "")
        table.add_row(row.component, row.article_usage, figure, row.reading, _usd(row.monthly_usd))
    table.add_section()
    low, high = TOTAL_RANGE
    table.add_row("subtotal", "", f"{low:g}-{high:g}", "", _usd(comparison.subtotal), style="bold")
    out.print(table)
    for row in comparison.rows:
        out.print(f"- {row.component}: {row.note}", highlight=False)
    verdict = "inside" if comparison.in_range else "outside"
    subtotal = _usd(comparison.subtotal)
    out.print(f"The four components the article prices come to ${subtotal}, {verdict} its ${low:g}-{high:g}.")
    if at_article:
        totals = ", ".join(f"{estimate.tenant} ${_usd(estimate.total)}" for estimate in at_article)
        out.print(f"Tributary at the same traffic, every component, each tenant's settings: {totals}.", highlight=False)
