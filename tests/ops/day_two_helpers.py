"""Builders shared by the day-two tests (a uniquely named module, so no other conftest or helper shadows it)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from components.naming import tenant_names
from components.stack import read_stack_file
from ops.target import Target
from sandbox.engines.emulator import Emulator
from sandbox.engines.firehose import FirehoseDelivery
from sandbox.session.deploy import deploy
from sandbox.session.paths import SandboxPaths
from sandbox.session.tenant_specs import delivery_spec

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STACK = "dev"


def project_copy(root: Path, tenants: list[str]) -> Path:
    """The repository's example tenants, with a dev stack that selects `tenants` only."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(PROJECT_ROOT / "tenants", root / "tenants")
    selection = ", ".join(f'"{tenant}"' for tenant in tenants)
    (root / f"Pulumi.{STACK}.yaml").write_text(
        f"config:\n  aws:region: us-east-1\n  tributary:tenants: [{selection}]\n", encoding="utf-8"
    )
    return root


@contextmanager
def sandbox_deployment(root: Path, tenants: list[str]) -> Iterator[tuple[Path, str]]:
    """(project, endpoint URL): the tenants deployed into an emulator of their own through the sandbox's deploy
    path, recorded where `tributary sandbox deploy` records it."""
    with Emulator() as endpoint_url:
        project = project_copy(root, tenants)
        deployment = deploy(project, STACK, read_stack_file(project, STACK), endpoint_url)
        deployment.save(SandboxPaths.for_project(project).deployment_record)
        yield project, endpoint_url


def archive(target: Target, entries: list[dict[str, Any]]) -> None:
    """Put `entries` (PutRecords entries) on the tenant's stream and run its delivery stream, as the emulator
    describes it, through the sandbox's Firehose engine until all of them are in S3."""
    response = target.client("kinesis").put_records(StreamName=target.names.stream, Records=entries)
    assert response["FailedRecordCount"] == 0
    name = tenant_names(target.names.tenant, target.names.stack).delivery_stream
    described = target.client("firehose").describe_delivery_stream(DeliveryStreamName=name)
    spec = delivery_spec(described["DeliveryStreamDescription"])
    delivery = FirehoseDelivery(spec, target.endpoint_url, target.names.region, time_scale=0.001)
    try:
        assert delivery.run_until_idle(timeout=30, flush=True)
    finally:
        delivery.close()


def stream_records(kinesis: Any, stream: str) -> list[dict[str, Any]]:
    """Every record on the stream, shard by shard, in sequence order."""
    records: list[dict[str, Any]] = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            response = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            records += response["Records"]
            if not response["Records"] or not response.get("MillisBehindLatest", 0):
                break
            iterator = response.get("NextShardIterator")
    return records
