"""The tenant's own function and the settings its mapping runs it with, on AWS or in the sandbox.

One `Invoker` (sandbox/engines/event_source.py: `invoke(event) -> InvocationResult`), two implementations:

- AWS: `LambdaInvoker`, a synchronous Invoke of the deployed function, so its code, role and configuration are
  the pipeline's own. The mapping's batch size and stream come from ListEventSourceMappings, the role (the
  event's invokeIdentityArn) and timeout from GetFunctionConfiguration;
- the sandbox: the emulator does not run Lambda code, so the function runs in the sandbox's execution
  environments (`FunctionWorkers`), with the function and the mapping as the deployment record and the emulator
  describe them (sandbox/session/tenant_specs.py), as `tributary sandbox drain` runs them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from botocore.config import Config

from ops.redrive import ReplaySettings
from ops.target import Target
from sandbox.engines.event_source import Invoker
from sandbox.engines.specs import stream_name
from sandbox.engines.workers import InvocationResult

# A synchronous Invoke holds the connection for as long as the function runs, up to Lambda's 900 s timeout, so the
# client waits that long for the answer ("For functions with a long timeout, your client might disconnect during
# synchronous invocation", https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
MAX_FUNCTION_TIMEOUT_SECONDS = 900
INVOKE_CONFIG = Config(read_timeout=MAX_FUNCTION_TIMEOUT_SECONDS + 60, retries={"mode": "standard", "max_attempts": 3})


class RedriveSetupError(Exception):
    """Raised when the tenant's function or mapping cannot be found where it is deployed; one line."""


class LambdaInvoker:
    """The deployed function, invoked synchronously (RequestResponse) as the mapping invokes it."""

    def __init__(self, lambda_client: Any, function: str) -> None:
        self._lambda = lambda_client
        self._function = function

    def invoke(self, event: dict[str, Any]) -> InvocationResult:
        response = self._lambda.invoke(
            FunctionName=self._function, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
        )
        body = response["Payload"].read()
        request_id = response.get("ResponseMetadata", {}).get("RequestId", "")
        payload = _json(body)
        error = response.get("FunctionError")
        if error:  # the error's type and message are the response body (Invoke, "FunctionError")
            details = payload if isinstance(payload, dict) else {}
            return InvocationResult(
                request_id,
                payload=payload,
                function_error=error,
                error_type=str(details.get("errorType", error)),
                error_message=str(details.get("errorMessage", body[:200].decode("utf-8", "replace"))),
                status_code=int(response.get("StatusCode", 200)),
            )
        return InvocationResult(request_id, payload=payload, status_code=int(response.get("StatusCode", 200)))


def _json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return body.decode("utf-8", "replace")  # not JSON: `first_failed_index` refuses it, as Lambda does


@contextmanager
def replay_function(project: Path, target: Target) -> Iterator[tuple[ReplaySettings, Invoker]]:
    """The tenant's function, ready to invoke, and the settings its mapping runs it with."""
    if target.endpoint_url is None:
        client = target.session.client("lambda", region_name=target.names.region, config=INVOKE_CONFIG)
        yield aws_settings(target), LambdaInvoker(client, target.names.function)
        return
    with sandbox_function(project, target) as pair:
        yield pair


def aws_settings(target: Target) -> ReplaySettings:
    """The mapping that reads the tenant's stream into its function, and the function's role and timeout."""
    from sandbox.session.tenant_specs import stream_arn_of

    names = target.names
    lambda_ = target.client("lambda")
    configuration = lambda_.get_function_configuration(FunctionName=names.function)
    for page in lambda_.get_paginator("list_event_source_mappings").paginate(FunctionName=names.function):
        for mapping in page["EventSourceMappings"]:
            stream_arn = stream_arn_of(mapping["EventSourceArn"])
            if stream_name(stream_arn) == names.stream:
                return ReplaySettings(
                    stream_arn=stream_arn,
                    stream_name=names.stream,
                    region=names.region,
                    batch_size=int(mapping["BatchSize"]),
                    identity_arn=configuration["Role"],
                    timeout_seconds=int(configuration["Timeout"]),
                )
    raise RedriveSetupError(
        f"{names.tenant}: no event source mapping reads {names.stream} into {names.function} in {target.where}"
    )


@contextmanager
def sandbox_function(project: Path, target: Target) -> Iterator[tuple[ReplaySettings, Invoker]]:
    """The function in the sandbox's execution environments, as the deployment record describes it."""
    from sandbox.engines.emulator import EmulatorClients
    from sandbox.engines.workers import FunctionWorkers
    from sandbox.session.deploy import Deployment
    from sandbox.session.paths import SandboxPaths
    from sandbox.session.tenant_specs import read_tenant_specs

    paths = SandboxPaths.for_project(project)
    deployment = Deployment.load(paths.deployment_record)
    resources = deployment.evaluation.by_tenant()[target.names.tenant]
    clients = EmulatorClients(deployment.endpoint_url, deployment.region)
    try:
        mapping = read_tenant_specs(resources, deployment.event_source_mappings, clients).mapping
    except ValueError as error:
        raise RedriveSetupError(f"{target.names.tenant}: {error} in {paths.deployment_record}") from None
    function = mapping.function
    settings = ReplaySettings(
        stream_arn=mapping.stream_arn,
        stream_name=target.names.stream,
        region=deployment.region,
        batch_size=mapping.batch_size,
        identity_arn=function.role_arn or "",
        timeout_seconds=function.timeout_seconds,
    )
    workers = FunctionWorkers(
        function,
        deployment.endpoint_url,
        deployment.region,
        log_path=str(paths.function_log(function.name)),
        code_root=str(project.resolve()),
    )
    try:
        yield settings, workers
    finally:
        workers.close()
