"""Human-readable views of the offline plan."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from components.offline import Evaluation, RegisteredResource

# The settings worth seeing per resource type in the plan's summary (input name -> label).
KEY_SETTINGS = {
    "aws:kinesis/stream:Stream": ("streamModeDetails", "shardCount", "retentionPeriod", "encryptionType"),
    "aws:lambda/function:Function": ("runtime", "architectures", "memorySize", "timeout", "tracingConfig"),
    "aws:lambda/eventSourceMapping:EventSourceMapping": (
        "batchSize",
        "maximumBatchingWindowInSeconds",
        "parallelizationFactor",
        "bisectBatchOnFunctionError",
        "maximumRetryAttempts",
        "maximumRecordAgeInSeconds",
        "functionResponseTypes",
    ),
    "aws:dynamodb/table:Table": ("billingMode", "pointInTimeRecovery", "deletionProtectionEnabled", "ttl"),
    "aws:kms/key:Key": ("enableKeyRotation", "deletionWindowInDays"),
    "aws:sqs/queue:Queue": ("messageRetentionSeconds", "kmsMasterKeyId"),
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": ("destination",),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("metricName", "threshold", "treatMissingData"),
}


def _compact(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_compact(v) for v in value) + "]"
    text = str(value)
    return text if len(text) <= 48 else text[:45] + "..."


def _settings(resource: RegisteredResource) -> str:
    keys = KEY_SETTINGS.get(resource.type, ())
    return " ".join(f"{key}={_compact(resource.inputs[key])}" for key in keys if key in resource.inputs)


def plan(console: Console, evaluation: Evaluation) -> None:
    grouped = evaluation.by_tenant()
    if not grouped:
        console.print(f"stack {evaluation.stack!r} selects no tenants")
        return
    for tenant, resources in sorted(grouped.items()):
        table = Table(title=f"tenant {tenant}: {len(resources)} resources", title_justify="left", expand=True)
        table.add_column("type", overflow="fold", ratio=2)
        table.add_column("name", overflow="fold", ratio=2)
        table.add_column("key settings", overflow="fold", ratio=4)
        for resource in resources:
            table.add_row(resource.type, resource.name, _settings(resource))
        console.print(table)
    counts = Counter(r.tenant for r in evaluation.resources if r.tenant)
    summary = ", ".join(f"{tenant} {count}" for tenant, count in sorted(counts.items()))
    console.print(f"stack {evaluation.stack!r}: {len(grouped)} tenant(s), {sum(counts.values())} resources ({summary})")
