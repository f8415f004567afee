"""Day-two commands on one deployed tenant, on AWS or (`--sandbox`) in the sandbox: `query` its archive,
`failures export` its poison pills, `send` records back onto its stream, `redrive` the batches its mapping gave up
on."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.table import Table

from ops.target import Target, TargetError, one_line, resolve

if TYPE_CHECKING:
    from ops.query import QueryResult

out = Console()

TenantArgument = Annotated[str, typer.Argument(help="The tenant (its file's name in tenants/).")]
ProjectOption = Annotated[Path, typer.Option("--project", help="The project folder (Pulumi.yaml, tenants/).")]
StackOption = Annotated[
    str | None,
    typer.Option("--stack", "-s", help="The stack that deploys the tenant; default dev, or the sandbox's own."),
]
SandboxOption = Annotated[
    bool, typer.Option("--sandbox", help="The tenant as `tributary sandbox deploy` deployed it, not on AWS.")
]

failures_app = typer.Typer(help="A tenant's poison pills: export them for repair (then `tributary send --file`).")


def _fail(message: str) -> None:
    typer.echo(message, err=True)  # one unwrapped line, for people and for grep
    raise typer.Exit(1)


def _note(message: str) -> None:
    typer.echo(message, err=True)


@contextmanager
def _refusals(target: Target | None = None) -> Iterator[None]:
    """Every refusal as its one line and exit 1, never a traceback."""
    from ops.failures import PillFileError
    from ops.invokers import RedriveSetupError
    from ops.query import QueryError

    try:
        yield
    except (TargetError, QueryError, RedriveSetupError) as error:
        _fail(str(error))
    except PillFileError as error:
        _fail("\n".join(error.problems))
    except (ClientError, BotoCoreError) as error:
        where = f" in {target.where}" if target is not None else ""
        _fail(f"AWS refused a call{where}: {one_line(error)}")


# --------------------------------------------------------------------------------- query


def rows_table(result: QueryResult) -> Table:
    table = Table(*result.columns)
    for row in result.rows:
        table.add_row(*("null" if value is None else str(value) for value in row))
    return table


def query(
    tenant: TenantArgument,
    sql: Annotated[str, typer.Argument(help='SQL over the view `archive`, e.g. "select count(*) from archive".')],
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as a JSON list of objects.")] = False,
    stack: StackOption = None,
    project: ProjectOption = Path("."),
    sandbox: SandboxOption = False,
) -> None:
    """SQL over TENANT's Parquet archive, with DuckDB on this machine; the Athena table is named on stderr.

    The view `archive` has the Glue table's columns and the partitions year, month, day, hour (text, as in
    Athena). An archive with no objects yet is an empty view."""
    from ops.query import run_query

    with _refusals():
        target = resolve(project, tenant, stack, sandbox)
    with _refusals(target):
        result = run_query(target, sql)
    archive = result.archive
    if as_json:
        print(json.dumps(result.as_json(), indent=1))
    elif result.columns:
        out.print(rows_table(result))
    if not result.objects:
        _note(f"no archived objects yet under {archive.location} in {target.where}: the view is empty")
    _note(f"{len(result.rows)} row(s) from {result.objects} object(s) under {archive.location}")
    _note(f"in Athena: {archive.athena_table}")


# --------------------------------------------------------------------------------- failures


@failures_app.command("export")
def export(
    tenant: TenantArgument,
    delete: Annotated[
        bool, typer.Option("--delete", help="Delete the exported messages from the queue once they are written.")
    ] = False,
    stack: StackOption = None,
    project: ProjectOption = Path("."),
    sandbox: SandboxOption = False,
) -> None:
    """Write TENANT's poison pills to stdout, one JSON line each, payloads decoded for repair.

    The messages stay in the queue unless --delete. The mapping's records of given-up batches are counted, not
    written: `tributary redrive` replays them."""
    from ops.failures import delete_messages, read_queue, write_lines

    with _refusals():
        target = resolve(project, tenant, stack, sandbox)
    queue_url = target.names.failure_queue_url
    with _refusals(target):
        sqs = target.client("sqs")
        found = read_queue(sqs, queue_url)
    try:
        written = write_lines(found.pills, sys.stdout)
    except OSError as error:
        _fail(f"{tenant}: writing the pills failed ({error.strerror or error}); nothing deleted")
    repeats = f" ({found.repeats} repeated deliveries left out)" if found.repeats else ""
    _note(f"{tenant}: exported {written} poison pill(s) from {queue_url}{repeats}")
    if found.batch_records:
        _note(
            f"{tenant}: {found.batch_records} message(s) record batches the mapping gave up on (no payload); "
            f"`tributary redrive {tenant}` replays them from the stream"
        )
    if target.names.failure_bucket:
        _note(f"{tenant}: the mapping records given-up batches in s3://{target.names.failure_bucket}/ (on_failure: s3)")
    if found.unrecognised:
        _note(f"{tenant}: {found.unrecognised} message(s) are neither pills nor batch records; left in the queue")
    if not delete:
        _note("the messages stay in the queue (hidden for its visibility timeout); --delete removes what was written")
        return
    with _refusals(target):
        failed = delete_messages(sqs, queue_url, list(found.receipts.values()))
    if failed:
        _fail(f"{tenant}: SQS did not delete {failed} of {len(found.receipts)} message(s); export again to see them")
    _note(f"{tenant}: deleted {len(found.receipts)} message(s) from the failure queue")


# --------------------------------------------------------------------------------- send


def send(
    tenant: TenantArgument,
    file: Annotated[
        Path, typer.Option("--file", "-f", help="A pill file (`tributary failures export`): one JSON line a record.")
    ],
    stack: StackOption = None,
    project: ProjectOption = Path("."),
    sandbox: SandboxOption = False,
) -> None:
    """Put each line of a pill file on TENANT's stream, under its partitionKey; any bad line refuses the file.

    A line's `payload` goes as compact JSON, its `payloadText` as UTF-8, its `payloadBase64` decoded."""
    from ops.failures import read_pill_file
    from ops.put import PutFailed, put

    with _refusals():
        records = read_pill_file(file)  # the file is checked whole before anything is resolved or sent
        target = resolve(project, tenant, stack, sandbox)
    stream = target.names.stream
    if not records:
        _note(f"{file}: no records; nothing sent")
        return
    try:
        sent = put(target.client("kinesis"), stream, records)
    except PutFailed as error:
        _fail(f"{tenant}: {stream} in {target.where} refused records after {error.sent} of {len(records)}: {error}")
    out.print(f"sent {sent} record(s) to stream {stream} (tenant {tenant}) in {target.where}", soft_wrap=True)


# --------------------------------------------------------------------------------- redrive


def redrive(
    tenant: TenantArgument,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read and count the batches and their records; invoke and delete nothing.")
    ] = False,
    drop_expired: Annotated[
        bool,
        typer.Option(
            "--drop-expired",
            help="Delete a batch's record once what the stream still holds is replayed, even if part of it is past "
            "the stream's retention (by default it is kept, and counted again each time).",
        ),
    ] = False,
    stack: StackOption = None,
    project: ProjectOption = Path("."),
    sandbox: SandboxOption = False,
) -> None:
    """Replay the batches TENANT's mapping gave up on through its own function; exit 1 if any record fails again.

    The mapping's on-failure records (the failure queue, or the failure bucket with `on_failure: s3`) name a shard
    and a sequence range; their records are read again from the stream while it holds them. A record is deleted
    once its batch is replayed; one past the stream's retention is kept, and counted, unless --drop-expired."""
    from ops.failure_records import BucketSource, QueueSource
    from ops.invokers import replay_function
    from ops.redrive import redrive as run_redrive

    with _refusals():
        target = resolve(project, tenant, stack, sandbox)
    names = target.names
    with _refusals(target), replay_function(project, target) as (settings, invoker):
        if names.failure_bucket:
            source = BucketSource(target.client("s3"), names.failure_bucket)
        else:
            source = QueueSource(target.client("sqs"), names.failure_queue_url)
        summary = run_redrive(
            source,
            target.client("kinesis"),
            settings,
            invoker,
            dry_run=dry_run,
            drop_expired=drop_expired,
            on_outcome=lambda outcome: out.print(outcome.line(source.kind, dry_run), soft_wrap=True),
        )
    if not summary.outcomes:
        _note(f"{tenant}: no batch records in {summary.where} in {target.where}; nothing to redrive")
    else:
        out.print(f"{tenant}: {summary.line()}", soft_wrap=True)
    if summary.others:
        _note(
            f"{tenant}: {summary.others} other {summary.kind}(s) in {summary.where} left in place "
            f"(poison pills: `tributary failures export {tenant}`)"
        )
    if summary.failed:
        _fail(f"{tenant}: {summary.failed} record(s) failed again; their batches stay recorded for the next redrive")
