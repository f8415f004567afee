"""What redrive sends and how it reads the answer: AWS's Invoke response as an InvocationResult, events chunked
within the mapping's batch size and Invoke's payload limit, and the AWS path on the core dependencies only."""

from __future__ import annotations

import io
import json

import boto3
from botocore.response import StreamingBody
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st
from test_dependencies import PYPROJECT, extra_requirements, importable_modules, run_without

from ops.invokers import LambdaInvoker
from ops.redrive import ReplaySettings, chunked
from sandbox.engines.event_source import MAX_PAYLOAD_BYTES
from sandbox.engines.lambda_records import first_failed_index, kinesis_event
from sandbox.engines.shard_reader import StreamRecord

FUNCTION = "tally--dev--processor"
EVENT = {"Records": []}


def _stubbed(response: dict) -> LambdaInvoker:
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    expected = {"FunctionName": FUNCTION, "InvocationType": "RequestResponse", "Payload": json.dumps(EVENT).encode()}
    stubber.add_response("invoke", response, expected)
    stubber.activate()
    return LambdaInvoker(client, FUNCTION)


def _body(payload: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(payload), len(payload))


def test_lambda_invoker_reads_a_partial_batch_response_as_the_mapping_does():
    answer = json.dumps({"batchItemFailures": [{"itemIdentifier": "2"}]}).encode()
    result = _stubbed({"StatusCode": 200, "Payload": _body(answer)}).invoke(EVENT)
    records = [StreamRecord("shardId-000000000000", str(n), "k", b"{}", 0.0) for n in (1, 2, 3)]
    assert result.ok and result.status_code == 200
    assert first_failed_index(result.payload, records) == 1


def test_lambda_invoker_reports_a_function_error_with_its_type_and_message():
    error = {"errorType": "Runtime.ExitError", "errorMessage": "RequestId: r Error: Runtime exited with error"}
    response = {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": _body(json.dumps(error).encode())}
    result = _stubbed(response).invoke(EVENT)
    assert not result.ok
    assert (result.function_error, result.error_type) == ("Unhandled", "Runtime.ExitError")
    assert result.error_message.startswith("RequestId: r Error")


def test_lambda_invoker_passes_a_response_that_is_not_json_on_for_the_mapping_to_refuse():
    result = _stubbed({"StatusCode": 200, "Payload": _body(b"ok")}).invoke(EVENT)
    assert result.ok and result.payload == "ok"


# --------------------------------------------------------------------------------- chunks

SETTINGS = ReplaySettings(
    "arn:aws:kinesis:us-east-1:123456789012:stream/tally--dev--events",
    "tally--dev--events",
    "us-east-1",
    batch_size=100,
    identity_arn="arn:aws:iam::123456789012:role/tally--dev--processor",
    timeout_seconds=60,
)
MIB = 1024 * 1024


def _event_bytes(records: list[StreamRecord], settings: ReplaySettings) -> int:
    return len(json.dumps(kinesis_event(records, settings.stream_arn, settings.region, settings.identity_arn)))


@given(
    sizes=st.lists(st.sampled_from([0, 10, 1000, MIB // 2, MIB, 3 * MIB]), min_size=1, max_size=12),
    batch_size=st.integers(min_value=1, max_value=5),
)
def test_redrive_chunks_keep_order_and_each_event_within_the_batch_size_and_payload_limit(sizes, batch_size):
    settings = ReplaySettings(**{**vars(SETTINGS), "batch_size": batch_size})
    records = [StreamRecord("shardId-000000000000", str(n), f"k{n}", b"x" * size, 1.0) for n, size in enumerate(sizes)]
    chunks = list(chunked(records, settings))
    assert [record for chunk in chunks for record in chunk] == records
    for chunk, following in zip(chunks, chunks[1:] + [None], strict=True):
        assert len(chunk) <= batch_size
        assert _event_bytes(chunk, settings) <= MAX_PAYLOAD_BYTES
        if following is not None:  # a chunk ends only where the next record would break a limit
            grown = chunk + following[:1]
            assert len(grown) > batch_size or _event_bytes(grown, settings) > MAX_PAYLOAD_BYTES


# --------------------------------------------------------------------------------- the core install


def test_redrive_imports_with_the_core_dependencies_only():
    """An operator's machine has no emulator: redrive on AWS needs the core install, like the other day-two
    commands (tests/ops/test_day_two_imports.py blocks the extras the same way)."""
    core = importable_modules(PYPROJECT["dependencies"])
    extras_only = sorted(importable_modules(extra_requirements("dev")) - core)
    assert "moto" in extras_only  # the block below means something
    code = (
        "import cli.day_two, ops.redrive, ops.invokers\n"
        "from sandbox.session.tenant_specs import stream_arn_of\n"  # what the AWS path imports when it runs
        "print(cli.day_two.redrive.__name__)\n"
    )
    result = run_without(extras_only, code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "redrive"
