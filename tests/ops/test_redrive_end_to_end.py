"""Redrive end to end in the sandbox, through the real handler: batches that ran out of retries are replayed and
the table ends in the write mode's model state, with no double effect.

A counters tenant shows a double effect best (a record counted twice is a wrong sum), and its traffic holds
duplicates. The tenant is deployed into the emulator and its traffic drained by the sandbox's event source
mapping engine while the function is broken (every invocation fails before it writes, as after a bad deploy), so
every batch is bisected, retried once and recorded in the failure queue in Lambda's format. Then
`tributary redrive --sandbox` replays them through the function as deployed.

The sandbox's `crash` fault would not do here: it kills a worker when the invocation returns, after the handler's
writes (the handler's clients are not the default session's, which the fault hooks), so the table would already
hold the given-up batches and a redrive that did nothing would pass.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from boto3.dynamodb.types import TypeDeserializer
from typer.testing import CliRunner

from cli import day_two
from components.config import load_tenant
from components.stack import read_stack_file
from ops import invokers
from ops.invokers import sandbox_function
from runtime.config import HandlerConfig
from runtime.modes import DEDUPE_PREFIX, MODES
from runtime.records import decode_user_record
from runtime.types import RecordSource
from sandbox.engines.emulator import Emulator, EmulatorClients
from sandbox.engines.event_source import EventSourceMapping
from sandbox.engines.lambda_records import failure_record
from sandbox.engines.shard_reader import StreamRecord
from sandbox.engines.specs import MappingSpec
from sandbox.engines.workers import InvocationResult
from sandbox.session import traffic
from sandbox.session.deploy import deploy
from sandbox.session.paths import SandboxPaths
from sandbox.session.report import read_queue, scan_table, stream_arrivals
from sandbox.session.synthetic import TrafficOptions, traffic_hints
from sandbox.session.tenant_specs import read_tenant_specs

PROJECT = Path(__file__).resolve().parents[2]
TENANT = "clicks"
STACK = "dev"
# Small batches, no batching window and one retry, so giving every batch up takes few invocations.
PROCESSING = {
    "batch_size": 10,
    "batch_window_seconds": 0,
    "parallelization_factor": 1,
    "max_retries": 1,
    "on_failure": "sqs",
}


def _project(root: Path) -> Path:
    """A project holding the example counters tenant with PROCESSING, and no archive (nothing here reads it)."""
    (root / "tenants").mkdir(parents=True)
    shutil.copy(PROJECT / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / f"Pulumi.{STACK}.yaml").write_text(f'config:\n  aws:region: us-east-1\n  tributary:tenants: ["{TENANT}"]\n')
    (root / "runtime").symlink_to(PROJECT / "runtime")
    document = yaml.safe_load((PROJECT / "tenants" / f"{TENANT}.yaml").read_text())
    document["processing"] = {**document.get("processing", {}), **PROCESSING}
    document["archive"] = {"enabled": False}
    (root / "tenants" / f"{TENANT}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return root


class BrokenFunction:
    """Every invocation fails at init, before the handler runs: what Lambda reports for a function whose deployed
    code cannot be imported."""

    def invoke(self, event: dict[str, Any]) -> InvocationResult:
        return InvocationResult(
            "broken",
            function_error="Unhandled",
            error_type="Runtime.ImportModuleError",
            error_message="Unable to import module 'runtime.handler'",
        )


@dataclass
class GivenUp:
    """The deployed tenant, what its producers sent, and the emulator's clients."""

    project: Path
    clients: EmulatorClients
    mapping: MappingSpec
    outputs: dict[str, Any]
    manifest: traffic.Manifest


def _redrive(project: Path, *options: str):
    """`tributary redrive TENANT --sandbox`, registered as cli/main.py registers the day-two commands."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.callback()(lambda: None)
    app.command()(day_two.redrive)
    return CliRunner().invoke(app, ["redrive", TENANT, "--sandbox", "--project", str(project), *options])


_deserializer = TypeDeserializer()


def _table_problems(given: GivenUp) -> list[str]:
    """How the tenant's table differs from its write mode's model of every event the producers sent."""
    config = HandlerConfig.from_env(given.mapping.function.environment)
    model = MODES[config.write_mode].model(config)
    arrivals = stream_arrivals(given.clients.kinesis, given.outputs["stream_name"])
    for record in given.manifest.records:
        key = (record.shard_id, record.sequence_number)
        source = RecordSource(0, *key, 0, record.partition_key, arrivals[key], given.mapping.stream_arn)
        model.add(decode_user_record(source, record.data, config), record.index)
    items = scan_table(given.clients.dynamodb, given.outputs["table_name"])
    values = {
        key: {name: _deserializer.deserialize(value) for name, value in item.items()} for key, item in items.items()
    }
    return [problem.text for problem in model.problems(values)]


def _counter_items(given: GivenUp) -> int:
    items = scan_table(given.clients.dynamodb, given.outputs["table_name"])
    return sum(1 for pk, _ in items if not pk.startswith(DEDUPE_PREFIX))


def _messages(given: GivenUp) -> int:
    attributes = given.clients.sqs.get_queue_attributes(
        QueueUrl=given.outputs["failure_queue_url"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture(scope="module")
def given_up(tmp_path_factory):
    """The tenant deployed as `tributary sandbox deploy` deploys it, its traffic (duplicates included) put on its
    stream and drained by its mapping while the function is broken: every batch is in the failure queue."""
    project = _project(tmp_path_factory.mktemp("redrive"))
    with Emulator() as endpoint_url:
        deployment = deploy(project, STACK, read_stack_file(project, STACK), endpoint_url)
        deployment.save(SandboxPaths.for_project(project).deployment_record)
        clients = EmulatorClients(endpoint_url, deployment.region)
        resources = deployment.evaluation.by_tenant()[TENANT]
        mapping = read_tenant_specs(resources, deployment.event_source_mappings, clients).mapping
        outputs = deployment.evaluation.outputs[TENANT]
        tenant = load_tenant(project / "tenants" / f"{TENANT}.yaml", STACK)
        options = TrafficOptions(events=8, duplicates_pct=25, seed=5)
        manifest = traffic.produce(
            clients.kinesis, outputs["stream_name"], tenant.records.schema_, options, traffic_hints(tenant)
        )
        esm = EventSourceMapping(mapping, endpoint_url, deployment.region, BrokenFunction(), time_scale=0.01)
        try:
            assert esm.run_until_idle(timeout=60), "the mapping did not settle every batch"
        finally:
            esm.close()
        yield GivenUp(project, clients, mapping, outputs, manifest)


def test_redrive_brings_the_table_to_the_model_state_with_no_double_effect(given_up):
    given = given_up
    manifest, queue_url = given.manifest, given.outputs["failure_queue_url"]
    # Given: every batch given up and nothing counted; duplicates among the events (a double count would show).
    assert manifest.of_kind("duplicate"), "no duplicate was produced; the scenario did not happen"
    recorded = read_queue(given.clients.sqs, queue_url)
    assert recorded and all("KinesisBatchInfo" in body for body in recorded)
    assert sum(body["KinesisBatchInfo"]["batchSize"] for body in recorded) == len(manifest.records)
    assert _counter_items(given) == 0 and _table_problems(given) != []
    batches = f"{len(recorded)} batch{'es' if len(recorded) > 1 else ''}"

    # A dry run reads and counts, and changes nothing.
    dry = _redrive(given.project, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.splitlines()[-1] == (
        f"{TENANT}: dry run: {batches}, {len(manifest.records)} records to replay, 0 past retention; "
        "nothing invoked or deleted"
    )
    assert _messages(given) == len(recorded) and _counter_items(given) == 0

    # When
    result = _redrive(given.project)
    # Then: one line per batch, the summary, and the table is what the events make it: each counted once.
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len([line for line in lines if re.match(r"^shardId-\S+ \d+\.\.\d+: ", line)]) == len(recorded), lines
    assert lines[-1] == (
        f"{TENANT}: {batches}, {len(manifest.records)} records replayed, 0 failed, 0 past retention; "
        f"{len(recorded)} message{'s' if len(recorded) > 1 else ''} deleted"
    )
    assert _table_problems(given) == []
    assert _messages(given) == 0

    # A second redrive finds nothing.
    again = _redrive(given.project)
    assert again.exit_code == 0 and again.stdout == "", again.output
    assert "nothing to redrive" in again.stderr

    # A record delivered twice (SQS delivers at least once) replays its range again: the table does not change.
    given.clients.sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(recorded[0]))
    replayed = _redrive(given.project)
    assert replayed.exit_code == 0 and replayed.stdout.endswith("1 message deleted\n"), replayed.output
    assert _table_problems(given) == []


def _recorded(given: GivenUp, first: int, last: int, **changes: Any) -> str:
    """Lambda's on-failure record of the producers' records first..last, as the mapping writes it."""
    arrivals = stream_arrivals(given.clients.kinesis, given.outputs["stream_name"])
    produced = given.manifest.records[first : last + 1]
    records = [
        StreamRecord(
            changes.get("shard_id", record.shard_id),
            record.sequence_number,
            record.partition_key,
            record.data,
            arrivals[(record.shard_id, record.sequence_number)],
        )
        for record in produced
    ]
    body = failure_record(
        function_arn=given.mapping.function.function_arn,
        stream_arn=given.mapping.stream_arn,
        records=records,
        invocations=2,
        last_result=None,
        condition="RetryAttemptsExhausted",
        now=time.time(),
    )
    given.clients.sqs.send_message(QueueUrl=given.outputs["failure_queue_url"], MessageBody=json.dumps(body))
    return body["KinesisBatchInfo"]["shardId"]


def test_redrive_keeps_what_it_could_not_replay_and_exits_1_when_the_function_still_fails(given_up, monkeypatch):
    given = given_up
    # Given: only these two batches recorded. xdist may run this test on a worker of its own, whose fixture still
    # holds every batch the mapping gave up, so the queue is emptied first.
    given.clients.sqs.purge_queue(QueueUrl=given.outputs["failure_queue_url"])
    assert _messages(given) == 0
    # A batch still on the stream, and one on a shard the stream no longer has (past retention).
    shard = _recorded(given, 0, 0)
    gone = _recorded(given, 0, 1, shard_id="shardId-000000000099")

    @contextmanager
    def still_broken(project: Path, target: Any):
        with sandbox_function(project, target) as (settings, _):
            yield settings, BrokenFunction()

    # When: the function still fails.
    monkeypatch.setattr(invokers, "sandbox_function", still_broken)
    result = _redrive(given.project)
    # Then: both records are kept, each line says why, and the command fails.
    assert result.exit_code == 1
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines()[:-1])
    assert set(lines) == {shard, gone}, result.stdout
    assert "1 re-read, 0 replayed, 1 failed, 0 past retention; 1 message kept: sequence number" in lines[shard]
    assert "Runtime.ImportModuleError" in lines[shard]
    assert "0 re-read, 0 replayed, 0 failed, 2 past retention (" in lines[gone]
    assert lines[gone].endswith("1 message kept: records past retention (--drop-expired deletes it)")
    assert result.stdout.splitlines()[-1] == (
        f"{TENANT}: 2 batches, 0 records replayed, 1 failed, 2 past retention; 0 messages deleted"
    )
    assert result.stderr.splitlines()[-1] == (
        f"{TENANT}: 1 record(s) failed again; their batches stay recorded for the next redrive"
    )
    assert _messages(given) == 2
    # Once the function works again, --drop-expired replays the one and lets the other go.
    monkeypatch.undo()
    fixed = _redrive(given.project, "--drop-expired")
    assert fixed.exit_code == 0, fixed.output
    assert fixed.stdout.splitlines()[-1].endswith("1 records replayed, 0 failed, 2 past retention; 2 messages deleted")
    assert _messages(given) == 0
