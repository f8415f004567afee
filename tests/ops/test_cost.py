"""The cost model: the seed article's example, the shard formula, write units per mode, the idle floor, and
estimates that never fall when traffic grows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from strategies import tenant_documents, to_yaml

from components.config import load_tenant, parse_tenant
from ops import article, charges
from ops.cost import DEFAULT_TRAFFIC, Traffic, alarm_metric_count, monthly_estimate
from ops.prices import PRICE_FILE, load_prices, parse_prices
from ops.shards import estimate_shards

TENANTS = Path(__file__).resolve().parents[2] / "tenants"
PRICES = load_prices()


def example(name: str):
    return load_tenant(TENANTS / f"{name}.yaml")


def component(estimate, name: str):
    return next(c for c in estimate.components if c.name == name)


def charge(estimate, component_name: str, item: str) -> float:
    return next(c.quantity for c in component(estimate, component_name).charges if c.item == item)


# ------------------------------------------------------------------------------------------ price table


def test_price_table_is_dated_and_every_price_cites_its_pricing_page():
    assert PRICES.region == "us-east-1" and PRICES.as_of.year >= 2026
    assert all(page.startswith("https://aws.amazon.com/") and "/pricing/" in page for page in PRICES.sources())
    assert len(PRICES.sources()) == 8  # Kinesis, Lambda, DynamoDB, Firehose, S3, KMS, CloudWatch, X-Ray


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda text: text.replace("[xray.traces_recorded]", "[xray.traces_recordd]"), "traces_recordd"),
        (lambda text: text.replace("usd = 0.625", "usd = -0.625"), "greater than or equal to 0"),
        (lambda text: text.replace('source = "https://aws.amazon.com/s3/pricing/"', 'source = "s3"', 1), "source"),
    ],
)
def test_price_table_refuses_a_misspelled_negative_or_unsourced_price(edit, problem):
    text = (Path(__file__).resolve().parents[2] / "ops" / PRICE_FILE).read_text()
    with pytest.raises(ValidationError, match=problem):
        parse_prices(edit(text))


# ------------------------------------------------------------------------------------------- the article


def test_article_example_lands_inside_its_total_range_component_by_component():
    comparison = article.article_comparison(PRICES)
    rows = {row.component: row for row in comparison.rows}
    assert list(rows) == ["Kinesis", "Lambda", "DynamoDB", "CloudWatch Logs"]
    for row in comparison.rows:
        assert row.lands_near, (
            f"{row.component}: ${row.monthly_usd:.2f} is not near ${row.article_low}-{row.article_high}"
        )
    assert 31 <= comparison.subtotal <= 41 and comparison.in_range

    # Each row, by hand from the price table: the article's month is 30 days of 1M events of 1 KB.
    kinesis, lam, table, logs = PRICES.kinesis, PRICES.lambda_, PRICES.dynamodb, PRICES.cloudwatch
    shard = 720 * kinesis.provisioned_shard_hour.usd + 30 * kinesis.provisioned_put_payload_units.usd
    assert rows["Kinesis"].monthly_usd == pytest.approx(shard)
    batched = 3 * lam.requests.usd + 3_000_000 * 0.2 * 0.25 * lam.x86_64_gb_second.usd
    assert rows["Lambda"].monthly_usd == pytest.approx(batched)
    assert 2 <= rows["Lambda"].monthly_usd <= 4
    assert rows["DynamoDB"].monthly_usd == pytest.approx(30 * table.write_request_units.usd)
    assert 18 <= rows["DynamoDB"].monthly_usd <= 22
    assert rows["CloudWatch Logs"].monthly_usd == pytest.approx(10 * logs.logs_ingest_gb.usd)


def test_article_readings_say_what_the_literal_rows_would_cost():
    """The two rows read differently from the article's usage column say, in their notes, why."""
    rows = {row.component: row for row in article.article_comparison(PRICES).rows}
    literal_lambda = 30 * PRICES.lambda_.requests.usd + 30_000_000 * 0.2 * 0.25 * PRICES.lambda_.x86_64_gb_second.usd
    assert literal_lambda > 4 * (1 + article.NEAR)  # far outside the article's $2-4
    assert f"${literal_lambda:.2f}" in rows["Lambda"].note
    stream_hours = 720 * PRICES.kinesis.on_demand_stream_hour.usd
    assert stream_hours > 10  # on-demand's stream-hours alone exceed the article's $6-10
    assert f"${stream_hours:.2f} of stream-hours" in rows["Kinesis"].note


# --------------------------------------------------------------------------------------------- shards


def test_shard_formula_on_the_article_example():
    """5 MB/s of incoming data with 3,000 records/second: 5 shards, throughput-limited; 6 with 20% buffer."""
    estimate = estimate_shards(5, 3000, 5)
    assert (estimate.needed, estimate.with_buffer, estimate.limit) == (5, 6, "write throughput")


@pytest.mark.parametrize(
    ("write", "records", "read", "needed", "with_buffer", "limit"),
    [
        (0.5, 3000, 0.5, 3, 4, "records per second"),  # 3.6 -> 4
        (1, 100, 5, 3, 3, "read throughput"),  # two readers of 2.5 MiB/s: 2.5 -> 3, x1.2 = 3.0 -> 3
        (0, 0, 0, 1, 1, "write throughput"),  # a stream has at least one shard
    ],
)
def test_shard_formula_takes_the_largest_term(write, records, read, needed, with_buffer, limit):
    estimate = estimate_shards(write, records, read)
    assert (estimate.needed, estimate.with_buffer, estimate.limit) == (needed, with_buffer, limit)


def test_a_provisioned_tenant_below_the_estimate_is_warned():
    orders = example("orders")  # 4 provisioned shards
    busy = Traffic(events_per_day=5_000 * 86_400, record_bytes=200, duration_ms=200)  # 5,000 records/s
    estimate = monthly_estimate(orders, traffic=busy)
    assert estimate.shards.with_buffer == 6
    assert len(estimate.warnings) == 1
    assert "stream.shards is 4, below the 6" in estimate.warnings[0]
    assert monthly_estimate(orders).warnings == ()  # a million a day fits


# ------------------------------------------------------------------------------------------ write units


@pytest.mark.parametrize(
    ("mode", "record_bytes", "units"),
    [
        ("events", 700, 1),  # 700 + 256 bytes of keys and metadata: one started KB
        ("events", 1_000, 2),  # a "1 KB" record's item crosses 1 KB
        ("latest", 700, 1),
        ("latest", 5_000, 6),
        ("counters", 700, 4),  # a transaction: marker + counter update, 2 units each
        ("counters", 50_000, 4),  # the counter item holds sums, not the record
    ],
)
def test_write_units_per_event_by_mode(mode, record_bytes, units):
    assert charges.write_units_per_event(mode, record_bytes) == units


@pytest.mark.parametrize(("name", "units"), [("sensors", 2), ("orders", 2), ("clicks", 4)])
def test_each_example_tenant_pays_its_modes_write_units(name, units):
    estimate = monthly_estimate(example(name))
    events = DEFAULT_TRAFFIC.events_per_day * PRICES.hours_per_month / 24
    assert charge(estimate, "DynamoDB", "writes") == pytest.approx(events * units)
    assert component(estimate, "DynamoDB").monthly_usd >= events * units * PRICES.dynamodb.write_request_units.usd / 1e6


# ------------------------------------------------------------------------------------------- idle floor


def test_idle_floor_of_an_on_demand_tenant_is_the_stream_key_metrics_alarms_and_dashboard():
    sensors = example("sensors")
    estimate = monthly_estimate(sensors, traffic=replace(DEFAULT_TRAFFIC, events_per_day=0))
    cloudwatch = PRICES.cloudwatch
    expected = (
        PRICES.hours_per_month * PRICES.kinesis.on_demand_stream_hour.usd
        + PRICES.kms.key_month.usd
        + 3 * 4 * cloudwatch.custom_metric_month.usd  # 3 shard-level metrics on the 4 shards it starts with
        + alarm_metric_count(sensors) * cloudwatch.alarm_metric_month.usd
        + cloudwatch.dashboard_month.usd
    )
    assert estimate.total == pytest.approx(expected)
    assert estimate.idle == pytest.approx(expected)
    for name in ("Lambda", "DynamoDB", "Firehose", "S3", "CloudWatch Logs", "X-Ray"):
        assert component(estimate, name).monthly_usd == 0, name


def test_idle_floor_of_a_provisioned_tenant_pays_its_shards_and_their_retention():
    orders = example("orders")  # 4 shards, 168 h retention
    estimate = monthly_estimate(orders)
    shard_hours = 4 * PRICES.hours_per_month
    kinesis = PRICES.kinesis
    idle_kinesis = next(c for c in estimate.idle_components if c.name == "Kinesis")
    assert idle_kinesis.monthly_usd == pytest.approx(
        shard_hours * (kinesis.provisioned_shard_hour.usd + kinesis.provisioned_extended_retention_shard_hour.usd)
    )
    assert 0 < estimate.idle < estimate.total


def test_alarm_metrics_count_each_metric_a_math_alarm_reads():
    # The error-rate alarm divides errors by invocations: 2 metrics; each other alarm watches one metric.
    sensors, orders = example("sensors"), example("orders")
    assert alarm_metric_count(sensors) == 12
    assert alarm_metric_count(orders) == alarm_metric_count(sensors) + 1  # provisioned: write-throttle alarm


# ---------------------------------------------------------------------------------------------- properties


def _tenant(document):
    return parse_tenant(to_yaml(document), f"tenants/{document['tenant']}.yaml")


@given(
    document=tenant_documents(),
    events=st.tuples(st.floats(0, 1e10), st.floats(0, 1e10)).map(sorted),
    record_bytes=st.integers(1, 1024 * 1024),
)
def test_cost_never_falls_when_events_per_day_grow(document, events, record_bytes):
    tenant = _tenant(document)
    fewer, more = (Traffic(count, record_bytes, 200) for count in events)
    low, high = monthly_estimate(tenant, traffic=fewer), monthly_estimate(tenant, traffic=more)
    assert low.total <= high.total + 1e-9 * high.total
    assert low.idle == pytest.approx(high.idle)
    assert low.idle <= low.total + 1e-9


@given(
    document=tenant_documents(),
    events=st.floats(0, 1e10),
    sizes=st.tuples(st.integers(1, 1024 * 1024), st.integers(1, 1024 * 1024)).map(sorted),
)
def test_cost_never_falls_when_records_grow(document, events, sizes):
    tenant = _tenant(document)
    smaller, larger = (Traffic(events, size, 200) for size in sizes)
    low, high = monthly_estimate(tenant, traffic=smaller), monthly_estimate(tenant, traffic=larger)
    for before, after in zip(low.components, high.components, strict=True):
        assert before.monthly_usd <= after.monthly_usd + 1e-9 * after.monthly_usd, before.name
