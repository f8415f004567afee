"""A sandbox session: deploy every tenant into the emulator, run what the emulator cannot, stream traffic.

    with Sandbox(project_dir, "dev", options) as sandbox:
        sandbox.produce()
        sandbox.drain()
        report = build_report(sandbox)  # sandbox/session/report.py

Each tenant's event source mapping and Firehose delivery run with the settings AWS's own descriptions of the
deployed resources give them (`tenant_specs.py`): the mapping as the deployment record describes it, the
function and the delivery stream as the emulator stores them. Its state between commands lives in
`SandboxPaths(options.work_dir)`.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from components.config import TenantFile, load_tenants, tenant_files
from components.lifecycle import runs_pipeline
from components.offline import RegisteredResource
from components.stack import StackSettings, read_stack_file
from runtime import settings as handler_settings
from sandbox.engines.emulator import Emulator, EmulatorClients
from sandbox.engines.emulator import client as emulator_client
from sandbox.engines.event_source import EventSourceMapping
from sandbox.engines.faults import FaultPlan
from sandbox.engines.firehose import FirehoseDelivery
from sandbox.engines.observe import AlarmEvaluator, AlarmState, EmfReader, LogDelivery, MetricSink
from sandbox.engines.specs import DeliverySpec, MappingSpec
from sandbox.engines.workers import FunctionWorkers, worker_concurrency
from sandbox.session import traffic
from sandbox.session.deploy import DeployError, Deployment, deploy
from sandbox.session.drain import wait_until_drained
from sandbox.session.paths import SandboxPaths
from sandbox.session.recording import CallRecording
from sandbox.session.synthetic import TrafficOptions, traffic_hints
from sandbox.session.tenant_specs import TenantSpecs, read_tenant_specs

# Each execution environment is a process that imports the handler; on a laptop's few cores more of them per
# function only take turns, and each costs an interpreter's start and memory.
MAX_WORKERS_PER_FUNCTION = 2
WARM_TIMEOUT_SECONDS = 120.0  # the environments' init phases, started together on a loaded machine
# How long a caught-up mapping or delivery waits before polling its shards again. Lambda polls an idle
# shard about once a second; every tenant's pollers share one emulator, so idle ones must stay quiet.
IDLE_POLL_SECONDS = 0.25


@dataclass(frozen=True)
class SandboxOptions:
    events: int = 1000  # per tenant
    rate: float = 0.0  # events per second per tenant; 0 = as fast as the emulator takes them
    duplicates_pct: float = 5.0
    invalid_pct: float = 2.0
    out_of_order_pct: float = 5.0
    faults: FaultPlan = field(default_factory=FaultPlan)
    time_scale: float = 0.02  # batching windows and Firehose buffer intervals are this much shorter
    seed: int = 7
    work_dir: Path = SandboxPaths.for_project(Path(".")).root  # where the session keeps its state
    # The access proof: every AWS call of every principal is recorded here (JSON Lines of access.calls.Call).
    call_log: Path | None = None


# --------------------------------------------------------------------------------- one tenant at run time


@dataclass
class TenantRun:
    tenant: TenantFile
    resources: list[RegisteredResource]
    mapping: MappingSpec
    delivery: DeliverySpec | None
    workers: FunctionWorkers
    esm: EventSourceMapping
    firehose: FirehoseDelivery | None
    log_path: Path
    emf: EmfReader
    outputs: dict[str, Any] = field(default_factory=dict)  # the tenant's stack outputs
    manifest: traffic.Manifest | None = None  # what the producers sent, once they are done
    log_delivery: LogDelivery | None = None  # the function's log lines into its log group (access proof)

    @property
    def name(self) -> str:
        return self.tenant.tenant


class Sandbox:
    """Every selected tenant's pipeline, deployed into the emulator and running on this machine."""

    def __init__(
        self,
        project_dir: Path,
        stack: str,
        options: SandboxOptions,
        endpoint_url: str | None = None,
        tenants: list[str] | None = None,
        deployment: Deployment | None = None,
    ):
        self.project_dir = project_dir
        self.stack = stack
        self.options = options
        self.paths = SandboxPaths(options.work_dir)
        self._endpoint_url = endpoint_url
        self._tenant_filter = tenants
        self._emulator: Emulator | None = None
        self.deployment: Deployment | None = deployment
        self.runs: dict[str, TenantRun] = {}
        self.started = datetime.now(UTC)
        self.drained_at: float | None = None  # time.monotonic() when the last drain had every record settled
        self.clients: EmulatorClients | None = None
        self.sink: MetricSink | None = None
        self._observer: threading.Thread | None = None
        self._observe_lock = threading.Lock()
        self._stop = threading.Event()
        self.alarm_states: list[AlarmState] = []
        self._resuming = False
        self._recording: CallRecording | None = None

    # -- lifecycle
    def settings(self) -> StackSettings:
        settings = read_stack_file(self.project_dir, self.stack)
        if self._tenant_filter:
            settings = settings.model_copy(update={"tenants": list(self._tenant_filter)})
        return settings

    def start(self) -> Sandbox:
        try:
            return self._start()
        except BaseException:
            self.close()  # the emulator and any workers already started
            raise

    def _start(self) -> Sandbox:
        settings = self.settings()
        if self._endpoint_url is None:
            self._emulator = Emulator()
            self._endpoint_url = self._emulator.start()
        resuming = self.deployment is not None
        if not resuming:
            # A fresh deployment: nothing read yet, no logs of earlier sessions.
            shutil.rmtree(self.paths.logs, ignore_errors=True)
            self.paths.positions.unlink(missing_ok=True)
            self.deployment = deploy(self.project_dir, self.stack, settings, self._endpoint_url)
            self.deployment.save(self.paths.deployment_record)
        self._resuming = resuming
        positions = self._load_positions()
        self.clients = EmulatorClients(self._endpoint_url, settings.region)
        self.sink = MetricSink(self.clients.cloudwatch)
        if self.options.call_log is not None:
            self._recording = CallRecording(self.options.call_log)
        tenants = {t.tenant: t for t in load_tenants(tenant_files(self.project_dir / settings.tenants_dir), self.stack)}
        for name, resources in self.deployment.evaluation.by_tenant().items():
            if self._tenant_filter and name not in self._tenant_filter:
                continue
            if name not in tenants:
                raise DeployError(f"{name}: deployed, but tenants/{name}.yaml is gone; deploy again")
            if not runs_pipeline(tenants[name].lifecycle):
                continue  # offboarded: its data stays deployed, with no stream, mapping or delivery to run
            self.runs[name] = self._start_tenant(tenants[name], resources, positions.get(name, {}))
        for run in self.runs.values():
            run.workers.wait_warm(timeout=WARM_TIMEOUT_SECONDS)
            run.esm.start()  # once its environments are ready: a batch waiting for one would count as a throttle
        self._observer = threading.Thread(target=self._observe_loop, daemon=True, name="sandbox-observer")
        self._observer.start()
        return self

    def _load_positions(self) -> dict[str, dict[str, dict[str, str]]]:
        """Where each tenant's mapping and delivery stopped reading, when resuming a deployment."""
        try:
            return json.loads(self.paths.positions.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}

    def save_positions(self) -> None:
        """Call once drained: every record read so far is settled, so later drains start after it."""
        positions = {
            name: {
                "mapping": run.esm.positions(),
                "delivery": run.firehose.positions() if run.firehose is not None else {},
            }
            for name, run in self.runs.items()
        }
        self.paths.positions.parent.mkdir(parents=True, exist_ok=True)
        self.paths.positions.write_text(json.dumps({**self._load_positions(), **positions}, indent=1))

    def _start_tenant(self, tenant: TenantFile, resources: list[RegisteredResource], positions: dict) -> TenantRun:
        assert self._endpoint_url is not None and self.sink is not None and self.deployment is not None
        region = self.deployment.region
        specs = read_tenant_specs(resources, self.deployment.event_source_mappings, self.clients)
        mapping = specs.mapping
        shards = len(self.clients.kinesis.list_shards(StreamARN=mapping.stream_arn)["Shards"])
        log_path = self.paths.function_log(mapping.function.name)
        concurrency = worker_concurrency(mapping.parallelization_factor, shards, cap=MAX_WORKERS_PER_FUNCTION)
        reserved = specs.reserved_concurrency
        workers = FunctionWorkers(
            mapping.function,
            self._endpoint_url,
            region,
            log_path=str(log_path),
            code_root=str(self.project_dir.resolve()),
            max_workers=min(concurrency, reserved) if reserved else concurrency,
            faults=self.options.faults,
            waits_are_throttles=reserved is not None and reserved <= MAX_WORKERS_PER_FUNCTION,
            process_setup=self._recording.process_setup(mapping.function.role_arn) if self._recording else None,
        )
        # Execution environments start now, while the other tenants start, not when the first batch waits.
        workers.prewarm()
        esm = EventSourceMapping(
            mapping,
            self._endpoint_url,
            region,
            workers,
            time_scale=self.options.time_scale,
            on_metric=self.sink.metric_hook("AWS/Lambda"),
            poll_interval=IDLE_POLL_SECONDS,
            resume_after=positions.get("mapping"),
            # Lambda reads the stream and writes the on-failure destination with the function's role.
            instrument=self._recording_as(mapping.function.role_arn),
        )
        firehose = self._firehose(specs, positions.get("delivery"))
        if firehose is not None:
            firehose.start()
        emf = EmfReader(log_path, from_end=self._resuming)  # earlier commands' metrics are counted already
        outputs = self.deployment.evaluation.outputs.get(tenant.tenant, {})
        run = TenantRun(tenant, resources, mapping, specs.delivery, workers, esm, firehose, log_path, emf, outputs)
        instrument = self._recording_as(mapping.function.role_arn)
        if instrument is not None:
            # Lambda ships the function's output to its log group with the function's role.
            logs = instrument(emulator_client("logs", self._endpoint_url, region))
            group = f"/aws/lambda/{mapping.function.name}"
            run.log_delivery = LogDelivery(logs, log_path, group, from_end=self._resuming)
        return run

    def _firehose(self, specs: TenantSpecs, resume_after: dict[str, str] | None) -> FirehoseDelivery | None:
        """The tenant's delivery stream, reading as Firehose's role, if it has one."""
        assert self._endpoint_url is not None and self.sink is not None and self.deployment is not None
        if specs.delivery is None:
            return None
        return FirehoseDelivery(
            specs.delivery,
            self._endpoint_url,
            self.deployment.region,
            time_scale=self.options.time_scale,
            on_metric=self.sink.metric_hook("AWS/Firehose"),
            poll_interval=IDLE_POLL_SECONDS,
            resume_after=resume_after,
            instrument=self._recording_as(specs.delivery_role),
        )

    def _recording_as(self, principal: str | None) -> Callable[[Any], Any] | None:
        """When the access proof runs: a hook that records a client's calls as `principal`'s."""
        return self._recording.as_principal(principal) if self._recording is not None else None

    def close(self) -> None:
        self._stop.set()
        if self._observer is not None:
            self._observer.join(timeout=10)
        for run in self.runs.values():
            run.esm.close()
            if run.firehose is not None:
                run.firehose.close()
            run.workers.close()
        if self._emulator is not None:
            self._emulator.stop()
        if self._recording is not None:
            self._recording.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def endpoint_url(self) -> str:
        assert self._endpoint_url is not None
        return self._endpoint_url

    # -- traffic
    def produce(self, on_progress: Callable[[], None] | None = None) -> None:
        """Each tenant's synthetic producers, generated from its schema, one thread per tenant."""
        options = TrafficOptions(
            events=self.options.events,
            rate=self.options.rate,
            duplicates_pct=self.options.duplicates_pct,
            invalid_pct=self.options.invalid_pct,
            out_of_order_pct=self.options.out_of_order_pct,
            seed=self.options.seed,
        )
        errors: list[BaseException] = []

        def produce_for(run: TenantRun) -> None:
            try:
                kinesis = EmulatorClients(self.endpoint_url, self.deployment.region).kinesis
                run.manifest = traffic.produce(
                    kinesis,
                    run.outputs["stream_name"],
                    run.tenant.records.schema_,
                    options,
                    traffic_hints(run.tenant),
                )
            except BaseException as error:  # reported after every producer has stopped
                errors.append(error)

        threads = [threading.Thread(target=produce_for, args=(run,), daemon=True) for run in self.runs.values()]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            time.sleep(0.2)
            if on_progress:
                on_progress()
        if errors:
            raise errors[0]

    # -- progress
    def _observe_loop(self) -> None:
        while not self._stop.wait(1.0):
            self.observe()

    def observe(self) -> None:
        """Collect metrics: the handlers' EMF, queue depths; put them into the emulator's CloudWatch."""
        # The observer thread and drain() both call this: one at a time, so each log line is read and counted once.
        with self._observe_lock:
            if self.sink is None or self.clients is None:
                return
            for run in self.runs.values():
                for datum in run.emf.read():
                    self.sink.add(datum)
                if run.log_delivery is not None:
                    run.log_delivery.deliver()
                url = run.outputs.get("failure_queue_url")
                if url:
                    attributes = self.clients.sqs.get_queue_attributes(
                        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
                    )["Attributes"]
                    queue_name = url.rsplit("/", 1)[1]
                    self.sink.metric_hook("AWS/SQS")(
                        "ApproximateNumberOfMessagesVisible",
                        float(attributes["ApproximateNumberOfMessages"]),
                        {"QueueName": queue_name},
                    )
            # Metrics are best effort: the emulator may be shutting down under us.
            with contextlib.suppress(Exception):
                self.sink.flush()

    def _notify(self, states: list[AlarmState]) -> None:
        """CloudWatch publishes an alarm's change to ALARM to its actions, as the service itself: the topic
        policy and the key policy must both let it (with the alarm as aws:SourceArn)."""
        for state in states:
            if state.state != "ALARM" or not state.actions:
                continue
            sns = emulator_client("sns", self.endpoint_url, self.deployment.region)
            if self._recording is not None:
                self._recording.as_cloudwatch(sns, state.arn)
            message = json.dumps({"AlarmName": state.name, "NewStateValue": "ALARM", "NewStateReason": state.reason})
            for topic in state.actions:
                sns.publish(TopicArn=topic, Subject=f"ALARM: {state.name}"[:100], Message=message)

    def drain(self, timeout: float = 300.0, on_progress: Callable[[], None] | None = None) -> bool:
        """Wait until every record put so far is processed and read (sandbox/session/drain.py), deliver what the
        deliveries buffer, then evaluate the alarms; `drained_at` is when the records were settled."""
        deliveries = [run.firehose for run in self.runs.values() if run.firehose is not None]
        if not wait_until_drained([run.esm for run in self.runs.values()], deliveries, timeout, on_progress):
            return False
        for run in self.runs.values():
            if run.firehose is not None:
                run.firehose.flush()
        self.drained_at = time.monotonic()
        self.observe()
        self.alarm_states = AlarmEvaluator(self.clients.cloudwatch, self.started).evaluate()
        self._notify(self.alarm_states)
        self.save_positions()
        return True

    # -- state
    def totals(self, tenant: str, metric: str, namespace: str = handler_settings.METRICS_NAMESPACE) -> float:
        """The session's sum of one of the handler's metrics for `tenant` (its tenant dimension)."""
        if self.sink is None:
            return 0.0
        return sum(
            value
            for (ns, name, dimensions), value in list(self.sink.totals.items())
            if ns == namespace and name == metric and (handler_settings.TENANT_DIMENSION, tenant) in dimensions
        )
