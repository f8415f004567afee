"""`tributary query`, `failures export` and `send` as a person runs them on the sandbox: what goes to stdout
(rows, JSON, pills), what to stderr (notes, the Athena table), and refusals as one line with exit 1."""

from __future__ import annotations

import json
import re

import pytest
from day_two_helpers import archive, sandbox_deployment
from typer.testing import CliRunner

from cli.main import app
from ops.target import resolve

PER_DEVICE = {"dev-001": 2, "dev-002": 5}
RECORDED_AT = "2025-01-02T03:04:05Z"
ARCHIVE = r"s3://{tenant}--dev--archive-\d+/data/"
NOT_DEPLOYED = "nobody: not deployed in the sandbox (stack 'dev' deployed: clicks, orders, sensors)"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """sensors with a few readings archived; orders and clicks deployed, nothing archived."""
    with sandbox_deployment(tmp_path_factory.mktemp("cli"), ["sensors", "orders", "clicks"]) as (project, _):
        readings = [
            {
                "device_id": device,
                "reading_id": f"{device}-{n}",
                "recorded_at": "2025-01-02T03:04:05Z",
                "temperature": n,
            }
            for device, count in PER_DEVICE.items()
            for n in range(count)
        ]
        entries = [{"Data": json.dumps(r).encode(), "PartitionKey": r["device_id"]} for r in readings]
        archive(resolve(project, "sensors", None, sandbox=True), entries)
        yield project


def _run(project, *arguments: str):
    return CliRunner().invoke(app, [*arguments, "--sandbox", "--project", str(project)])


def test_query_command_prints_json_on_stdout_and_the_athena_table_on_stderr(project):
    sql = "select device_id, count(*) as n, min(recorded_at) as first from archive group by 1 order by 1"
    result = _run(project, "query", "sensors", sql, "--json")
    assert result.exit_code == 0, result.output
    expected = [{"device_id": d, "n": n, "first": RECORDED_AT} for d, n in sorted(PER_DEVICE.items())]
    assert json.loads(result.stdout) == expected
    notes = result.stderr.splitlines()
    assert "in Athena: tributary_sensors__dev.events" in notes
    assert any(
        re.match(r"^2 row\(s\) from \d+ object\(s\) under s3://sensors--dev--archive-\d+/data/$", n) for n in notes
    )


def test_query_command_table_shows_every_row(project):
    result = _run(project, "query", "sensors", "select device_id, count(*) as n from archive group by 1 order by 1")
    assert result.exit_code == 0, result.output
    for device, count in PER_DEVICE.items():
        assert re.search(rf"{device}\s+│\s+{count}\b", result.stdout), result.stdout


def test_query_command_on_an_empty_archive_says_so_and_exits_0(project):
    result = _run(project, "query", "orders", "select count(*) as n from archive", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"n": 0}]
    assert re.search(
        r"^no archived objects yet under s3://orders--dev--archive-\d+/data/ in the sandbox at ", result.stderr, re.M
    )


def test_query_command_bad_sql_is_one_line_and_exit_1(project):
    result = _run(project, "query", "sensors", "select nope from archive")
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("Binder Error: "), result.stderr
    assert result.stdout == "" and "Traceback" not in result.output


def test_failures_export_points_to_the_failure_bucket_of_an_s3_on_failure_tenant(project):
    result = _run(project, "failures", "export", "clicks")  # clicks: processing.on_failure: s3
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert re.search(r"^clicks: exported 0 poison pill\(s\) from \S+clicks--dev--failures$", result.stderr, re.M)
    bucket = r"s3://clicks--dev--failures-\d+/"
    note = rf"^clicks: the mapping records given-up batches in {bucket} \(on_failure: s3\)$"
    assert re.search(note, result.stderr, re.M), result.stderr


def test_day_two_commands_refuse_a_tenant_not_deployed_in_one_line(project, tmp_path):
    pills = tmp_path / "pills.jsonl"
    pills.write_text('{"payload": {"device_id": "d1"}, "partitionKey": "device#d1"}\n')
    commands = [
        ["query", "nobody", "select 1"],
        ["failures", "export", "nobody"],
        ["send", "nobody", "--file", str(pills)],
    ]
    for command in commands:
        result = _run(project, *command)
        assert result.exit_code == 1, (command, result.output)
        assert result.stderr.splitlines() == [NOT_DEPLOYED]
        assert result.stdout == ""
