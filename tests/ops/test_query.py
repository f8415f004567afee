"""`tributary query` on the sandbox, end to end: the tenants deployed through the sandbox's deploy path, readings
put on the stream and archived as Parquet by the sandbox's Firehose engine, then counted and grouped with SQL."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime

import pytest
from day_two_helpers import archive, sandbox_deployment

from ops.query import QueryError, run_query
from ops.target import resolve

# Readings per device, and records Firehose cannot convert (they go under errors/, not into the view).
PER_DEVICE = {"dev-001": 7, "dev-002": 19, "dev-003": 1, "dev-004": 33}
UNCONVERTIBLE = [b"<<not json>>", b'{"device_id": "dev-009", "temperature": "hot"}']


def _readings() -> list[dict]:
    readings = []
    for device, count in PER_DEVICE.items():
        for n in range(count):
            readings.append(
                {
                    "device_id": device,
                    "reading_id": f"{device}-{n}",
                    "recorded_at": datetime.now(UTC).isoformat(),
                    "temperature": 20 + n / 2,
                }
            )
    return readings


@pytest.fixture(scope="module")
def archived(tmp_path_factory):
    """sensors with its readings archived; orders deployed with nothing archived yet."""
    with sandbox_deployment(tmp_path_factory.mktemp("query"), ["sensors", "orders"]) as (project, endpoint_url):
        target = resolve(project, "sensors", None, sandbox=True)
        entries = [{"Data": json.dumps(r).encode(), "PartitionKey": r["device_id"]} for r in _readings()]
        archive(target, entries + [{"Data": data, "PartitionKey": "bad"} for data in UNCONVERTIBLE])
        yield project, target


def test_query_counts_every_archived_record(archived):
    _, target = archived
    result = run_query(target, "select count(*) as n from archive")
    assert result.columns == ["n"]
    assert result.rows == [(sum(PER_DEVICE.values()),)]
    assert result.objects >= 1
    assert result.archive.location == f"s3://{target.names.archive.bucket}/data/"


def test_query_group_by_matches_what_was_put(archived):
    _, target = archived
    sql = "select device_id, count(*) as readings, max(reading_id) as last from archive group by 1 order by 1"
    result = run_query(target, sql)
    assert [(device, readings) for device, readings, _ in result.rows] == sorted(PER_DEVICE.items())
    assert all(last.startswith(device) for device, _, last in result.rows)


def test_query_partition_columns_are_the_prefix_text_firehose_wrote(archived):
    _, target = archived
    s3 = target.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=target.names.archive.bucket, Prefix="data/")["Contents"]]
    prefixes = {re.match(r"data/year=(\d{4})/month=(\d\d)/day=(\d\d)/hour=(\d\d)/", key).groups() for key in keys}
    result = run_query(target, "select distinct year, month, day, hour from archive order by all")
    assert set(result.rows) == prefixes  # text, as Athena's partition columns: '07', not 7


def test_query_columns_are_the_glue_tables_including_those_no_record_set(archived):
    _, target = archived
    result = run_query(
        target, "select count(humidity) as h, count(firmware) as f, count(temperature) as t from archive"
    )
    assert result.rows == [(0, 0, sum(PER_DEVICE.values()))]


def test_query_on_an_archive_with_no_objects_is_an_empty_view(archived):
    project, _ = archived
    result = run_query(resolve(project, "orders", None, sandbox=True), "select count(*) from archive")
    assert (result.rows, result.objects) == ([(0,)], 0)


def test_query_bad_sql_is_duckdbs_message_in_one_line(archived):
    _, target = archived
    with pytest.raises(QueryError) as refusal:
        run_query(target, "selec device_id from archive")
    assert str(refusal.value).startswith('Parser Error: syntax error at or near "selec"')
    assert "\n" not in str(refusal.value)


def test_query_reads_nothing_but_the_archive(archived, tmp_path):
    _, target = archived
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    with pytest.raises(QueryError, match="disabled by configuration"):
        run_query(target, f"select * from read_csv('{secret}')")


def test_query_without_duckdb_says_which_extra_to_install(archived, monkeypatch):
    _, target = archived
    monkeypatch.setitem(sys.modules, "duckdb", None)  # as if it were not installed
    with pytest.raises(QueryError, match=r"^`tributary query` needs duckdb: pip install 'tributary\[query\]'$"):
        run_query(target, "select 1")


def test_query_json_rows_are_objects_with_dates_and_decimals_as_text(archived):
    _, target = archived
    sql = "select date '2025-03-04' as d, 1.50::decimal(4, 2) as price, 'x' as s, null as n, count(*) as c from archive"
    result = run_query(target, sql)
    rows = sum(PER_DEVICE.values())
    assert result.as_json() == [{"d": "2025-03-04", "price": "1.50", "s": "x", "n": None, "c": rows}]
