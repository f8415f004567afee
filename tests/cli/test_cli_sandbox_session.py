"""`tributary sandbox` as a log sees it (not a terminal, 80 columns): named phases, heartbeats, a summary
whose names are whole and whose numbers add up, every red alarm with its reason; and `--json` for machines."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.sandbox import app

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(path.stem for path in (PROJECT_ROOT / "tenants").glob("*.yaml"))
EVENTS = 60
WIDTH = 80
PHASES = ("deploy", "produce", "drain", "report")


def _project(root: Path) -> Path:
    root.mkdir(parents=True)
    for stack_file in PROJECT_ROOT.glob("Pulumi*.yaml"):
        shutil.copy(stack_file, root / stack_file.name)
    shutil.copytree(PROJECT_ROOT / "tenants", root / "tenants")
    (root / "runtime").symlink_to(PROJECT_ROOT / "runtime")
    return root


def _session(project: Path, *extra: str):
    arguments = ["--project", str(project), "--events", str(EVENTS), "--heartbeat", "1", "--seed", "3", *extra]
    return CliRunner().invoke(app, arguments, env={"COLUMNS": str(WIDTH)})


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """One session of every example tenant with faults, as a log records it."""
    result = _session(_project(tmp_path_factory.mktemp("session") / "project"), "--faults", "throttle=5,crash=2")
    assert result.exit_code == 0, result.output
    return result


def _summary(stdout: str) -> dict[str, dict[str, str]]:
    """The summary's measures per tenant: its tables have measures as rows and tenants as columns."""
    lines = stdout[stdout.index("summary") :].splitlines()
    columns: dict[str, dict[str, str]] = {}
    names: list[str] = []
    for line in lines:
        words = line.split()
        if words and all(word in EXAMPLES for word in words):
            names = words
            columns.update({name: {} for name in names})
            continue
        match = re.match(r"^\s*(\S.*?)\s{2,}(\S.*)$", line)
        if names and match and len(match.group(2).split()) == len(names):
            for name, value in zip(names, match.group(2).split(), strict=True):
                columns[name][match.group(1)] = value
    return columns


def test_cli_sandbox_session_names_its_phases_in_order_and_beats_while_it_works(session):
    starts = [line.split(":")[0] for line in session.stdout.splitlines() if re.match(r"^[a-z]+: ", line)]
    assert list(dict.fromkeys(phase for phase in starts if phase in PHASES)) == list(PHASES), starts
    assert re.search(r"^(deploy|produce|drain) \d+ s: ", session.stdout, re.MULTILINE), session.stdout


def test_cli_sandbox_session_summary_is_whole_at_80_columns(session):
    assert "…" not in session.stdout
    summary = _summary(session.stdout)
    assert sorted(summary) == EXAMPLES, session.stdout
    table_lines = [line for line in session.stdout.splitlines() if "─" in line or re.match(r"^\s+\S+\s{2,}\d", line)]
    assert all(len(line) <= WIDTH for line in table_lines), table_lines
    modes = {name: values["mode"] for name, values in summary.items()}
    assert modes == {"clicks": "counters", "orders": "latest", "sensors": "events"}


def test_cli_sandbox_session_numbers_add_up(session):
    summary = _summary(session.stdout)
    assert sorted(summary) == EXAMPLES, session.stdout
    for tenant, values in summary.items():
        count = {label: int(value) for label, value in values.items() if value.isdigit()}
        parts = count["written"] + count["skipped"] + count["to failure queue"] + count["given up"]
        assert count["processed"] == parts, (tenant, values)
        assert count["written"] <= count["processed"], (tenant, values)
        # Each record is settled by one invocation or given up: a redelivery after a crash is not counted twice.
        assert count["processed"] == count["produced"] == EVENTS, (tenant, values)
        assert count["archived"] + count["archive errors"] == count["produced"], (tenant, values)
        assert count["unaccounted"] == 0, (tenant, values)


def test_cli_sandbox_session_shows_the_archives_conversion_errors(session):
    errors = {tenant: values["archive errors"] for tenant, values in _summary(session.stdout).items()}
    assert set(errors) == set(EXAMPLES)
    assert any(int(value) > 0 for value in errors.values()), "the traffic's poison pills include non-JSON ones"


def test_cli_sandbox_session_says_why_each_alarm_is_red(session):
    red = [line for line in session.stdout.splitlines() if " in ALARM" in line]
    assert red, session.stdout  # poison pills at least turn the failure queue red
    for line in red:
        tenant, rest = line.split(": ", 1)
        alarm, _, reason = rest.partition(" in ALARM: ")
        assert tenant in EXAMPLES and re.fullmatch(r"[a-z-]+", alarm), line
        assert len(reason.split()) >= 4, f"{line}: no reason given"
        assert not reason.startswith("session value"), f"{line}: no explanation beyond the alarm's own value"
    queues = [line for line in red if "failure-queue-depth in ALARM" in line]
    assert queues and all("expected:" in line for line in queues), queues


def test_cli_sandbox_json_prints_only_the_summary_on_stdout(tmp_path):
    result = _session(_project(tmp_path / "project"), "--tenant", "sensors", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    (tenant,) = summary["tenants"]
    assert tenant["tenant"] == "sensors" and tenant["unaccounted"] == []
    assert (
        tenant["processed"] == tenant["written"] + tenant["skipped"] + tenant["to_failure_queue"] + tenant["given_up"]
    )
    assert "deploy: " in result.stderr and "report: " in result.stderr


def test_cli_sandbox_session_ends_with_an_example_query_over_the_first_archive(session):
    """The closing query reads the archive through `tributary query`'s code: its rows per day add up to what the
    summary counts as archived for that tenant, and it names the Athena table to ask the same in AWS."""
    stdout = session.stdout
    first = sorted(EXAMPLES)[0]
    assert f'example query: tributary query {first} "select year, month, day, count(*)' in stdout
    query_output = stdout[stdout.index("example query:") :]
    day_rows = re.findall(r"│\s*(\d{4})\s*│\s*(\d{2})\s*│\s*(\d{2})\s*│\s*(\d+)\s*│", query_output)
    assert day_rows, query_output
    assert sum(int(rows) for *_, rows in day_rows) == int(_summary(stdout)[first]["archived"])
    assert f"in Athena: tributary_{first}__" in query_output
