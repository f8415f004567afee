"""The offline engine: the Pulumi program evaluated under Pulumi's mocks, no credentials and no CLI.

`tributary plan`, the tests and the benchmarks read the program through `evaluate`; the sandbox passes
its own `Mocks` (which create each resource in an AWS emulator) to the same function. `evaluate_main` runs
the project's `__main__.py` itself, with a stack's config, as `pulumi up` would. ARNs are fabricated
in AWS's own formats from the physical names, so policy documents resolve to what AWS would see.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import runpy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_pulumi_func

from components import program
from components.collector import young_collections_only
from components.source_positions import not_recorded
from components.stack import StackSettings

PROJECT = "tributary"
ACCOUNT_ID = "123456789012"
PARTITION = "aws"
COMPONENT_TYPE = "tributary:index:TenantPipeline"
# The mock engine keeps global state: one evaluation at a time per process.
_ENGINE_LOCK = threading.Lock()
# Threads serving the mock monitor when the mocks answer from memory. They hold the interpreter lock throughout,
# so more threads only contend for it with the event loop, and serve the calls in no set order: one serves them
# in the order the program sent them.
IN_MEMORY_MONITOR_THREADS = 1


@dataclass
class RegisteredResource:
    """One resource the program registered: as `plan --json` prints it."""

    tenant: str | None
    type: str
    name: str
    inputs: dict[str, Any]
    id: str = ""
    state: dict[str, Any] = field(default_factory=dict)

    def as_plan(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "type": self.type, "name": self.name, "inputs": self.inputs}


def _short_hash(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:8]


def _key_id(name: str) -> str:
    digest = hashlib.sha256(name.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


class FabricatingMocks(pulumi.runtime.Mocks):
    """Mocks that answer like AWS: ids and ARNs derived from each resource's physical name."""

    def __init__(self, region: str, account_id: str = ACCOUNT_ID):
        self.region = region
        self.account_id = account_id
        self.providers: dict[str, dict[str, Any]] = {}
        self.resources: list[RegisteredResource] = []
        self._lock = threading.Lock()
        self._registering = threading.local()

    # -- where a resource belongs -------------------------------------------------------------------------
    @property
    def current_tenant(self) -> str | None:
        """The tenant of the resource being registered on this thread (set by the monitor)."""
        return getattr(self._registering, "tenant", None)

    def placement(self, provider_ref: str | None) -> tuple[str, str]:
        """(region, account) of a resource or call, following its explicit provider, if any."""
        provider = self.providers.get((provider_ref or "").rpartition("::")[2])
        if not provider:
            return self.region, self.account_id
        roles = provider.get("assumeRoles") or []
        roles = json.loads(roles) if isinstance(roles, str) else roles  # providers get objects as JSON text
        account = roles[0]["roleArn"].split(":")[4] if roles else self.account_id
        return provider.get("region") or self.region, account

    # -- pulumi.runtime.Mocks --------------------------------------------------------------------------------
    def call(self, args: pulumi.runtime.MockCallArgs):
        region, account = self.placement(args.provider)
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": account,
                "arn": f"arn:{PARTITION}:iam::{account}:user/tributary",
                "userId": "AIDATRIBUTARY",
                "id": account,
            }, []
        if token == "aws:index/getRegion:getRegion":
            return {"name": region, "region": region, "id": region, "endpoint": f"{region}.amazonaws.com"}, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": PARTITION, "dnsSuffix": "amazonaws.com", "id": PARTITION}, []
        return {}, []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        region, account = self.placement(args.provider)
        resource_id, state = self.fabricate(args.typ, args.name, dict(args.inputs), region, account)
        if args.typ.startswith("pulumi:providers:"):
            self.providers[resource_id] = dict(args.inputs)
        self.record(args, resource_id, state)
        return resource_id, state

    def record(self, args: pulumi.runtime.MockResourceArgs, resource_id: str, state: dict[str, Any]) -> None:
        with self._lock:
            self.resources.append(
                RegisteredResource(
                    tenant=self.current_tenant,
                    type=args.typ,
                    name=args.name,
                    inputs=dict(args.inputs),
                    id=resource_id,
                    state=state,
                )
            )

    # -- fabricated ids and ARNs -------------------------------------------------------------------------
    def fabricate(self, typ: str, name: str, inputs: dict, region: str, account: str) -> tuple[str, dict]:
        physical = (
            inputs.get("name")
            or inputs.get("bucket")
            or inputs.get("dashboardName")
            or f"{name}-{_short_hash(typ, name)}"
        )
        arn_prefix = f"arn:{PARTITION}"
        regional = f"{region}:{account}"
        builders = {
            "aws:kms/key:Key": lambda: (
                _key_id(name),
                {"arn": f"{arn_prefix}:kms:{regional}:key/{_key_id(name)}", "keyId": _key_id(name)},
            ),
            "aws:kinesis/stream:Stream": lambda: (
                f"{arn_prefix}:kinesis:{regional}:stream/{physical}",
                {"arn": f"{arn_prefix}:kinesis:{regional}:stream/{physical}", "name": physical},
            ),
            "aws:kinesis/streamConsumer:StreamConsumer": lambda: (
                f"{inputs.get('streamArn')}/consumer/{physical}:1700000000",
                {"arn": f"{inputs.get('streamArn')}/consumer/{physical}:1700000000", "name": physical},
            ),
            "aws:dynamodb/table:Table": lambda: (
                physical,
                {"arn": f"{arn_prefix}:dynamodb:{regional}:table/{physical}", "name": physical},
            ),
            "aws:sqs/queue:Queue": lambda: (
                f"https://sqs.{region}.amazonaws.com/{account}/{physical}",
                {
                    "arn": f"{arn_prefix}:sqs:{regional}:{physical}",
                    "url": f"https://sqs.{region}.amazonaws.com/{account}/{physical}",
                    "name": physical,
                },
            ),
            "aws:s3/bucket:Bucket": lambda: (
                physical,
                {"arn": f"{arn_prefix}:s3:::{physical}", "bucket": physical, "region": region},
            ),
            "aws:iam/role:Role": lambda: (
                physical,
                {
                    "arn": f"{arn_prefix}:iam::{account}:role/{physical}",
                    "name": physical,
                    "uniqueId": f"AROA{_short_hash(physical).upper()}",
                },
            ),
            "aws:cloudwatch/logGroup:LogGroup": lambda: (
                physical,
                {"arn": f"{arn_prefix}:logs:{regional}:log-group:{physical}", "name": physical},
            ),
            "aws:lambda/function:Function": lambda: (
                physical,
                {
                    "arn": f"{arn_prefix}:lambda:{regional}:function:{physical}",
                    "name": physical,
                    "qualifiedArn": f"{arn_prefix}:lambda:{regional}:function:{physical}:$LATEST",
                    "version": "$LATEST",
                },
            ),
            "aws:lambda/eventSourceMapping:EventSourceMapping": lambda: (
                _key_id(name),
                {"uuid": _key_id(name), "arn": f"{arn_prefix}:lambda:{regional}:event-source-mapping:{_key_id(name)}"},
            ),
            "aws:sns/topic:Topic": lambda: (
                f"{arn_prefix}:sns:{regional}:{physical}",
                {"arn": f"{arn_prefix}:sns:{regional}:{physical}", "name": physical},
            ),
            "aws:cloudwatch/metricAlarm:MetricAlarm": lambda: (
                physical,
                {"arn": f"{arn_prefix}:cloudwatch:{regional}:alarm:{physical}"},
            ),
            "aws:cloudwatch/dashboard:Dashboard": lambda: (
                physical,
                {"dashboardArn": f"{arn_prefix}:cloudwatch::{account}:dashboard/{physical}"},
            ),
            "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": lambda: (
                f"{arn_prefix}:firehose:{regional}:deliverystream/{physical}",
                {"arn": f"{arn_prefix}:firehose:{regional}:deliverystream/{physical}", "name": physical},
            ),
            "aws:glue/catalogDatabase:CatalogDatabase": lambda: (
                f"{account}:{physical}",
                {"arn": f"{arn_prefix}:glue:{regional}:database/{physical}", "name": physical},
            ),
            "aws:glue/catalogTable:CatalogTable": lambda: (
                f"{account}:{inputs.get('databaseName')}:{physical}",
                {
                    "arn": f"{arn_prefix}:glue:{regional}:table/{inputs.get('databaseName')}/{physical}",
                    "name": physical,
                },
            ),
            "aws:kms/alias:Alias": lambda: (physical, {"arn": f"{arn_prefix}:kms:{regional}:{physical}"}),
        }
        builder = builders.get(typ)
        if builder is not None:
            resource_id, outputs = builder()
        else:
            resource_id, outputs = f"{physical}", {}
        return resource_id, {**inputs, **outputs}


class TenantTrackingMonitor(MockMonitor):
    """The mock monitor, telling the mocks which tenant each resource belongs to: the pipeline
    component it descends from, by parent URN (names alone are ambiguous: `ab-catalog` could be
    tenant `ab`'s catalog or tenant `ab-catalog`)."""

    def __init__(self, mocks: FabricatingMocks):
        super().__init__(mocks)
        self._tenant_of_urn: dict[str, str | None] = {}

    def RegisterResource(self, request):  # noqa: N802 - the gRPC method's name
        tenant = request.name if request.type == COMPONENT_TYPE else self._tenant_of_urn.get(request.parent)
        self.mocks._registering.tenant = tenant
        response = super().RegisterResource(request)
        self._tenant_of_urn[response.urn] = tenant
        return response


@dataclass
class Evaluation:
    """What one evaluation of the program registered."""

    stack: str
    resources: list[RegisteredResource]
    outputs: dict[str, Any]

    def by_tenant(self) -> dict[str, list[RegisteredResource]]:
        grouped: dict[str, list[RegisteredResource]] = {}
        for resource in self.resources:
            if resource.tenant is not None:
                grouped.setdefault(resource.tenant, []).append(resource)
        return grouped


def offline_settings(settings: StackSettings) -> StackSettings:
    # Offline runs never upload the code, so they do not need the vendored dependencies built.
    return settings.model_copy(update={"require_packaged_dependencies": False})


def evaluate(
    project_dir: Path,
    stack: str,
    settings: StackSettings,
    mocks: FabricatingMocks | None = None,
) -> Evaluation:
    """Run the program once under mocks, in a fresh event loop; raise TenantFileError for bad files.

    Given no mocks, the engine's own answer from memory: tenants are then built one at a time and one thread
    serves the monitor (`_tenant_by_tenant`, `IN_MEMORY_MONITOR_THREADS`). Mocks given by the caller may wait on
    a network (the sandbox's emulator): the program then runs as `pulumi up` runs it, with asyncio's threads."""
    settings = offline_settings(settings)
    if mocks is not None:
        return _run_under_mocks(stack, mocks, lambda: program.run(project_dir, stack, settings))
    return _run_under_mocks(
        stack,
        FabricatingMocks(region=settings.region),
        lambda: _tenant_by_tenant(project_dir, stack, settings),
        monitor_threads=IN_MEMORY_MONITOR_THREADS,
    )


async def _tenant_by_tenant(project_dir: Path, stack: str, settings: StackSettings) -> None:
    """The program, each tenant's resources registered before the next tenant is built.

    Run as one call, the program builds every tenant before the engine registers a single resource, so every
    resource's pending registration (its tasks and their frames, its request) is alive at once: the plan's peak
    memory was twice what the registered resources keep. Awaiting each tenant's registrations first keeps one
    tenant's in flight."""
    for _tenant, pipeline in program.build(project_dir, stack, settings):
        # A resource's URN resolves once the engine has registered it. Every resource of the tenant is a child
        # of its pipeline (components/context.py: PipelineContext.opts), which the SDK keeps in _childResources.
        await asyncio.gather(*(child.urn.future() for child in pipeline._childResources))


def evaluate_main(
    project_dir: Path, stack: str, config: Mapping[str, str], mocks: FabricatingMocks | None = None
) -> Evaluation:
    """Run the project's `__main__.py` under mocks as `pulumi up` runs it: `config` is the stack's configuration
    as the engine hands it over (`{"tributary:tenants": '["orders"]', "aws:region": "eu-west-1"}`, values as
    JSON text), read by the program itself, packaged dependencies required. Its refusals are raised as it raises
    them (`pulumi.RunError`)."""
    region = config.get("aws:region") or StackSettings.model_fields["region"].default
    mocks = mocks or FabricatingMocks(region=region)
    main = project_dir / "__main__.py"
    return _run_under_mocks(stack, mocks, lambda: runpy.run_path(str(main)), config)


def _run_under_mocks(
    stack: str,
    mocks: FabricatingMocks,
    run: Callable[[], Any],
    config: Mapping[str, str] | None = None,
    monitor_threads: int | None = None,
) -> Evaluation:
    """`run` as the program of `stack`, in a fresh event loop with fresh mocks, `config` as the stack's
    configuration (none given: the engine's is left as it is), the monitor's calls served by `monitor_threads`
    threads (None: asyncio's default pool); the engine is left clean for the next run."""
    with _ENGINE_LOCK, young_collections_only(), not_recorded():
        loop = asyncio.new_event_loop()
        if monitor_threads is not None:
            # The SDK sends every call to the monitor through the loop's default executor; closing the loop
            # shuts this one down.
            loop.set_default_executor(
                concurrent.futures.ThreadPoolExecutor(max_workers=monitor_threads, thread_name_prefix="mock-monitor")
            )
        asyncio.set_event_loop(loop)
        try:
            runtime_settings.ROOT.set(None)
            if config is not None:
                pulumi.runtime.set_all_config(dict(config))
            pulumi.runtime.set_mocks(
                mocks, project=PROJECT, stack=stack, preview=False, monitor=TenantTrackingMonitor(mocks)
            )
            loop.run_until_complete(run_pulumi_func(run))
            root = pulumi.runtime.get_root_resource()
            outputs = loop.run_until_complete(_resolve(getattr(root, "outputs", {})))
        finally:
            _cancel_pending(loop)
            if config is not None:
                pulumi.runtime.set_all_config({})
            runtime_settings.ROOT.set(None)
            asyncio.set_event_loop(None)
            loop.close()
    return Evaluation(stack=stack, resources=list(mocks.resources), outputs=outputs)


def _cancel_pending(loop: asyncio.AbstractEventLoop) -> None:
    """A program that failed part-way leaves the engine's RPC tasks pending: cancel them, so closing the loop
    does not leave asyncio to report each one as "destroyed but pending" when the process exits."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


async def _resolve(value: Any) -> Any:
    """Stack outputs as plain values."""
    return await pulumi.Output.from_input(value).future()
