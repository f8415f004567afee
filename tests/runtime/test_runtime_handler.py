"""handler.py through the real Lambda entry point, configured by environment variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from runtime_helpers import FakeContext, aws_account, queue_messages, table_items

import runtime.handler
from runtime import settings
from runtime.exceptions import ConfigurationError

FIXTURE = Path(__file__).resolve().parents[1] / "events" / "kinesis_batch.json"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tenant_env(monkeypatch):
    def apply(queue_url, **extra):
        env = {
            settings.TENANT: "acme",
            settings.TABLE_NAME: "acme-table",
            settings.WRITE_MODE: "events",
            settings.PARTITION_KEY: "device#{device_id}",
            settings.SORT_KEY: "{day}",
            settings.EVENT_ID_FIELD: "event_id",
            settings.TIMESTAMP_FIELD: "ts",
            settings.SCHEMA: json.dumps({"type": "object", "properties": {"temp": {"type": "number"}}}),
            settings.FAILURE_QUEUE_URL: queue_url,
            settings.TTL_DAYS: "7",
            **extra,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        runtime.handler.reset()

    yield apply
    runtime.handler.reset()


def test_handler_fixture_batch_writes_valid_records_and_queues_the_invalid_one(tenant_env, capsys):
    batch = json.loads(FIXTURE.read_text())
    with aws_account() as (dynamodb, sqs, queue_url):
        tenant_env(queue_url)
        response = runtime.handler.handler(batch, FakeContext())
        assert response == {"batchItemFailures": []}

        items = sorted(table_items(dynamodb), key=lambda i: i["sk"])
        assert [(i["pk"], i["sk"]) for i in items] == [
            ("device#sensor-7", "2026-11-26#evt-001"),
            ("device#sensor-9", "2026-11-26#evt-002"),
        ]
        assert items[0]["_sequence"] == batch["Records"][3]["kinesis"]["sequenceNumber"]  # the replayed copy
        assert items[1]["expires_at"] == 1_795_714_931 + 7 * 86400

        (message,) = queue_messages(sqs, queue_url)
        assert message["reason"] == "schema_invalid" and message["tenant"] == "acme"
        assert message["sequenceNumber"] == batch["Records"][2]["kinesis"]["sequenceNumber"]
        assert message["payload"] == batch["Records"][2]["kinesis"]["data"]

    out = capsys.readouterr().out
    metrics = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    (emf,) = metrics
    # The names the dashboard reads (components/alarms.py takes them from runtime/settings.py too).
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == settings.METRICS_NAMESPACE
    assert emf[settings.TENANT_DIMENSION] == "acme" and emf[settings.SERVICE_DIMENSION] == settings.SERVICE_NAME
    counted = (settings.RECORDS_RECEIVED, settings.RECORDS_WRITTEN, settings.RECORDS_INVALID, settings.RECORDS_RETRIED)
    assert {name: emf[name] for name in counted} == {
        settings.RECORDS_RECEIVED: [4.0],
        settings.RECORDS_WRITTEN: [3.0],
        settings.RECORDS_INVALID: [1.0],
        settings.RECORDS_RETRIED: [0.0],
    }
    assert "hot" not in out and "sensor-9" not in out  # payloads are never logged


def test_handler_unwritable_table_reports_every_record_for_retry(tenant_env):
    batch = json.loads(FIXTURE.read_text())
    with aws_account() as (_, _, queue_url):
        tenant_env(queue_url, **{settings.TABLE_NAME: "missing-table"})
        response = runtime.handler.handler(batch, FakeContext(remaining_ms=2_500))
        sequences = [r["kinesis"]["sequenceNumber"] for r in batch["Records"]]
        assert response == {"batchItemFailures": [{"itemIdentifier": s} for s in sequences]}


def test_handler_misconfigured_fails_first_invocation_naming_the_variable(tenant_env):
    with aws_account() as (_, _, queue_url):
        tenant_env(queue_url, **{settings.WRITE_MODE: "foo"})
        with pytest.raises(ConfigurationError, match=r"^TRIBUTARY_WRITE_MODE: must be one of"):
            runtime.handler.handler({"Records": []}, FakeContext())


def test_handler_import_without_environment_does_not_fail():
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIBUTARY_")}
    done = subprocess.run(
        [sys.executable, "-c", "import runtime.handler"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_handler_runtime_imports_no_infrastructure_code():
    code = (
        "import sys, runtime.handler; bad = [m for m in sys.modules if m.split('.')[0] in "
        "('components', 'sandbox', 'pulumi', 'pulumi_aws', 'pydantic', 'pyarrow', 'moto')]; print(bad)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_handler_contract_imports_without_loading_aws_libraries():
    """The infrastructure code imports the contract and the write modes' declarations; it must not pay for (or
    need) the handler's libraries."""
    code = (
        "import sys, runtime.settings, runtime.templates, runtime.modes; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('boto3', 'botocore', 'aws_lambda_powertools', 'aws_kinesis_agg', 'fastjsonschema', 'components')]; "
        "print(bad)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
