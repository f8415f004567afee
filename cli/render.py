"""Human-readable views: the offline plan with the policy pack's verdict, and the sandbox's progress and closing
summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from components.lifecycle import plan_line
from components.offline import Evaluation, RegisteredResource

if TYPE_CHECKING:  # the pack (pulumi_policy, gRPC) loads only when a plan is judged
    from components.config import TenantFile
    from ops.cost import Estimate
    from policy.run import Report, Violation

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


def _resources_table(tenant: str, resources: Sequence[RegisteredResource]) -> Table:
    table = Table(title=f"tenant {tenant}: {len(resources)} resources", title_justify="left", expand=True)
    table.add_column("type", overflow="fold", ratio=2)
    table.add_column("name", overflow="fold", ratio=2)
    table.add_column("key settings", overflow="fold", ratio=4)
    for resource in resources:
        table.add_row(resource.type, resource.name, _settings(resource))
    return table


def _policy_verdict(violations: Sequence[Violation], rule_count: int) -> Text:
    """The pack's verdict on one tenant: a green line, or a red one and a line per violation. Built as Text, not
    markup: messages quote settings such as ["ReportBatchItemFailures"]."""
    if not violations:
        return Text.assemble(("policy", "green"), f": {rule_count} rules, no violations")
    lines = [Text.assemble(("policy", "bold red"), f": {len(violations)} violation(s) of {rule_count} rules")]
    for violation in violations:
        where = f"{violation.resource_type} {violation.resource_name}" if violation.resource_name else "the stack"
        lines.append(Text.assemble("  ", (violation.rule, "red"), f" {where}: {violation.message}"))
    return Text("\n").join(lines)


def plan(
    console: Console,
    evaluation: Evaluation,
    policy: Report,
    tenants: dict[str, TenantFile],
    costs: dict[str, Estimate],
) -> None:
    """Every tenant's resources, each followed by what its lifecycle keeps and removes, and the policy pack's
    verdict on them; then one row per tenant with its monthly cost. `tenants` are the tenant files by name,
    `costs` their estimates at the default traffic."""
    grouped = evaluation.by_tenant()
    if not grouped:
        console.print(f"stack {evaluation.stack!r} selects no tenants")
        return
    rule_count = len(policy.rules)
    for tenant, resources in sorted(grouped.items()):
        console.print(_resources_table(tenant, resources))
        console.print(Text(plan_line(tenants[tenant])))  # Text, not markup: the line quotes `pulumi up`
        console.print(_policy_verdict(policy.of_tenant(tenant), rule_count))
    if policy.of_tenant(None):
        console.print(_policy_verdict(policy.of_tenant(None), rule_count))
    console.print(_summary_table(evaluation, policy, tenants, costs))
    counts = Counter(r.tenant for r in evaluation.resources if r.tenant)
    summary = ", ".join(f"{tenant} {count}" for tenant, count in sorted(counts.items()))
    console.print(f"stack {evaluation.stack!r}: {len(grouped)} tenant(s), {sum(counts.values())} resources ({summary})")


def _summary_table(
    evaluation: Evaluation, policy: Report, tenants: dict[str, TenantFile], costs: dict[str, Estimate]
) -> Table:
    """One row per tenant: resources, lifecycle, the policy verdict, and the monthly cost with its idle floor."""
    traffic = next(iter(costs.values())).traffic if costs else None
    title = "per tenant"
    if traffic is not None:
        title += f"; cost a month at {traffic.events_per_day:,} events/day of {traffic.record_bytes:,} bytes"
    table = Table(title=title, box=box.SIMPLE, title_justify="left")
    for header in ("tenant", "resources", "lifecycle", "policy", "monthly $", "idle $"):
        table.add_column(header, justify="right" if header.endswith("$") or header == "resources" else "left")
    for tenant, resources in sorted(evaluation.by_tenant().items()):
        violations = policy.of_tenant(tenant)
        estimate = costs.get(tenant)
        table.add_row(
            tenant,
            str(len(resources)),
            tenants[tenant].lifecycle,
            f"{len(violations)} violation(s)" if violations else "ok",
            f"{estimate.total:,.2f}" if estimate else "-",
            f"{estimate.idle:,.2f}" if estimate else "-",
        )
    return table


# --------------------------------------------------------------------------------- the sandbox

# One vocabulary for the sandbox's live progress, its closing summary and `drain`: the label of each measure
# and what it counts. The progress shows what the engines and the handler report so far; the summary adds
# what is read back from the emulator.
MEASURES = {
    "mode": "the tenant's write mode (records.write)",
    "produced": "records put on the stream",
    "  resent": "of those, exact re-sends of an earlier record (duplicates)",
    "  poison pills": "of those, records no retry can fix (not JSON, a field missing or mistyped)",
    "processed": "records the function settled or the mapping gave up on (the four lines below add up to it)",
    "  written": "records the function wrote to the table; a resent event is written again in events mode",
    "  skipped": "records whose effect the table already held: a counted event, an older or equal version",
    "  to failure queue": "poison pills the function sent to the failure queue",
    "  given up": "records of batches the mapping gave up on (its on-failure destination)",
    "iterator age": "how far behind the stream the function is",
    "table items": "items in the table (dedupe markers left out)",
    "failure messages": "messages in the failure queue: each poison pill once per delivery, and given-up batches",
    "archived": "rows in the archive",
    "archive errors": "records Firehose could not convert, kept under the archive's errors/ prefix",
    "unaccounted": "produced records the emulator's state does not explain (0 in a correct run)",
}
CELL_PADDING = 3  # a simple table's column gap and padding, per column


def measures_view(title: str, columns: dict[str, dict[str, str]], width: int) -> Group:
    """Measures as rows and tenants as columns, split into as many tables as the width needs, so names and
    numbers are never cut short (a log is often 80 columns wide). Each column maps measure labels to text;
    a measure no column has is left out."""
    labels = [label for label in MEASURES if any(label in values for values in columns.values())]
    label_width = max((len(label) for label in labels), default=0) + CELL_PADDING
    chunks: list[list[str]] = [[]]
    used = label_width
    for name, values in columns.items():
        needed = max([len(name), *(len(value) for value in values.values())]) + CELL_PADDING
        if chunks[-1] and used + needed > width:
            chunks.append([])
            used = label_width
        chunks[-1].append(name)
        used += needed
    return Group(Text(title, no_wrap=False), *(_measures_table(labels, chunk, columns) for chunk in chunks))


def _measures_table(labels: Sequence[str], names: Sequence[str], columns: dict) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("", no_wrap=True)
    for name in names:
        table.add_column(name, justify="right", no_wrap=True, overflow="fold")
    for label in labels:
        table.add_row(label, *(columns[name].get(label, "") for name in names))
    return table


def legend(labels: Sequence[str]) -> list[str]:
    """`label: meaning` lines for the measures a view shows."""
    return [f"{label.strip()}: {MEASURES[label]}" for label in labels if label in MEASURES]
