"""Fault injection: parsing `--faults`, throttled DynamoDB calls and crashed invocations."""

from __future__ import annotations

import base64
from dataclasses import replace

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from sandbox_helpers import function_spec

from sandbox.engines.faults import FaultInjector, FaultPlan, FaultSpecError, parse_faults


def test_faults_parse_percentages():
    assert parse_faults("throttle=5,crash=1.5") == FaultPlan(5.0, 1.5, 0)
    assert parse_faults(" crash=10% , seed=7") == FaultPlan(0.0, 10.0, 7)
    assert parse_faults("") == FaultPlan() and not parse_faults(None).active


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("throttle=abc", "--faults: 'throttle=abc' is not a percentage"),
        ("crash=150", "--faults: 'crash=150' is not between 0 and 100"),
        ("explode=5", "--faults: unknown fault 'explode' (expected throttle, crash)"),
        ("throttle", "--faults: 'throttle' is not of the form name=PCT"),
        ("crash=1,crash=2", "--faults: 'crash' given twice"),
    ],
)
def test_faults_parse_errors_name_the_problem(text, message):
    with pytest.raises(FaultSpecError) as error:
        parse_faults(text)
    assert str(error.value) == message


def test_faults_throttle_answers_like_dynamodb(endpoint_url):
    session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    injector = FaultInjector(FaultPlan(throttle_pct=100))
    session.events.register("before-send.dynamodb", injector.before_send)
    client = session.client(
        "dynamodb", endpoint_url=endpoint_url, config=Config(retries={"mode": "standard", "max_attempts": 2})
    )

    with pytest.raises(ClientError) as error:
        client.describe_table(TableName="anything")

    assert error.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    retries = error.value.response["ResponseMetadata"]["RetryAttempts"]
    assert retries >= 1, "botocore retries a throttle"
    assert injector.throttled == retries + 1


def _event(count: int) -> dict:
    return {
        "Records": [
            {"kinesis": {"sequenceNumber": str(i), "data": base64.b64encode(b"x").decode()}} for i in range(count)
        ]
    }


@pytest.mark.parametrize("handler", ["dynamodb_calls", "dynamodb_calls_own_session"])
def test_faults_throttle_in_worker_is_retried_by_botocore(make_workers, make_table, aws, handler):
    """Throttling reaches every client in the worker, whichever session built it."""
    table = make_table()
    # The injector's RNG is seeded by the plan's seed, the function name and the worker's serial.
    function = replace(function_spec(handler, {"TABLE_NAME": table}), name="throttled-function")
    workers = make_workers(function, faults=FaultPlan(throttle_pct=30, seed=2))

    result = workers.invoke(_event(6))

    assert result.ok, result.error_message
    assert result.payload["retried"] > 0
    assert aws("dynamodb").scan(TableName=table)["Count"] == 6


def test_faults_crash_kills_the_invocation_and_a_new_worker_follows(make_workers, make_table):
    table = make_table()
    crashing = make_workers(function_spec("dynamodb_calls", {"TABLE_NAME": table}), faults=FaultPlan(crash_pct=100))
    healthy = make_workers(function_spec("dynamodb_calls", {"TABLE_NAME": table}), faults=FaultPlan(crash_pct=0))

    first, second = crashing.invoke(_event(2)), crashing.invoke(_event(2))

    assert first.error_type == "Runtime.ExitError" and "exit status 137" in first.error_message
    assert second.error_type == "Runtime.ExitError" and second.cold_start
    assert crashing.stats.crashes == 2
    assert healthy.invoke(_event(2)).ok
