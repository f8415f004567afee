"""`tributary sandbox`: every tenant's pipeline on this machine, from the same program, with live progress."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.live import Live

from cli import render
from cli.sandbox_render import (
    Phases,
    draining,
    print_drain,
    print_report,
    producing,
    progress_columns,
    say,
)
from components.config import TenantFileError, load_tenant
from components.naming import DEFAULT_STACK
from components.stack import read_stack_file
from sandbox.engines.emulator import EmulatorClients
from sandbox.engines.faults import FaultSpecError, parse_faults
from sandbox.session import traffic
from sandbox.session.deploy import START_OVER, DeployError, Deployment, check_endpoint
from sandbox.session.paths import SandboxPaths
from sandbox.session.report import SessionReport, build_report, drain_summary
from sandbox.session.runner import Sandbox, SandboxOptions
from sandbox.session.synthetic import ProducedRecord

HEARTBEAT_SECONDS = 10.0

app = typer.Typer(
    help="Run every tenant's pipeline on this machine against an AWS emulator. Alone, it runs a whole session: "
    "deploy, produce, drain, report.",
    epilog="The progress and the summary count in these words: " + "; ".join(render.legend(list(render.MEASURES))),
    no_args_is_help=False,
    # `sandbox` alone runs the session, so the subcommand is optional.
    subcommand_metavar="[COMMAND [ARGS]...]",
)
out = Console()
err = Console(stderr=True)


def package_version() -> str:
    try:
        return version("tributary")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _print_version(requested: bool) -> None:
    if requested:
        typer.echo(f"tributary {package_version()}")
        raise typer.Exit()


# --------------------------------------------------------------------------------- the session


def _run_session(sandbox: Sandbox, phases: Phases, timeout: float) -> bool:
    options = sandbox.options
    produce = (
        f"{options.events} events per tenant ({options.duplicates_pct:g}% resent, {options.invalid_pct:g}% poison "
        f"pills, {options.out_of_order_pct:g}% out of order"
        + (f", at {options.rate:g}/s" if options.rate else ", as fast as the emulator takes them")
        + ")"
    )
    drain = f"until every record is processed and archived (at most {timeout:.0f} s)"
    if not phases.console.is_terminal:
        phases.start("produce", produce, lambda: producing(sandbox))
        sandbox.produce()
        phases.start("drain", drain, lambda: draining(sandbox))
        return sandbox.drain(timeout)
    width = phases.console.width
    with Live(console=phases.console, refresh_per_second=4, transient=True) as display:

        def refresh() -> None:
            display.update(render.measures_view("progress", progress_columns(sandbox), width))

        phases.start("produce", produce)
        sandbox.produce(on_progress=refresh)
        phases.start("drain", drain)
        drained = sandbox.drain(timeout, on_progress=refresh)
        refresh()
    return drained


ProjectOption = Annotated[Path, typer.Option("--project", help="The project folder (Pulumi.yaml, tenants/).")]
StackOption = Annotated[str, typer.Option("--stack", "-s", help="The stack whose settings and tenants apply.")]
TimeScaleOption = Annotated[
    float,
    typer.Option(min=0.001, max=1.0, help="Shrinks batching windows, retry backoffs and Firehose buffer intervals."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the summary as JSON, for machines.")]


@app.callback(invoke_without_command=True)
def run(
    ctx: typer.Context,
    project: ProjectOption = Path("."),
    stack: StackOption = DEFAULT_STACK,
    endpoint_url: Annotated[
        str | None, typer.Option(help="An emulator already running (moto, LocalStack); default: start one.")
    ] = None,
    tenant: Annotated[list[str] | None, typer.Option("--tenant", help="Only these tenants (repeatable).")] = None,
    events: Annotated[int, typer.Option(min=1, max=1_000_000, help="Events per tenant.")] = 1000,
    rate: Annotated[float, typer.Option(min=0, help="Events/s per tenant; 0 = as fast as possible.")] = 0.0,
    duplicates: Annotated[float, typer.Option(min=0, max=100, help="% of events sent twice.")] = 5.0,
    invalid: Annotated[float, typer.Option(min=0, max=100, help="% poison pills.")] = 2.0,
    out_of_order: Annotated[float, typer.Option("--out-of-order", min=0, max=100, help="% reordered.")] = 5.0,
    faults: Annotated[
        str, typer.Option(help="Injected faults: throttle=PCT (DynamoDB calls), crash=PCT (invocations).")
    ] = "",
    time_scale: TimeScaleOption = 0.02,
    seed: Annotated[int, typer.Option(help="Seed for traffic and faults.")] = 7,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for the pipelines to drain.")] = 600.0,
    heartbeat: Annotated[
        float, typer.Option(min=0.1, help="Seconds between progress lines when the output is not a terminal.")
    ] = HEARTBEAT_SECONDS,
    as_json: JsonOption = False,
    show_version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_print_version, help="Print the version and exit."),
    ] = False,
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
        work_dir=SandboxPaths.for_project(project).root,
    )
    # With --json, stdout carries the JSON alone; phases and heartbeats go to stderr.
    progress = err if as_json else out
    where = f"the emulator at {endpoint_url}" if endpoint_url else "an emulator of its own on 127.0.0.1"
    with Phases(progress, heartbeat) as phases, _refusals():
        if endpoint_url is not None:
            check_endpoint(endpoint_url)
        phases.start("deploy", f"stack {stack!r} into {where}", lambda: "creating each tenant's resources")
        with Sandbox(project, stack, options, endpoint_url=endpoint_url, tenants=tenant) as sandbox:
            if not sandbox.runs:
                _fail(f"stack {stack!r} selects no tenants")
            phases.done(f"{len(sandbox.runs)} tenants deployed: {', '.join(sorted(sandbox.runs))}")
            drained = _run_session(sandbox, phases, timeout)
            phases.start(
                "report",
                "reading the table, the failure queue and the archive back from the emulator",
                lambda: "reading",
            )
            report = build_report(sandbox)
            phases.quiet()
            # Printed before the workers and the emulator stop, which takes a while.
            if as_json:
                print(json.dumps(report.as_dict(), indent=1, sort_keys=True))
            else:
                print_report(out, report)
                _example_query(sandbox, report)
    if not drained:
        typer.echo(f"the pipelines did not drain within {timeout:.0f} s", err=True)
    if not drained or report.unaccounted:
        raise typer.Exit(1)


EXAMPLE_QUERY = "select year, month, day, count(*) as rows from archive group by all order by all"


def _example_query(sandbox: Sandbox, report: SessionReport) -> None:
    """The first archived tenant's rows per day, asked with `tributary query`'s own code while the emulator is up."""
    import boto3

    from cli.day_two import rows_table
    from ops.query import QueryError, run_query
    from ops.target import Target, deployed_tenant
    from sandbox.engines.emulator import DUMMY_CREDENTIALS

    archived = [t.tenant for t in report.tenants if t.archived_rows]
    if not archived:
        return
    deployment = sandbox.deployment
    session = boto3.session.Session(region_name=deployment.region, **DUMMY_CREDENTIALS)
    target = Target(deployed_tenant(deployment.evaluation, archived[0]), session, deployment.endpoint_url)
    say(out, f'example query: tributary query {archived[0]} "{EXAMPLE_QUERY}"')
    try:
        result = run_query(target, EXAMPLE_QUERY)
    except QueryError as error:
        say(out, f"the example query failed: {error}", style="red")
        return
    out.print(rows_table(result))
    say(out, f"in Athena: {result.archive.athena_table}; with `tributary sandbox serve` and `deploy`, add --sandbox")


@contextmanager
def _refusals() -> Iterator[None]:
    """Bad input and an unusable emulator end the command with their one-line reasons, never a traceback."""
    try:
        yield
    except TenantFileError as error:
        for line in error.problems:
            typer.echo(line, err=True)
        raise typer.Exit(1) from None
    except DeployError as error:
        _fail(str(error))
    except KeyboardInterrupt:
        typer.echo("interrupted: the emulator and workers are stopped", err=True)
        raise typer.Exit(130) from None


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(1)


# --------------------------------------------------------------------------------- longer sessions


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Loopback address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 4566,
) -> None:
    """Run the emulator in the foreground (Ctrl-C stops it); point deploy/send/drain at it."""
    from sandbox.engines.emulator import Emulator

    emulator = Emulator(host=host, port=port)
    try:
        url = emulator.start()
    except OSError as error:
        _fail(f"cannot listen on {host}:{port}: {error.strerror or error}")
    out.print(
        f"emulator listening on {url}; in another shell: tributary sandbox deploy --endpoint-url {url}", soft_wrap=True
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


@app.command()
def deploy(
    endpoint_url: Annotated[str, typer.Option(help="The emulator to deploy into, e.g. http://127.0.0.1:4566.")],
    project: ProjectOption = Path("."),
    stack: StackOption = DEFAULT_STACK,
) -> None:
    """Deploy every tenant the stack selects into the emulator; `send` and `drain` use what it records."""
    from sandbox.session.deploy import deploy as deploy_into

    with _refusals():
        deployment = deploy_into(project, stack, read_stack_file(project, stack), endpoint_url)
    paths = SandboxPaths.for_project(project)
    path = paths.deployment_record
    deployment.save(path)
    paths.positions.unlink(missing_ok=True)  # a new deployment: nothing read yet
    for tenant in deployment.tenants():
        outputs = deployment.evaluation.outputs[tenant]
        out.print(f"{tenant}: stream {outputs['stream_name']}, table {outputs['table_name']}", soft_wrap=True)
    out.print(f"recorded in {path}", soft_wrap=True)


def _numbered_lines(file: Path) -> list[tuple[int, bytes]]:
    """(line number, bytes) of every non-blank line; numbers count blank lines too, as an editor shows them."""
    return [(number, line) for number, line in enumerate(file.read_bytes().splitlines(), 1) if line.strip()]


@app.command()
def send(
    tenant: Annotated[str, typer.Argument(help="The tenant whose stream receives the events.")],
    file: Annotated[Path, typer.Option("--file", "-f", help="One event per line (JSON lines).")],
    project: ProjectOption = Path("."),
) -> None:
    """Put each line of FILE on TENANT's stream, as is (invalid lines become poison pills)."""
    record_path = SandboxPaths.for_project(project).deployment_record
    with _refusals():
        try:
            lines = _numbered_lines(file)
        except OSError as error:
            _fail(f"{file}: cannot be read ({error.strerror or error})")
        deployment = Deployment.load(record_path)
        if tenant not in deployment.tenants():
            _fail(f"{tenant}: not deployed (deployed: {', '.join(deployment.tenants()) or 'none'})")
        stack = deployment.evaluation.stack
        tenant_file = load_tenant(project / read_stack_file(project, stack).tenants_dir / f"{tenant}.yaml", stack)
        records = [
            ProducedRecord(
                index=n, data=line, partition_key=traffic.partition_key_for(tenant_file, line, n), kind="given"
            )
            for n, line in lines
        ]
        problems = [f"{file}:{r.index}: {problem}" for r in records if (problem := traffic.record_limit_problem(r))]
        if problems:
            _fail("\n".join([*problems, f"{file}: nothing sent"]))
        deployment.check_live(record_path)
        stream = deployment.evaluation.outputs[tenant]["stream_name"]
        try:
            traffic.put_records(EmulatorClients(deployment.endpoint_url, deployment.region).kinesis, stream, records)
        except (ClientError, BotoCoreError, traffic.PutError) as error:
            _fail(f"{tenant}: the emulator at {deployment.endpoint_url} refused the records ({error})")
    out.print(f"sent {len(records)} record(s) to {tenant}; `tributary sandbox drain` processes them")


@app.command()
def drain(
    project: ProjectOption = Path("."),
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for the pipelines to drain.")] = 300.0,
    time_scale: TimeScaleOption = 0.02,
    as_json: JsonOption = False,
) -> None:
    """Run every deployed mapping and delivery until all records sent so far are processed and archived."""
    paths = SandboxPaths.for_project(project)
    record_path = paths.deployment_record
    with _refusals():
        deployment = Deployment.load(record_path)
        deployment.check_live(record_path)
        options = SandboxOptions(time_scale=time_scale, work_dir=paths.root)
        sandbox = Sandbox(project, deployment.evaluation.stack, options, deployment.endpoint_url, None, deployment)
        try:
            sandbox.start()
        except (KeyError, ValueError, TypeError, ClientError, BotoCoreError) as error:
            # The record names resources or settings the emulator or the engines cannot resume from.
            message = f"cannot resume what it records ({type(error).__name__}: {error})"
            raise DeployError(f"{record_path}: {message}; {START_OVER}") from None
        try:
            drained = sandbox.drain(timeout)
            summary = drain_summary(sandbox)
        finally:
            sandbox.close()
    if as_json:
        print(json.dumps(summary, indent=1, sort_keys=True))
    else:
        print_drain(out, summary)
    if not drained:
        _fail(f"the pipelines did not drain within {timeout:.0f} s")
