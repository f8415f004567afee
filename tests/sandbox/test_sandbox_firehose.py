"""Firehose delivery writes what Firehose would: Parquet under Hive partitions, errors apart."""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sandbox_helpers import put

from sandbox.engines.firehose import FirehoseDelivery, evaluate_prefix
from sandbox.engines.record_conversion import ConversionError, convert_record
from sandbox.engines.specs import DeliverySpec

COLUMNS = [
    ("event_id", "string"),
    ("amount", "double"),
    ("quantity", "int"),
    ("total", "bigint"),
    ("paid", "boolean"),
    ("ts", "timestamp"),
    ("day", "date"),
    ("ratio", "float"),
]
HIVE_PREFIX = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
ERROR_PREFIX = "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/"


def delivery_spec(stream_arn: str, bucket: str, **overrides) -> DeliverySpec:
    values = dict(
        name="acme-archive",
        stream_arn=stream_arn,
        bucket_arn=f"arn:aws:s3:::{bucket}",
        prefix=HIVE_PREFIX,
        error_output_prefix=ERROR_PREFIX,
        buffer_mb=64,
        buffer_seconds=300,
        output_format="parquet",
        columns=COLUMNS,
        compression="SNAPPY",
    )
    values.update(overrides)
    return DeliverySpec(**values)


def objects(s3, bucket: str) -> dict[str, bytes]:
    listing = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listing}


def test_firehose_writes_parquet_with_hive_partitions_and_column_types(aws, make_stream, make_bucket, endpoint_url):
    name, arn = make_stream(shards=2)
    bucket = make_bucket()
    good = [
        {
            "event_id": "e1",
            "amount": 12.5,
            "quantity": 3,
            "total": 2**40,
            "paid": True,
            "ts": "2024-05-01T12:30:00.250Z",
            "day": "2024-05-01",
            "ratio": 0.5,
            "extra": "dropped",
        },
        {"EVENT_ID": "e2", "amount": "7", "quantity": "4", "paid": "false", "ts": 1714566600000},
    ]
    bad = [
        b"not json at all",
        b"[1, 2, 3]",
        json.dumps({"event_id": "e3", "quantity": "many"}).encode(),
        json.dumps({"event_id": "e4", "quantity": 2**40}).encode(),
    ]
    put(aws("kinesis"), name, [json.dumps(g).encode() for g in good] + bad, keys=[f"k{i}" for i in range(6)])
    metrics = []
    delivery = FirehoseDelivery(
        delivery_spec(arn, bucket), endpoint_url, "us-east-1", on_metric=lambda *m: metrics.append(m)
    )

    assert delivery.run_until_idle(timeout=20, flush=True)

    stored = objects(aws("s3"), bucket)
    [data_key] = [k for k in stored if k.startswith("data/")]
    assert re.match(
        r"^data/year=\d{4}/month=\d\d/day=\d\d/hour=\d\d/acme-archive-1-"
        r"\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9a-f-]{36}\.parquet$",
        data_key,
    ), data_key
    now = datetime.now(UTC)
    assert f"year={now:%Y}/month={now:%m}/day={now:%d}" in data_key
    parquet = pq.ParquetFile(io.BytesIO(stored[data_key]))
    assert parquet.metadata.row_group(0).column(0).compression == "SNAPPY"
    table = parquet.read()
    assert table.schema.field("event_id").type == pa.string()
    assert table.schema.field("amount").type == pa.float64()
    assert table.schema.field("quantity").type == pa.int32()
    assert table.schema.field("total").type == pa.int64()
    assert table.schema.field("paid").type == pa.bool_()
    assert table.schema.field("ts").type == pa.timestamp("ms")
    assert table.schema.field("day").type == pa.date32()
    assert table.schema.field("ratio").type == pa.float32()
    assert "extra" not in table.column_names
    rows = sorted(table.to_pylist(), key=lambda r: r["event_id"])
    assert rows[0]["total"] == 2**40 and rows[0]["day"] == date(2024, 5, 1)
    assert rows[0]["ts"] == datetime(2024, 5, 1, 12, 30, 0, 250000)
    assert rows[1] == {
        "event_id": "e2",
        "amount": 7.0,
        "quantity": 4,
        "total": None,
        "paid": False,
        "ts": datetime(2024, 5, 1, 12, 30),
        "day": None,
        "ratio": None,
    }

    [error_key] = [k for k in stored if k.startswith("errors/")]
    assert error_key.startswith(f"errors/format-conversion-failed/year={now:%Y}/acme-archive-1-")
    errors = [json.loads(line) for line in stored[error_key].decode().splitlines()]
    assert sorted(base64.b64decode(e["rawData"]) for e in errors) == sorted(bad)
    assert set(errors[0]) == {
        "attemptsMade",
        "arrivalTimestamp",
        "ErrorCode",
        "ErrorMessage",
        "attemptEndingTimestamp",
        "rawData",
        "sequenceNumber",
        "subSequenceNumber",
        "dataCatalogTable",
    }
    assert all(e["ErrorCode"].startswith("DataFormatConversion.") for e in errors)

    stats = delivery.stats
    assert (stats.records_read, stats.rows_archived, stats.conversion_failures) == (6, 2, 4)
    assert stats.objects_written == 1 and stats.error_objects_written == 1
    assert {m[0] for m in metrics} == {"DeliveryToS3.DataFreshness", "DeliveryToS3.Records", "DeliveryToS3.Success"}
    assert all(m[2] == {"DeliveryStreamName": "acme-archive"} for m in metrics)


def test_firehose_buffer_interval_delivers_without_flush(aws, make_stream, make_bucket, endpoint_url):
    name, arn = make_stream()
    bucket = make_bucket()
    put(aws("kinesis"), name, [json.dumps({"event_id": str(i)}).encode() for i in range(5)])
    delivery = FirehoseDelivery(
        delivery_spec(arn, bucket, buffer_seconds=60), endpoint_url, "us-east-1", time_scale=0.005
    )
    assert delivery.run_until_idle(timeout=20)
    assert delivery.stats.objects_written == 1 and delivery.stats.rows_archived == 5


def test_firehose_json_output_is_gzipped_lines_under_default_prefix(aws, make_stream, make_bucket, endpoint_url):
    name, arn = make_stream()
    bucket = make_bucket()
    payloads = [json.dumps({"n": i}).encode() for i in range(3)]
    put(aws("kinesis"), name, payloads)
    spec = delivery_spec(arn, bucket, prefix="raw/", output_format="json", compression="GZIP", columns=[])
    delivery = FirehoseDelivery(spec, endpoint_url, "us-east-1")
    assert delivery.run_until_idle(timeout=20, flush=True)

    [(key, body)] = objects(aws("s3"), bucket).items()
    assert re.match(r"^raw/\d{4}/\d\d/\d\d/\d\d/acme-archive-1-.*\.gz$", key), key
    assert gzip.decompress(body).splitlines() == payloads


def test_prefix_expressions_evaluate_like_firehose():
    when = datetime(2024, 3, 9, 7, 5, tzinfo=UTC)
    assert evaluate_prefix(HIVE_PREFIX, when) == "data/year=2024/month=03/day=09/hour=07/"
    assert (
        evaluate_prefix("e/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/", when, "format-conversion-failed")
        == "e/format-conversion-failed/2024-03-09/"
    )
    assert evaluate_prefix("plain/", when) == "plain/2024/03/09/07/"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\xff\xfe", "DataFormatConversion.ParseError"),
        (b'"a string"', "DataFormatConversion.ParseError"),
        (b'{"paid": "maybe"}', "DataFormatConversion.MalformedData"),
        (b'{"quantity": 1.5}', "DataFormatConversion.MalformedData"),
    ],
)
def test_convert_record_rejects_what_cannot_be_cast(data, code):
    with pytest.raises(ConversionError) as error:
        convert_record(data, COLUMNS)
    assert error.value.code == code


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2017-02-07T15:13:01.39256Z", datetime(2017, 2, 7, 15, 13, 1, 392560)),
        ("2017-02-07 15:13:01.14", datetime(2017, 2, 7, 15, 13, 1, 140000)),
        ("2017-2-7 15:13:01", datetime(2017, 2, 7, 15, 13, 1)),
        (1518033528, datetime(2018, 2, 7, 19, 58, 48)),
        (1518033528123, datetime(2018, 2, 7, 19, 58, 48, 123000)),
        (1518033528.5, datetime(2018, 2, 7, 19, 58, 48, 500000)),
    ],
)
def test_firehose_timestamp_columns_parse_the_openx_layouts(value, expected):
    """The layouts "Record format conversion" lists for the OpenX JSON SerDe."""
    row = convert_record(json.dumps({"ts": value}).encode(), [("ts", "timestamp")])
    assert row["ts"] == expected


@pytest.mark.parametrize("value", ["2017-02-07T15:13:01+02:00", "2017-02-07T15:13:01", "2017-02-07t15:13:01z"])
def test_firehose_timestamp_columns_refuse_what_openx_cannot_parse(value):
    """Valid RFC 3339, yet not a layout OpenX parses: AWS sends the record to errors/, and so does the sandbox."""
    with pytest.raises(ConversionError):
        convert_record(json.dumps({"ts": value}).encode(), [("ts", "timestamp")])
