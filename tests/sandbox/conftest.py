"""Shared fixtures: one emulator per session, factories for streams, queues, buckets, tables, workers."""

from __future__ import annotations

import pytest
from sandbox_helpers import PROJECT_ROOT, REGION, unique

from sandbox.engines import emulator
from sandbox.engines.emulator import Emulator
from sandbox.engines.specs import FunctionSpec
from sandbox.engines.workers import FunctionWorkers


@pytest.fixture(scope="session")
def endpoint_url():
    with Emulator() as url:
        yield url


@pytest.fixture
def aws(endpoint_url):
    """boto3 clients at the emulator: aws("kinesis")."""
    cache: dict[str, object] = {}

    def make(service: str):
        if service not in cache:
            cache[service] = emulator.client(service, endpoint_url, REGION)
        return cache[service]

    return make


@pytest.fixture
def make_stream(aws):
    def make(shards: int = 1) -> tuple[str, str]:
        name = unique("stream")
        kinesis = aws("kinesis")
        kinesis.create_stream(StreamName=name, ShardCount=shards)
        arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
        return name, arn

    return make


@pytest.fixture
def make_queue(aws):
    def make() -> tuple[str, str]:
        sqs = aws("sqs")
        url = sqs.create_queue(QueueName=unique("failures"))["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    return make


@pytest.fixture
def make_bucket(aws):
    def make() -> str:
        name = unique("bucket")
        aws("s3").create_bucket(Bucket=name)
        return name

    return make


@pytest.fixture
def make_table(aws):
    def make() -> str:
        name = unique("table")
        aws("dynamodb").create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        return name

    return make


@pytest.fixture
def make_workers(endpoint_url, tmp_path):
    pools: list[FunctionWorkers] = []

    def make(function: FunctionSpec, max_workers: int = 1, faults=None) -> FunctionWorkers:
        pool = FunctionWorkers(
            function,
            endpoint_url,
            REGION,
            log_path=str(tmp_path / "logs" / f"{function.name}.log"),
            code_root=PROJECT_ROOT,
            max_workers=max_workers,
            faults=faults,
        )
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()
