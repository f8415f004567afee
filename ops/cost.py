"""What a tenant's pipeline costs a month at a traffic, and what it costs with no traffic at all.

`monthly_estimate(tenant, settings, traffic)` reads the tenant file's settings (stream mode and shards,
batching, memory, write mode, archive) and prices each AWS component the pipeline runs through
ops/charges.py, with the dated list prices of ops/prices.toml. The traffic is a daily average spread evenly
over the month; the idle floor is the same pipeline with no traffic: stream or shard hours, the key, the
alarms, the dashboard and the shard-level metrics. Storage already held is out of scope.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from components import defaults, naming
from components.alarms import alarm_specs
from components.config import TenantFile
from components.stack import StackSettings
from ops import charges
from ops.charges import GIB, HOURS_PER_DAY, MIB, Component, Load
from ops.prices import PriceTable, load_prices
from ops.shards import ShardEstimate, estimate_shards
from runtime import settings as handler_contract
from sandbox.session.traffic import KINESIS_QUOTAS_PAGE, MAX_BYTES_PER_RECORD

SECONDS_PER_DAY = 86_400
MAX_DURATION_MS = 900_000  # Lambda's longest timeout
# One credential puts records (the producers'); each function environment reads the stream and writes the
# table; Firehose reads the stream and writes the bucket. Each keeps its own data keys (ops/charges.py: KMS).
KINESIS_PRODUCER_CREDENTIALS = 1
FIREHOSE_KEY_CALLERS = 2
# What one invocation logs: Lambda's START, END and REPORT lines, the handler's "batch processed" line and its
# embedded metric document. An estimate; failures log more.
LOG_BYTES_PER_INVOCATION = 2 * 1024
# The metrics runtime/handler.py publishes each invocation (one series each, by the tenant's dimensions) and
# the stream's shard-level metrics (components/stream.py): custom metrics, billed per metric-month.
HANDLER_METRICS = (
    handler_contract.RECORDS_RECEIVED,
    handler_contract.RECORDS_WRITTEN,
    handler_contract.DUPLICATES_SKIPPED,
    handler_contract.STALE_SKIPPED,
    handler_contract.RECORDS_INVALID,
    handler_contract.RECORDS_RETRIED,
    handler_contract.WRITE_RETRIES,
    handler_contract.BATCH_AGE_MILLISECONDS,
)
SHARD_LEVEL_METRICS = 3


@dataclass(frozen=True)
class Traffic:
    """A tenant's daily traffic and how long one invocation of its function takes."""

    events_per_day: float
    record_bytes: int
    duration_ms: float

    def problems(self) -> list[tuple[str, str]]:
        """(option, message) for each value the model cannot price."""
        found = []
        if not self.events_per_day >= 0:
            found.append(("events-per-day", f"must be at least 0 (got {self.events_per_day:g})"))
        if not 1 <= self.record_bytes <= MAX_BYTES_PER_RECORD:
            limit = f"{MAX_BYTES_PER_RECORD:,}, Kinesis's record limit ({KINESIS_QUOTAS_PAGE})"
            found.append(("record-bytes", f"must be between 1 and {limit} (got {self.record_bytes})"))
        if not 0 < self.duration_ms <= MAX_DURATION_MS:
            found.append(("duration-ms", f"must be above 0 and at most {MAX_DURATION_MS:,} (got {self.duration_ms:g})"))
        return found

    def as_json(self) -> dict:
        return {
            "events_per_day": self.events_per_day,
            "record_bytes": self.record_bytes,
            "duration_ms": self.duration_ms,
        }


# The seed article's example: a million events a day of 1 KB, ~200 ms an invocation.
DEFAULT_TRAFFIC = Traffic(events_per_day=1_000_000, record_bytes=1_000, duration_ms=200)


@dataclass(frozen=True)
class Estimate:
    """A tenant's month: each component at the traffic (`components`) and with none (`idle_components`)."""

    tenant: str
    region: str
    stream_mode: str
    write_mode: str
    traffic: Traffic
    components: tuple[Component, ...]
    idle_components: tuple[Component, ...]
    shards: ShardEstimate
    warnings: tuple[str, ...]

    @property
    def total(self) -> float:
        return sum(component.monthly_usd for component in self.components)

    @property
    def idle(self) -> float:
        return sum(component.monthly_usd for component in self.idle_components)

    def as_json(self) -> dict:
        idle = {component.name: component.monthly_usd for component in self.idle_components}
        return {
            "tenant": self.tenant,
            "region": self.region,
            "stream_mode": self.stream_mode,
            "write_mode": self.write_mode,
            "total_usd": round(self.total, 4),
            "idle_usd": round(self.idle, 4),
            "components": [
                {**component.as_json(), "idle_usd": round(idle[component.name], 4)} for component in self.components
            ],
            "shards": {
                "needed": self.shards.needed,
                "with_buffer": self.shards.with_buffer,
                "limit": self.shards.limit,
                "formula": self.shards.formula(),
            },
            "warnings": list(self.warnings),
        }


def monthly_estimate(
    tenant: TenantFile,
    settings: StackSettings | None = None,
    traffic: Traffic = DEFAULT_TRAFFIC,
    prices: PriceTable | None = None,
) -> Estimate:
    """The tenant's monthly cost at `traffic` and its idle floor, at the price table's list prices."""
    prices = prices or load_prices()
    settings = settings or StackSettings()
    shards = shard_estimate(tenant, traffic)
    idle_traffic = replace(traffic, events_per_day=0)
    return Estimate(
        tenant=tenant.tenant,
        region=tenant.account.region if tenant.account and tenant.account.region else settings.region,
        stream_mode=tenant.stream.mode,
        write_mode=tenant.records.write,
        traffic=traffic,
        components=tuple(tenant_components(tenant, traffic, prices)),
        idle_components=tuple(tenant_components(tenant, idle_traffic, prices)),
        shards=shards,
        warnings=tuple(_shard_warnings(tenant, traffic, shards)),
    )


def shared_readers(tenant: TenantFile) -> int:
    """Consumers sharing each shard's 2 MiB/s of reads: the processor (unless it has its own enhanced fan-out
    pipe) and Firehose (when the tenant archives)."""
    return (0 if tenant.stream.enhanced_fan_out else 1) + (1 if tenant.archive.enabled else 0)


def shard_estimate(tenant: TenantFile, traffic: Traffic) -> ShardEstimate:
    records_per_second = traffic.events_per_day / SECONDS_PER_DAY
    write = records_per_second * traffic.record_bytes / MIB
    return estimate_shards(write, records_per_second, write * shared_readers(tenant))


def open_shards(tenant: TenantFile, traffic: Traffic) -> int:
    """The shards the stream runs: the tenant's count when provisioned; on demand, what the traffic needs, at
    least the 4 a new on-demand stream starts with."""
    if tenant.stream.mode == "provisioned":
        return tenant.stream.shards or 1
    return max(charges.ON_DEMAND_INITIAL_SHARDS, shard_estimate(tenant, traffic).needed)


def tenant_components(tenant: TenantFile, traffic: Traffic, prices: PriceTable) -> list[Component]:
    """Every component of the tenant's pipeline, priced for one month of `traffic`."""
    hours = prices.hours_per_month
    load = Load(hours=hours, records=traffic.events_per_day * hours / HOURS_PER_DAY, record_bytes=traffic.record_bytes)
    shards = open_shards(tenant, traffic)
    environments = shards * tenant.processing.parallelization_factor
    calls = charges.invocations(load, environments, tenant.processing)
    logged_gb = calls * LOG_BYTES_PER_INVOCATION / GIB
    archive = [
        charges.firehose(tenant.archive, load, prices),
        charges.archive_bucket(tenant.archive, load, prices),
    ]
    firehose_callers = FIREHOSE_KEY_CALLERS if tenant.archive.enabled else 0
    key_callers = KINESIS_PRODUCER_CREDENTIALS + 2 * environments + firehose_callers
    custom_metrics = (len(HANDLER_METRICS) if load.records else 0) + SHARD_LEVEL_METRICS * shards
    return [
        charges.kinesis(tenant.stream, load, shards, shared_readers(tenant), prices.kinesis),
        charges.lambda_function(
            calls, traffic.duration_ms, tenant.processing.memory_mb, defaults.LAMBDA_ARCHITECTURE, prices
        ),
        charges.dynamodb(
            load.records * charges.write_units_per_event(tenant.records.write, traffic.record_bytes),
            _table_growth_gb(tenant, load),
            tenant.table.point_in_time_recovery,
            prices,
        ),
        *(archive if tenant.archive.enabled else []),
        charges.kms(key_callers, load, prices),
        charges.cloudwatch_logs(logged_gb, logged_gb * _kept(defaults.LOG_RETENTION_DAYS, hours), prices.cloudwatch),
        *charges.cloudwatch_monitoring(custom_metrics, alarm_metric_count(tenant), prices.cloudwatch),
        charges.xray(calls, load, prices),
    ]


def _kept(days: int | None, hours: float) -> float:
    """The share of a month's data still held at the month's end, when it expires after `days` (None: never)."""
    return 1.0 if days is None else min(1.0, days * HOURS_PER_DAY / hours)


def _table_growth_gb(tenant: TenantFile, load: Load) -> float:
    if tenant.records.write not in charges.GROWING_MODES:
        return 0.0
    item_bytes = load.record_bytes + charges.ITEM_METADATA_BYTES
    return load.records * item_bytes * _kept(tenant.records.ttl_days, load.hours) / GIB


def alarm_metric_count(tenant: TenantFile) -> int:
    """Alarm metrics as CloudWatch bills them: one per alarm on a metric, one per metric a math alarm reads."""
    count = 0
    for spec in alarm_specs(tenant, naming.tenant_names(tenant.tenant, naming.DEFAULT_STACK)):
        metrics = [query for query in spec.metric_queries if "metric" in query]
        count += len(metrics) if spec.metric_queries else 1
    return count


def _shard_warnings(tenant: TenantFile, traffic: Traffic, shards: ShardEstimate) -> list[str]:
    stated = tenant.stream.shards
    if tenant.stream.mode != "provisioned" or stated is None or stated >= shards.with_buffer:
        return []
    return [
        f"{tenant.tenant}: stream.shards is {stated}, below the {shards.with_buffer} that "
        f"{traffic.events_per_day:,.0f} events/day of {traffic.record_bytes:,} bytes need "
        f"({shards.formula()}, rounded up; the {shards.limit} decides)"
    ]


def notes(estimates: list[Estimate], prices: PriceTable) -> list[str]:
    """What every estimate assumes, and where the list prices or the model leave something out."""
    traffic = estimates[0].traffic if estimates else DEFAULT_TRAFFIC
    stream_hour = prices.kinesis.on_demand_stream_hour
    found = [
        f"Prices: {prices.region} list prices as of {prices.as_of.isoformat()} (ops/prices.toml, each with its "
        f"pricing page), before free tiers; a month is {prices.hours_per_month:g} hours.",
        f"Traffic: {traffic.events_per_day:,.0f} events a day of {traffic.record_bytes:,} bytes, spread evenly (size "
        f"for peaks); each invocation runs {traffic.duration_ms:g} ms (--duration-ms) at the tenant's memory.",
        "Invocations: each batch holds what one poll (every second, or each batching window) gathers per shard and "
        "parallel batch, at most batch_size records or 6 MB; low traffic means small batches.",
        f"DynamoDB: an item is the record plus about {charges.ITEM_METADATA_BYTES} bytes of keys and metadata, one "
        "write request unit per started KB; a counters event is a transaction of 2 items at "
        f"{charges.TRANSACTION_UNITS_PER_ITEM} units each. Storage is added for events tables only.",
        f"Metrics: the handler's {len(HANDLER_METRICS)} metrics while it runs, and {SHARD_LEVEL_METRICS} shard-level "
        f"metrics per open shard (an on-demand stream starts with {charges.ON_DEMAND_INITIAL_SHARDS}), billed as "
        "custom metrics; alarms per metric they read.",
        "KMS: the key costs $1 a month, and each of its first two yearly rotations adds $1.",
        "Not priced: the failure queue and bucket (used only by failures), SNS notifications, Glue catalog "
        "requests, in-region data transfer, storage already held.",
    ]
    if any(estimate.stream_mode == "on_demand" for estimate in estimates):
        found.append(
            f"Kinesis on-demand (Standard) charges ${stream_hour.usd:g} per stream-hour, "
            f"${stream_hour.cost(prices.hours_per_month):.2f} a month per stream whatever the traffic; the seed "
            "article's table leaves it out. On-demand Advantage, an account-level mode, has no per-stream charge."
        )
    elsewhere = sorted({estimate.region for estimate in estimates} - {prices.region})
    if elsewhere:
        regions = ", ".join(elsewhere)
        found.append(f"Regions {regions}: prices there differ from {prices.region}'s, most a few % higher.")
    return found
