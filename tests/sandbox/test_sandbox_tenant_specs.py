"""The engines run what AWS would report for the deployed resources: the deploy step records each event source
mapping as GetEventSourceMapping describes it, and the session builds every engine's settings from that record
and from the emulator's own descriptions of the function and the delivery stream."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sandbox_helpers import PROJECT_ROOT

from components.config import load_tenants, tenant_files
from components.stack import read_stack_file
from sandbox.engines.emulator import Emulator, EmulatorClients
from sandbox.session.deploy import Deployment, deploy
from sandbox.session.described import describe_event_source_mapping
from sandbox.session.tenant_specs import read_tenant_specs, stream_arn_of

PROJECT = Path(PROJECT_ROOT)
# GetEventSourceMapping's fields for a Kinesis mapping
# (https://docs.aws.amazon.com/lambda/latest/api/API_GetEventSourceMapping.html).
DESCRIBED_FIELDS = {
    "UUID",
    "EventSourceMappingArn",
    "EventSourceArn",
    "FunctionArn",
    "StartingPosition",
    "State",
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "ParallelizationFactor",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "MaximumRecordAgeInSeconds",
    "FunctionResponseTypes",
    "DestinationConfig",
}


@pytest.fixture(scope="module")
def deployed():
    """The dev stack deployed into an emulator of its own: (deployment, clients, tenant files by name)."""
    with Emulator() as url:
        settings = read_stack_file(PROJECT, "dev")
        deployment = deploy(PROJECT, "dev", settings, url)
        tenants = {t.tenant: t for t in load_tenants(tenant_files(PROJECT / settings.tenants_dir), "dev")}
        yield deployment, EmulatorClients(url, settings.region), tenants


def test_deploy_describes_each_mapping_as_get_event_source_mapping_does(deployed):
    deployment, clients, tenants = deployed
    assert len(deployment.event_source_mappings) == len(tenants)
    for uuid, description in deployment.event_source_mappings.items():
        assert set(description) == DESCRIBED_FIELDS, uuid
        assert description["UUID"] == uuid
        function = clients.awslambda.get_function_configuration(FunctionName=description["FunctionArn"])
        assert function["FunctionArn"] == description["FunctionArn"], "the function as the emulator stores it"
        assert description["State"] == "Enabled"


def test_sandbox_runs_each_mapping_with_the_tenant_files_settings(deployed):
    deployment, clients, tenants = deployed
    for name, resources in deployment.evaluation.by_tenant().items():
        processing = tenants[name].processing
        specs = read_tenant_specs(resources, deployment.event_source_mappings, clients)
        assert specs.reserved_concurrency == processing.reserved_concurrency, name
        spec = specs.mapping
        assert (spec.batch_size, spec.batching_window_seconds) == (
            processing.batch_size,
            processing.batch_window_seconds,
        ), name
        assert spec.parallelization_factor == processing.parallelization_factor, name
        assert (spec.max_retries, spec.max_record_age_seconds) == (
            processing.max_retries,
            processing.max_record_age_seconds,
        ), name
        assert spec.starting_position == processing.starting_position, name
        assert spec.bisect_on_error and spec.report_batch_item_failures, name
        assert spec.on_failure_destination.split(":")[2] == processing.on_failure, name
        assert spec.stream_arn == deployment.evaluation.outputs[name]["stream_arn"], name
        function = spec.function
        assert (function.timeout_seconds, function.memory_mb) == (processing.timeout_seconds, processing.memory_mb)
        assert function.handler == "runtime.handler.handler"
        assert function.environment["TRIBUTARY_TENANT"] == name


def test_sandbox_runs_each_delivery_stream_as_the_emulator_describes_it(deployed):
    deployment, clients, tenants = deployed
    for name, resources in deployment.evaluation.by_tenant().items():
        specs = read_tenant_specs(resources, deployment.event_source_mappings, clients)
        delivery = specs.delivery
        described = clients.firehose.describe_delivery_stream(DeliveryStreamName=delivery.name)
        destination = described["DeliveryStreamDescription"]["Destinations"][0]["ExtendedS3DestinationDescription"]
        assert (
            delivery.bucket_arn
            == destination["BucketARN"]
            == f"arn:aws:s3:::{deployment.evaluation.outputs[name]['archive_bucket']}"
        )
        assert (delivery.prefix, delivery.error_output_prefix) == (
            destination["Prefix"],
            destination["ErrorOutputPrefix"],
        )
        assert delivery.output_format == "parquet" and delivery.compression == "SNAPPY", name
        assert delivery.glue_database and delivery.glue_table == "events", name
        assert specs.delivery_role.endswith(f":role/{name}--dev--firehose"), specs.delivery_role


def test_deployment_record_keeps_the_mapping_descriptions(deployed, tmp_path):
    deployment = deployed[0]
    path = tmp_path / "deployment.json"
    deployment.save(path)
    assert json.loads(path.read_text())["event_source_mappings"] == deployment.event_source_mappings
    assert Deployment.load(path).event_source_mappings == deployment.event_source_mappings


def test_mapping_read_through_a_dedicated_consumer_reads_the_consumers_stream():
    stream = "arn:aws:kinesis:us-east-1:123456789012:stream/orders--dev--events"
    consumer = f"{stream}/consumer/orders--dev--processor:1700000000"
    assert stream_arn_of(consumer) == stream
    assert stream_arn_of(stream) == stream


def test_mapping_settings_the_program_leaves_out_get_lambdas_defaults(deployed):
    """What CreateEventSourceMapping gives a Kinesis mapping's optional settings when they are left out."""
    deployment, clients, _ = deployed
    function_arn = next(iter(deployment.event_source_mappings.values()))["FunctionArn"]
    stream = "arn:aws:kinesis:us-east-1:123456789012:stream/any"
    inputs = {"functionName": function_arn, "eventSourceArn": stream, "startingPosition": "LATEST"}

    description = describe_event_source_mapping(clients, "uuid-1", "arn:mapping", inputs)

    assert set(description) == DESCRIBED_FIELDS
    assert (description["BatchSize"], description["MaximumBatchingWindowInSeconds"]) == (100, 0)
    assert (description["ParallelizationFactor"], description["BisectBatchOnFunctionError"]) == (1, False)
    assert (description["MaximumRetryAttempts"], description["MaximumRecordAgeInSeconds"]) == (-1, -1)
    assert description["FunctionResponseTypes"] == []
    assert description["DestinationConfig"] == {"OnFailure": {}, "OnSuccess": {}}
