"""The Lambda entry point: ``runtime.handler.handler``.

Powertools' canonical shape: module-level Logger, Tracer and Metrics (the Tracer built by the first traced
invocation, runtime/tracing.py, so that importing this module builds no client or sampler); the business logic is
``runtime.batch.process_batch`` (plain function, tests call it without Lambda). Powertools'
BatchProcessor reports only the failed records; Kinesis needs the first failure and everything
after it, so ``process_batch`` builds the same ``batchItemFailures`` response itself.

The configuration is read from the environment on the first invocation, not at import, so importing
this module never fails; a misconfigured function fails its first invocation with a message naming
the variable.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

# Loaded, not used, here: the first invocation builds its clients from boto3 (runtime/modes/base.py), and loading
# the library during init puts that cost where Lambda can pay it before any invocation waits (provisioned
# concurrency, SnapStart, an environment initialized ahead of need). Importing it builds no session or client.
import boto3  # noqa: F401
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from runtime import settings
from runtime.batch import batch_age_ms, process_batch
from runtime.config import HandlerConfig
from runtime.failures import FailureQueue
from runtime.modes import MODES
from runtime.modes.base import AwsClients, Writer
from runtime.records import shard_id_of
from runtime.retry import DEFAULT_SAFETY_MARGIN_MS, Deadline
from runtime.tracing import LazyTracer
from runtime.types import BatchResult

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or settings.SERVICE_NAME
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or settings.METRICS_NAMESPACE

logger = Logger(service=SERVICE)
tracer = LazyTracer(SERVICE)  # patches botocore when tracing: every DynamoDB/SQS call is a subsegment
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


class ConfiguredHandler:
    """The handler bound to one HandlerConfig: its writer and failure queue, called as Lambda calls a handler.

    ``handler`` builds one from the environment; tests build one from an explicit configuration.
    """

    def __init__(
        self,
        config: HandlerConfig,
        clients: AwsClients | None = None,
        writer: Writer | None = None,
        failure_sink: FailureQueue | None = None,
        safety_margin_ms: int = DEFAULT_SAFETY_MARGIN_MS,
    ):
        self.config = config
        self.clients = clients or AwsClients()
        self.writer = writer or MODES[config.write_mode].writer(config, self.clients)
        self.failure_sink = failure_sink or FailureQueue(self.clients, config.failure_queue_url, config.tenant)
        self.safety_margin_ms = safety_margin_ms

    def __call__(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        deadline = Deadline.from_context(context, self.safety_margin_ms)
        return process_batch(event, self.config, self.writer, self.failure_sink, deadline).response()


_configured: ConfiguredHandler | None = None
_lock = threading.Lock()


def _from_environment() -> ConfiguredHandler:
    global _configured
    with _lock:
        if _configured is None:
            _configured = ConfiguredHandler(HandlerConfig.from_env())
        return _configured


def reset() -> None:
    """Forget the configuration read from the environment (tests change env vars between cases)."""
    global _configured
    with _lock:
        _configured = None


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    configured = _from_environment()
    config = configured.config
    records = event.get("Records") or []
    metrics.add_dimension(name=settings.TENANT_DIMENSION, value=config.tenant)
    tracer.put_annotation(key="tenant", value=config.tenant)
    if records:
        logger.append_keys(
            tenant=config.tenant,
            shard_id=shard_id_of(records[0]),
            first_sequence=records[0]["kinesis"]["sequenceNumber"],
            last_sequence=records[-1]["kinesis"]["sequenceNumber"],
        )
    else:
        logger.append_keys(tenant=config.tenant)
    deadline = Deadline.from_context(context, configured.safety_margin_ms)
    result = process_batch(event, config, configured.writer, configured.failure_sink, deadline)
    _publish(result)
    return result.response()


# Each count metric and the BatchResult attribute it publishes.
METRICS = (
    (settings.RECORDS_RECEIVED, "received"),
    (settings.RECORDS_WRITTEN, "written"),
    (settings.DUPLICATES_SKIPPED, "duplicates"),
    (settings.STALE_SKIPPED, "stale"),
    (settings.RECORDS_INVALID, "invalid"),
    (settings.RECORDS_RETRIED, "transient"),
    (settings.WRITE_RETRIES, "retries"),
)


def _publish(result: BatchResult) -> None:
    for name, attribute in METRICS:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=getattr(result, attribute))
    metrics.add_metric(name=settings.BATCH_AGE_MILLISECONDS, unit=MetricUnit.Milliseconds, value=batch_age_ms(result))
    for failure in result.queued:  # the reason and position only: payloads are never logged
        logger.warning(
            "record sent to the failure queue",
            extra={
                "reason": failure.reason,
                "detail": failure.detail[:500],
                "sequence_number": failure.source.sequence_number,
                "sub_sequence_number": failure.source.sub_sequence_number,
            },
        )
    summary = {name: getattr(result, attribute) for name, attribute in METRICS}
    if result.batch_item_failures:
        logger.warning(
            "batch partly failed; reported for retry",
            extra={
                **summary,
                "first_reported_sequence": result.batch_item_failures[0],
                "reported": len(result.batch_item_failures),
            },
        )
    else:
        logger.info("batch processed", extra=summary)
