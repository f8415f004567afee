"""`tributary sandbox` refuses what it cannot use in one line that says how to go on, never a traceback:
an endpoint where nothing listens, a damaged or stale `.sandbox/deployment.json`, an event over Kinesis's
record limit. Its usage and help describe every option."""

from __future__ import annotations

import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.sandbox import app
from sandbox.engines.emulator import Emulator, client
from sandbox.session.paths import SandboxPaths

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOBODY = "http://127.0.0.1:1"  # a privileged port nothing listens on
STARTING_OVER = "or delete .sandbox/ to start over"


def _project(root: Path, tenants_dir: str = "tenants", tenants: str = '["*"]') -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / "Pulumi.dev.yaml").write_text(
        f"config:\n  aws:region: us-east-1\n  tributary:tenants: {tenants}\n  tributary:tenantsDir: {tenants_dir}\n"
    )
    shutil.copytree(PROJECT_ROOT / "tenants", root / tenants_dir)
    return root


@pytest.fixture
def project(tmp_path) -> Path:
    return _project(tmp_path / "project")


@pytest.fixture
def events(tmp_path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text('{"device_id": "dev-1", "reading_id": "r1", "recorded_at": "2026-01-01T00:00:00Z"}\n')
    return path


def _one_line_refusal(result, *expected: str) -> str:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


# --------------------------------------------------------------------------------- usage and help


def test_cli_sandbox_usage_shows_the_subcommand_as_optional(runner):
    result = runner.invoke(app, ["--help"], prog_name="tributary sandbox")
    assert result.exit_code == 0
    usage = next(line for line in result.stdout.splitlines() if "Usage:" in line)
    assert "[COMMAND" in usage, usage


def test_cli_sandbox_every_option_of_every_command_has_help():
    group = typer.main.get_command(app)
    commands = {"sandbox": group, **group.commands}
    missing = [
        f"{name} {param.opts[0]}"
        for name, command in commands.items()
        for param in command.params
        if param.param_type_name == "option" and not param.help
    ]
    assert missing == []


def test_cli_sandbox_version_prints_the_package_version(runner):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("tributary ")


# --------------------------------------------------------------------------------- nothing listening


@pytest.mark.parametrize("command", [[], ["deploy"]], ids=["session", "deploy"])
def test_cli_sandbox_refuses_an_endpoint_where_nothing_listens(runner, project, command):
    result = runner.invoke(app, [*command, "--endpoint-url", NOBODY, "--project", str(project)])
    line = _one_line_refusal(result, NOBODY, "nothing is listening")
    assert len(line) < 300, line
    assert "refused a resource" not in line


class _NotAnEmulator(http.server.BaseHTTPRequestHandler):
    """Answers every AWS call with a client error, as a server that is not an emulator would."""

    def _refuse(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"__type": "UnrecognizedClientException", "message": "not an AWS emulator"}'
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _refuse

    def log_message(self, *_args) -> None:
        return None


def test_cli_sandbox_deploy_reports_refused_resources_in_one_short_line(project):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotAnEmulator)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    # In its own process: a deploy the emulator refuses leaves Pulumi's engine unusable in the one it ran in.
    command = [sys.executable, "-c", "from cli.main import main; main()", "sandbox", "deploy"]
    try:
        result = subprocess.run(
            [*command, "--endpoint-url", url, "--project", str(project)],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        server.shutdown()
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("the emulator refused a resource: ") and "more resources refused" in lines[0], lines
    # The first refusal in full, naming one resource: which one the engine registers first varies, and so
    # does how its protocol renders the stub's answer (JSON message, XML parse error, S3's "Bad Request").
    named = re.findall(r"\baws:[a-z0-9]+/[A-Za-z0-9]+:[A-Za-z0-9]+ ", lines[0])
    assert len(named) == 1 and len(lines[0]) < 400, lines[0]


# --------------------------------------------------------------------------------- damaged or stale state

DAMAGED_RECORDS = {
    "empty object": "{}",
    "empty list": "[]",
    "not json": "not json {",
    "wrong types": json.dumps(
        {"endpoint_url": 5, "region": "us-east-1", "stack": "dev", "outputs": {}, "resources": []}
    ),
    "bad resource": json.dumps(
        {"endpoint_url": NOBODY, "region": "us-east-1", "stack": "dev", "outputs": {}, "resources": [{"x": 1}]}
    ),
}


def _record(project: Path, text: str) -> Path:
    path = SandboxPaths.for_project(project).deployment_record
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _send_and_drain(runner, project: Path, events: Path) -> list:
    return [
        runner.invoke(app, ["send", "sensors", "--file", str(events), "--project", str(project)]),
        runner.invoke(app, ["drain", "--project", str(project), "--timeout", "5"]),
    ]


@pytest.mark.parametrize("text", DAMAGED_RECORDS.values(), ids=DAMAGED_RECORDS.keys())
def test_cli_sandbox_send_and_drain_refuse_a_damaged_deployment_record(runner, project, events, text):
    path = _record(project, text)
    for result in _send_and_drain(runner, project, events):
        _one_line_refusal(result, str(path), "not a deployment record", STARTING_OVER)


def _deployment(endpoint_url: str, stream: str) -> str:
    resource = {"tenant": "sensors", "type": "aws:kinesis/stream:Stream", "name": "sensors-stream", "inputs": {}}
    record = {
        "endpoint_url": endpoint_url,
        "region": "us-east-1",
        "stack": "dev",
        "outputs": {"sensors": {"stream_name": stream}},
        "resources": [resource],
        "event_source_mappings": {},
    }
    return json.dumps(record)


def test_cli_sandbox_send_and_drain_refuse_a_record_written_before_mappings_were_described(runner, project, events):
    # Given: a record of an earlier version, which kept no description of the event source mappings.
    record = json.loads(_deployment(NOBODY, "sensors-dev-stream"))
    del record["event_source_mappings"]
    path = _record(project, json.dumps(record))
    for result in _send_and_drain(runner, project, events):
        _one_line_refusal(result, str(path), "missing event_source_mappings", STARTING_OVER)


def test_cli_sandbox_send_and_drain_refuse_a_deployment_whose_emulator_stopped(runner, project, events):
    path = _record(project, _deployment(NOBODY, "sensors-dev-stream"))
    for result in _send_and_drain(runner, project, events):
        _one_line_refusal(result, str(path), NOBODY, "nothing is listening", STARTING_OVER)


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as url:
        yield url


def test_cli_sandbox_send_and_drain_refuse_a_deployment_a_new_emulator_does_not_hold(runner, project, events, emulator):
    # Given: a record of a deployment into an emulator that has since restarted empty at the same URL.
    path = _record(project, _deployment(emulator, "sensors-dev-stream-gone"))
    for result in _send_and_drain(runner, project, events):
        _one_line_refusal(result, str(path), "sensors-dev-stream-gone", "restarted since the deploy", STARTING_OVER)


# --------------------------------------------------------------------------------- send


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, emulator) -> Path:
    """One tenant deployed into the emulator from a project that keeps its tenant files in `teams/`."""
    project = _project(tmp_path_factory.mktemp("deployed") / "project", tenants_dir="teams", tenants='["sensors"]')
    result = CliRunner().invoke(app, ["deploy", "--endpoint-url", emulator, "--project", str(project)])
    assert result.exit_code == 0, result.output
    return project


def _records_on(emulator: str, project: Path) -> int:
    stream = json.loads(SandboxPaths.for_project(project).deployment_record.read_text())["outputs"]["sensors"][
        "stream_name"
    ]
    kinesis = client("kinesis", emulator)
    total = 0
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        total += len(kinesis.get_records(ShardIterator=iterator, Limit=10000)["Records"])
    return total


def test_cli_sandbox_send_reads_tenant_files_from_the_stacks_tenants_dir(runner, deployed, events, emulator):
    before = _records_on(emulator, deployed)
    result = runner.invoke(app, ["send", "sensors", "--file", str(events), "--project", str(deployed)])
    assert result.exit_code == 0, result.output
    assert _records_on(emulator, deployed) == before + 1


def test_cli_sandbox_send_refuses_a_line_over_the_kinesis_record_limit_with_its_number(
    runner, deployed, emulator, tmp_path
):
    # Given: line 3 (after a blank line 2) is over 1 MiB once its partition key is added.
    path = tmp_path / "big.jsonl"
    big = json.dumps({"device_id": "dev-1", "reading_id": "r2", "firmware": "x" * (1024 * 1024)})
    path.write_text('{"device_id": "dev-1", "reading_id": "r1"}\n\n' + big + "\n")
    before = _records_on(emulator, deployed)
    # When
    result = runner.invoke(app, ["send", "sensors", "--file", str(path), "--project", str(deployed)])
    # Then: refused with the line's number and the limit's source, and nothing sent.
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{path}:3: "), lines
    assert "1 MiB" in lines[0] and "service-sizes-and-limits" in lines[0]
    assert lines[-1] == f"{path}: nothing sent"
    assert _records_on(emulator, deployed) == before


def test_cli_sandbox_drain_refuses_a_record_it_cannot_resume_from(runner, project, emulator):
    # Given: the emulator holds the recorded stream, but the record holds no function or mapping to run.
    client("kinesis", emulator).create_stream(StreamName="sensors-dev-stream-only", ShardCount=1)
    path = _record(project, _deployment(emulator, "sensors-dev-stream-only"))
    result = runner.invoke(app, ["drain", "--project", str(project), "--timeout", "5"])
    _one_line_refusal(result, str(path), "cannot resume", STARTING_OVER)
