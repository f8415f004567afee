"""The benchmark drives the handler as Lambda does: its own process, the tenant's environment, a Kinesis event.
Functional only: nothing here is timed."""

from __future__ import annotations

import pytest

from bench.baselines import BASELINES
from bench.ddb_endpoint import FakeAwsEndpoint
from bench.function_worker import BenchError, Function
from bench.handler_bench import HANDLER
from bench.lambda_env import function_environment
from bench.workload import event_for


@pytest.fixture
def endpoint():
    with FakeAwsEndpoint() as started:
        yield started


def test_handler_in_its_worker_writes_every_events_record_in_batches_and_queues_none(endpoint):
    with Function(HANDLER, function_environment("events", endpoint.url)) as function:
        function.load("batch", event_for("events", "uniform", 60))
        invocation = function.invoke("batch")

    assert invocation.reported_failures == 0
    assert invocation.cpu_seconds > 0
    assert endpoint.stats.items["BatchWriteItem"] == 60
    assert endpoint.stats.calls["AmazonSQS.SendMessageBatch"] == 0


def test_baseline_in_its_worker_puts_every_record(endpoint):
    with Function(BASELINES["conditional-put"], function_environment("events", endpoint.url)) as function:
        function.load("batch", event_for("events", "hot", 30))
        function.invoke("batch")

    assert endpoint.stats.calls["DynamoDB_20120810.PutItem"] == 30


def test_worker_names_a_handler_that_cannot_be_imported(endpoint):
    with pytest.raises(BenchError, match="bench.baselines.missing"):
        Function("bench.baselines.missing", function_environment("events", endpoint.url))
