"""Tracing (runtime/tracing.py): importing the handler builds no AWS client, session or X-Ray sampler; with
tracing on in Lambda the invocation still sends its X-Ray subsegments, the handler's and one per AWS call; with
tracing off the X-Ray SDK is never loaded.

Each case runs in a fresh interpreter: tracing patches botocore for the whole process, and the import is what is
measured. The X-Ray daemon is a UDP socket of this test, which reads what the SDK sends it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from runtime import settings

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "events" / "kinesis_batch.json"
TRACE_HEADER = "Root=1-6745a1b2-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"
TENANT = {
    settings.TENANT: "acme",
    settings.TABLE_NAME: "acme-table",
    settings.PARTITION_KEY: "device#{device_id}",
    settings.SORT_KEY: "{day}",
    settings.EVENT_ID_FIELD: "event_id",
    settings.TIMESTAMP_FIELD: "ts",
    # the fixture's third record breaks it: one message to the failure queue, so an SQS call too
    settings.SCHEMA: json.dumps({"type": "object", "properties": {"temp": {"type": "number"}}}),
}
IN_LAMBDA = {
    "AWS_LAMBDA_FUNCTION_NAME": "acme-processor",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
    "LAMBDA_TASK_ROOT": str(ROOT),
    "AWS_REGION": "us-east-1",
    "_X_AMZN_TRACE_ID": TRACE_HEADER,
}
IMPORT_ONLY = """
import gc, sys
import runtime.handler
from botocore.client import BaseClient
from botocore.session import Session
built = [type(o).__name__ for o in gc.get_objects() if isinstance(o, (BaseClient, Session))]
print(sorted({m.split(".")[0] for m in sys.modules if m.startswith("aws_xray_sdk")}), built)
"""
INVOKE = f"""
import json, sys
sys.path.insert(0, {str(ROOT / "tests" / "runtime")!r})
from runtime_helpers import FakeContext, aws_account
with aws_account() as (_, _, queue_url):
    import os
    os.environ[{settings.FAILURE_QUEUE_URL!r}] = queue_url
    import runtime.handler
    batch = json.loads(open({str(FIXTURE)!r}).read())
    print("response:", json.dumps(runtime.handler.handler(batch, FakeContext())))
print("xray loaded:", "aws_xray_sdk.core" in sys.modules)
"""


def response(out: str) -> dict:
    (line,) = [line for line in out.splitlines() if line.startswith("response: ")]
    return json.loads(line.removeprefix("response: "))


def run(code: str, **environment: str) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TRIBUTARY_", "AWS_", "POWERTOOLS_", "LAMBDA_"))}
    credentials = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **credentials, **TENANT, **environment},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("environment", [IN_LAMBDA, {}], ids=["in Lambda, tracing on", "outside Lambda"])
def test_tracing_import_builds_no_client_session_or_sampler(environment):
    assert run(IMPORT_ONLY, **environment).strip().splitlines()[-1] == "[] []"


def test_tracing_on_in_lambda_sends_the_handler_and_every_aws_call_as_subsegments():
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    daemon.settimeout(0)  # everything was sent before the interpreter exited; reading never waits
    address = f"127.0.0.1:{daemon.getsockname()[1]}"
    try:
        out = run(INVOKE, **IN_LAMBDA, AWS_XRAY_DAEMON_ADDRESS=address)
        documents = []
        while True:
            try:
                datagram = daemon.recv(65536).decode()
            except BlockingIOError:
                break
            documents.append(json.loads(datagram.split("\n", 1)[1]))  # after the {"format": "json"} header
    finally:
        daemon.close()
    assert response(out) == {"batchItemFailures": []}
    subsegments = {}
    for document in documents:
        for entity in [document, *document.get("subsegments", [])]:
            subsegments.setdefault(entity["name"], []).append(entity)
    (handler,) = subsegments["## handler"]
    assert handler["trace_id"] == TRACE_HEADER.split(";")[0].removeprefix("Root=")
    assert handler["annotations"] == {"ColdStart": True, "Service": settings.SERVICE_NAME, "tenant": "acme"}
    calls = [entity for name in ("dynamodb", "sqs") for entity in subsegments.get(name, [])]
    assert {(call["name"], call["aws"]["operation"]) for call in calls} == {
        ("dynamodb", "BatchWriteItem"),
        ("sqs", "SendMessageBatch"),
    }
    # in the invocation's trace, under the function's segment (each call runs on a thread of its own, retry.py)
    assert {(call["trace_id"], call["parent_id"]) for call in calls} == {(handler["trace_id"], handler["parent_id"])}


def test_tracing_off_never_loads_the_xray_sdk():
    out = run(INVOKE, **IN_LAMBDA, POWERTOOLS_TRACE_DISABLED="1")
    assert response(out) == {"batchItemFailures": []}
    assert out.splitlines()[-1] == "xray loaded: False"
