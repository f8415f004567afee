"""Deploy the Pulumi program into an AWS emulator: the offline engine with mocks that create for real.

`EmulatorMocks.new_resource` receives each resource's inputs exactly as the program registered them and
creates it in the emulator (`creators.py`), answering with the emulator's own id and ARN, so dependents
receive real ARNs in dependency order (key -> stream/queue -> mapping). There is no second definition of the
infrastructure: change a component and the sandbox follows.

What the emulator cannot run (the event source mapping) is described as AWS describes it (`described.py`)
and kept in the deployment record; the sandbox's own engines run it (event_source.py, firehose.py).
`Deployment` is that record (`.sandbox/deployment.json`), read again by `send` and `drain`.
"""

from __future__ import annotations

import json
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from components.offline import Evaluation, FabricatingMocks, RegisteredResource, evaluate
from components.stack import StackSettings
from sandbox.engines.emulator import DUMMY_ACCOUNT, EmulatorClients
from sandbox.session.creators import CREATORS
from sandbox.session.described import EVENT_SOURCE_MAPPING, describe_event_source_mapping
from sandbox.session.paths import ROOT_NAME


class DeployError(Exception):
    """Raised when the sandbox cannot deploy or use a deployment: the emulator refuses a resource (named,
    with the emulator's message), nothing listens at its URL, or the deployment record is unusable."""


# How long `check_endpoint` waits for a TCP connection: loopback answers at once, so a wait means nothing is there.
CONNECT_TIMEOUT_SECONDS = 3.0
START_OVER = (
    "start an emulator and run `tributary sandbox deploy --endpoint-url URL` again, "
    f"or delete {ROOT_NAME}/ to start over"
)


def _address(endpoint_url: str) -> tuple[str, int] | None:
    """(host, port) of an http(s) URL, or None if it is not one."""
    parts = urlsplit(endpoint_url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname, port


def _unreachable(endpoint_url: str) -> str | None:
    """Why nothing can be reached at `endpoint_url` (a malformed URL, or no TCP listener), or None."""
    address = _address(endpoint_url)
    if address is None:
        return "not an emulator URL; expected http://HOST:PORT, e.g. http://127.0.0.1:4566"
    try:
        socket.create_connection(address, timeout=CONNECT_TIMEOUT_SECONDS).close()
    except OSError as error:
        return f"nothing is listening there ({error.strerror or error})"
    return None


def check_endpoint(endpoint_url: str) -> None:
    """Raise DeployError unless something accepts connections at `endpoint_url` (checked before any AWS call,
    so an unreachable emulator is one clear line instead of one refusal per resource)."""
    problem = _unreachable(endpoint_url)
    if problem and _address(endpoint_url) is None:
        raise DeployError(f"{endpoint_url}: {problem}")
    if problem:
        raise DeployError(
            f"{endpoint_url}: {problem}; start an emulator there (`tributary sandbox serve`), "
            "or leave out --endpoint-url and the sandbox starts its own"
        )


def refused(errors: list[str]) -> DeployError:
    """One line for the emulator's refusals: the first in full, then how many more (each is in the first's shape)."""
    more = f" (and {len(errors) - 1} more resources refused)" if len(errors) > 1 else ""
    first = " ".join(errors[0].split())  # botocore's messages may span lines
    return DeployError(f"the emulator refused a resource: {first}{more}")


class EmulatorMocks(FabricatingMocks):
    """Mocks whose resources are created in the emulator; ids and ARNs are the emulator's own."""

    def __init__(self, endpoint_url: str, region: str):
        super().__init__(region=region, account_id=DUMMY_ACCOUNT)
        self.clients = EmulatorClients(endpoint_url, region)
        self.errors: list[str] = []
        # Each event source mapping as GetEventSourceMapping describes it, by UUID: the sandbox runs them.
        self.event_source_mappings: dict[str, dict[str, Any]] = {}

    def placement(self, provider_ref: str | None) -> tuple[str, str]:
        # The emulator is one account and one region: tenants with their own account land there too.
        return self.region, self.account_id

    def fabricate(self, typ: str, name: str, inputs: dict, region: str, account: str) -> tuple[str, dict]:
        create = CREATORS.get(typ)
        if create is None and typ != EVENT_SOURCE_MAPPING:
            return super().fabricate(typ, name, inputs, region, account)
        try:
            if create is None:
                return self._describe_mapping(typ, name, inputs, region, account)
            resource_id, outputs = create(self.clients, name, inputs)
        except Exception as error:  # the emulator's refusal, whatever the service's error type
            message = f"{typ} {name}: {error}"
            self.errors.append(message)
            raise DeployError(message) from error
        return resource_id, {**inputs, **outputs}

    def _describe_mapping(self, typ: str, name: str, inputs: dict, region: str, account: str) -> tuple[str, dict]:
        """Not created in the emulator, which would never poll the stream: a fabricated UUID, and the mapping
        described for the sandbox to run."""
        uuid, state = super().fabricate(typ, name, inputs, region, account)
        self.event_source_mappings[uuid] = describe_event_source_mapping(self.clients, uuid, state["arn"], inputs)
        return uuid, state


@dataclass
class Deployment:
    """What the sandbox deployed: the program's evaluation, with the emulator's ids and ARNs."""

    endpoint_url: str
    region: str
    evaluation: Evaluation
    # Each event source mapping the sandbox runs, by UUID, as GetEventSourceMapping describes it.
    event_source_mappings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def tenants(self) -> list[str]:
        return sorted(self.evaluation.by_tenant())

    def save(self, path: Path) -> None:
        """Write what was deployed, so `send` and `drain` in later commands find it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "endpoint_url": self.endpoint_url,
            "region": self.region,
            "stack": self.evaluation.stack,
            "outputs": self.evaluation.outputs,
            "resources": [asdict(resource) for resource in self.evaluation.resources],
            "event_source_mappings": self.event_source_mappings,
        }
        path.write_text(json.dumps(document, indent=1, default=str), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Deployment:
        """Read what `save` wrote; DeployError (saying how to start over) for a missing, foreign or damaged file."""
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DeployError(f"{path}: nothing deployed yet; run `tributary sandbox deploy` first") from None
        except (OSError, ValueError) as error:
            raise DeployError(f"{path}: not a deployment record ({error}); {START_OVER}") from None
        problem = _record_problem(document)
        if problem:
            raise DeployError(f"{path}: not a deployment record ({problem}); {START_OVER}")
        try:
            resources = [RegisteredResource(**resource) for resource in document["resources"]]
        except TypeError as error:
            raise DeployError(f"{path}: not a deployment record (a resource {error}); {START_OVER}") from None
        evaluation = Evaluation(stack=document["stack"], resources=resources, outputs=document["outputs"])
        return cls(
            endpoint_url=document["endpoint_url"],
            region=document["region"],
            evaluation=evaluation,
            event_source_mappings=document["event_source_mappings"],
        )

    def check_live(self, path: Path) -> None:
        """Raise DeployError unless the emulator at `endpoint_url` still holds every tenant's stream: a stopped
        emulator, or a new one at the same URL (moto keeps nothing across restarts), both need a new deploy."""
        url = self.endpoint_url
        again = f"deploy again (`tributary sandbox deploy --endpoint-url {url}`), or delete {ROOT_NAME}/ to start over"
        problem = _unreachable(url)
        if problem:
            raise DeployError(
                f"{path}: records a deployment at {url}: {problem}; start the emulator there, then {again}"
            )
        kinesis = EmulatorClients(url, self.region).kinesis
        for tenant in self.tenants():
            outputs = self.evaluation.outputs.get(tenant)
            stream = outputs.get("stream_name") if isinstance(outputs, dict) else None
            if not isinstance(stream, str):
                raise DeployError(f"{path}: not a deployment record (no stream for {tenant}); {START_OVER}")
            try:
                kinesis.describe_stream_summary(StreamName=stream)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "an error")
                raise DeployError(
                    f"{path}: the emulator at {url} answers {code} for tenant {tenant}'s stream {stream}: "
                    f"it was restarted since the deploy; {again}"
                ) from None
            except BotoCoreError as error:
                raise DeployError(f"{path}: the emulator at {url} cannot be used ({error}); {again}") from None


# The fields `Deployment.save` writes, with their JSON types.
_RECORD_FIELDS = {
    "endpoint_url": str,
    "region": str,
    "stack": str,
    "outputs": dict,
    "resources": list,
    "event_source_mappings": dict,
}


def _record_problem(document: Any) -> str | None:
    """What makes `document` something other than a deployment record, or None."""
    if not isinstance(document, dict):
        return f"a JSON {type(document).__name__}, not an object"
    missing = [name for name in _RECORD_FIELDS if name not in document]
    if missing:
        return f"missing {', '.join(missing)}"
    for name, kind in _RECORD_FIELDS.items():
        if not isinstance(document[name], kind):
            return f"{name} is not a JSON {'string' if kind is str else 'object' if kind is dict else 'array'}"
    if not all(isinstance(resource, dict) for resource in document["resources"]):
        return "resources holds something other than objects"
    return None


def deploy(project_dir: Path, stack: str, settings: StackSettings, endpoint_url: str) -> Deployment:
    """Apply the program to the emulator at `endpoint_url`. Raises DeployError or TenantFileError."""
    check_endpoint(endpoint_url)
    mocks = EmulatorMocks(endpoint_url, settings.region)
    try:
        evaluation = evaluate(project_dir, stack, settings, mocks=mocks)
    except Exception as error:
        if mocks.errors:
            raise refused(mocks.errors) from error
        raise
    if mocks.errors:
        raise refused(mocks.errors)
    return Deployment(
        endpoint_url=endpoint_url,
        region=settings.region,
        evaluation=evaluation,
        event_source_mappings=mocks.event_source_mappings,
    )
