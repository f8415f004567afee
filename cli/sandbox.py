"""`tributary sandbox`: every tenant's pipeline on this machine, from the same program, with live progress."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from components.config import TenantFileError, load_tenant
from components.naming import DEFAULT_STACK
from sandbox import traffic
from sandbox.deploy import Clients, DeployError, Deployment
from sandbox.faults import FaultSpecError, parse_faults
from sandbox.report import SessionReport, build_report, drain_summary
from sandbox.runner import Sandbox, SandboxOptions, partition_key_for

app = typer.Typer(help="Run every tenant's pipeline on this machine against an AWS emulator.", no_args_is_help=False)
out = Console()


def _progress_table(sandbox: Sandbox) -> Table:
    table = Table(title="tributary sandbox", title_justify="left")
    for column in (
        "tenant",
        "produced",
        "processed",
        "written",
        "duplicates",
        "stale",
        "failure queue",
        "iterator age",
        "archived rows",
    ):
        table.add_column(column, justify="right" if column != "tenant" else "left")
    for name, run in sorted(sandbox.runs.items()):
        stats = run.esm.stats
        produced = len(run.manifest.records) if run.manifest else "…"
        archived = run.firehose.stats.rows_archived if run.firehose else "-"
        to_queue = int(sandbox.totals(name, "RecordsInvalid")) + stats.records_to_destination
        table.add_row(
            name,
            str(produced),
            str(stats.records_delivered),
            str(int(sandbox.totals(name, "RecordsWritten"))),
            str(int(sandbox.totals(name, "DuplicatesSkipped"))),
            str(int(sandbox.totals(name, "StaleSkipped"))),
            str(to_queue),
            f"{stats.iterator_age_ms / 1000:.1f} s",
            str(archived),
        )
    return table


def _print_report(report: SessionReport) -> None:
    table = Table(title="summary (read back from the emulator)", title_justify="left")
    columns = ("tenant", "mode", "produced", "valid", "dups", "invalid", "items", "queue", "archived", "unaccounted")
    for column in columns:
        table.add_column(column, justify="left" if column in ("tenant", "mode") else "right")
    for tenant in report.tenants:
        counts = (
            tenant.produced,
            tenant.valid,
            tenant.duplicates,
            tenant.invalid,
            tenant.table_items,
            tenant.failure_messages,
            tenant.archived_rows,
            len(tenant.unaccounted),
        )
        table.add_row(tenant.tenant, tenant.write_mode, *(str(count) for count in counts))
    out.print(table)
    out.print(f"{report.produced} records in {report.seconds:.1f} s: {report.events_per_second:.0f} events/s processed")
    for tenant in report.tenants:
        out.print(f"{tenant.tenant}: alarms in ALARM: {', '.join(tenant.alarms_firing) or 'none'}", soft_wrap=True)
        if tenant.archive_location:
            out.print(f"{tenant.tenant}: archive at {tenant.archive_location}", soft_wrap=True)
    if report.query_hint:
        out.print(report.query_hint, soft_wrap=True, markup=False)
    for tenant in report.tenants:
        for problem in tenant.unaccounted[:5]:
            out.print(f"[red]{tenant.tenant}: unaccounted: {problem}[/red]", soft_wrap=True)


@app.callback(invoke_without_command=True)
def run(
    ctx: typer.Context,
    project: Annotated[Path, typer.Option("--project", help="The project folder.")] = Path("."),
    stack: Annotated[str, typer.Option("--stack", "-s")] = DEFAULT_STACK,
    endpoint_url: Annotated[str | None, typer.Option(help="An emulator already running (moto, LocalStack).")] = None,
    tenant: Annotated[list[str] | None, typer.Option("--tenant", help="Only these tenants (repeatable).")] = None,
    events: Annotated[int, typer.Option(min=1, max=1_000_000, help="Events per tenant.")] = 1000,
    rate: Annotated[float, typer.Option(min=0, help="Events/s per tenant; 0 = as fast as possible.")] = 0.0,
    duplicates: Annotated[float, typer.Option(min=0, max=100, help="% of events sent twice.")] = 5.0,
    invalid: Annotated[float, typer.Option(min=0, max=100, help="% poison pills.")] = 2.0,
    out_of_order: Annotated[float, typer.Option("--out-of-order", min=0, max=100, help="% reordered.")] = 5.0,
    faults: Annotated[str, typer.Option(help="throttle=PCT,crash=PCT")] = "",
    time_scale: Annotated[float, typer.Option(min=0.001, max=1.0, help="Shrinks windows and buffer intervals.")] = 0.02,
    seed: Annotated[int, typer.Option(help="Seed for traffic and faults.")] = 7,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for the pipelines to drain.")] = 600.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Deploy every tenant into an emulator, stream synthetic traffic through it, and account for every record."""
    if ctx.invoked_subcommand is not None:
        return
    try:
        fault_plan = parse_faults(faults, seed)
    except FaultSpecError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    options = SandboxOptions(
        events=events,
        rate=rate,
        duplicates_pct=duplicates,
        invalid_pct=invalid,
        out_of_order_pct=out_of_order,
        faults=fault_plan,
        time_scale=time_scale,
        seed=seed,
        work_dir=project / ".sandbox",
    )
    try:
        with Sandbox(project, stack, options, endpoint_url=endpoint_url, tenants=tenant) as sandbox:
            if not sandbox.runs:
                typer.echo(f"stack {stack!r} selects no tenants", err=True)
                raise typer.Exit(1)
            drained = _run_session(sandbox, timeout, live=not as_json)
            report = build_report(sandbox)
    except TenantFileError as error:
        for line in error.problems:
            typer.echo(line, err=True)
        raise typer.Exit(1) from None
    except DeployError as error:
        typer.echo(f"the emulator refused a resource: {error}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("interrupted: the emulator and workers are stopped", err=True)
        raise typer.Exit(130) from None
    if as_json:
        print(json.dumps(report.as_dict(), indent=1, sort_keys=True))
    else:
        _print_report(report)
    if not drained:
        typer.echo(f"the pipelines did not drain within {timeout:.0f} s", err=True)
    if not drained or report.unaccounted:
        raise typer.Exit(1)


def _run_session(sandbox: Sandbox, timeout: float, live: bool) -> bool:
    if not live:
        sandbox.produce()
        return sandbox.drain(timeout)
    with Live(_progress_table(sandbox), console=out, refresh_per_second=4) as display:

        def refresh() -> None:
            display.update(_progress_table(sandbox))

        sandbox.produce(on_progress=refresh)
        drained = sandbox.drain(timeout, on_progress=refresh)
        refresh()
    return drained


# --------------------------------------------------------------------------------- longer sessions

WorkDir = Annotated[Path, typer.Option("--project", help="The project folder.")]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Loopback address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 4566,
) -> None:
    """Run the emulator in the foreground (Ctrl-C stops it); point deploy/send/drain at it."""
    import threading

    from sandbox.emulator import Emulator

    emulator = Emulator(host=host, port=port)
    try:
        url = emulator.start()
    except OSError as error:
        typer.echo(f"cannot listen on {host}:{port}: {error.strerror or error}", err=True)
        raise typer.Exit(1) from None
    out.print(f"emulator listening on {url}; in another shell: tributary sandbox deploy --endpoint-url {url}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(1)


@app.command()
def deploy(
    endpoint_url: Annotated[str, typer.Option(help="The emulator to deploy into.")],
    project: WorkDir = Path("."),
    stack: Annotated[str, typer.Option("--stack", "-s")] = DEFAULT_STACK,
) -> None:
    """Deploy every tenant the stack selects into the emulator; `send` and `drain` use what it records."""
    from components.stack import read_stack_file
    from sandbox.deploy import deploy as deploy_into

    try:
        deployment = deploy_into(project, stack, read_stack_file(project, stack), endpoint_url)
    except TenantFileError as error:
        _fail("\n".join(error.problems))
    except DeployError as error:
        _fail(f"the emulator refused a resource: {error}")
    path = project / ".sandbox" / "deployment.json"
    deployment.save(path)
    (project / ".sandbox" / "positions.json").unlink(missing_ok=True)
    for tenant in deployment.tenants():
        outputs = deployment.evaluation.outputs[tenant]
        out.print(f"{tenant}: stream {outputs['stream_name']}, table {outputs['table_name']}")
    out.print(f"recorded in {path}")


@app.command()
def send(
    tenant: Annotated[str, typer.Argument(help="The tenant whose stream receives the events.")],
    file: Annotated[Path, typer.Option("--file", "-f", help="One event per line (JSON lines).")],
    project: WorkDir = Path("."),
) -> None:
    """Put each line of FILE on TENANT's stream, as is (invalid lines become poison pills)."""
    try:
        lines = [line for line in file.read_bytes().splitlines() if line.strip()]
        deployment = Deployment.load(project / ".sandbox" / "deployment.json")
        if tenant not in deployment.tenants():
            raise DeployError(f"{tenant}: not deployed (deployed: {', '.join(deployment.tenants()) or 'none'})")
        tenant_file = load_tenant(project / "tenants" / f"{tenant}.yaml", deployment.evaluation.stack)
    except OSError as error:
        _fail(f"{file}: cannot be read ({error.strerror or error})")
    except (DeployError, TenantFileError) as error:
        _fail(str(error))
    records = [
        traffic.ProducedRecord(index=i, data=line, partition_key=partition_key_for(tenant_file, line, i), kind="given")
        for i, line in enumerate(lines)
    ]
    kinesis = Clients(deployment.endpoint_url, deployment.region).kinesis
    traffic.put_records(kinesis, deployment.evaluation.outputs[tenant]["stream_name"], records)
    out.print(f"sent {len(records)} record(s) to {tenant}; `tributary sandbox drain` processes them")


@app.command()
def drain(
    project: WorkDir = Path("."),
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for the pipelines to drain.")] = 300.0,
    time_scale: Annotated[float, typer.Option(min=0.001, max=1.0)] = 0.02,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run every deployed mapping and delivery until all records sent so far are processed and archived."""
    try:
        deployment = Deployment.load(project / ".sandbox" / "deployment.json")
        options = SandboxOptions(time_scale=time_scale, work_dir=project / ".sandbox")
        with Sandbox(project, deployment.evaluation.stack, options, deployment.endpoint_url, None, deployment) as sb:
            drained = sb.drain(timeout)
            summary = drain_summary(sb)
    except (DeployError, TenantFileError) as error:
        _fail(str(error))
    if as_json:
        print(json.dumps(summary, indent=1, sort_keys=True))
    else:
        table = Table(title="drained (read back from the emulator)", title_justify="left")
        for column in ("tenant", "processed now", "table items", "failure queue", "archived rows", "alarms in ALARM"):
            table.add_column(column)
        for row in summary["tenants"]:
            table.add_row(
                *(str(row[key]) for key in ("tenant", "processed", "table_items", "failure_messages", "archived_rows")),
                ", ".join(row["alarms_firing"]) or "none",
            )
        out.print(table)
    if not drained:
        _fail(f"the pipelines did not drain within {timeout:.0f} s")
