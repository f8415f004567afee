"""Firehose delivery from a Kinesis stream to S3, as the service behaves.

`FirehoseDelivery(spec, endpoint_url, region)` is an independent consumer of the stream: its own
iterators, every shard from TRIM_HORIZON. It buffers records until `buffer_mb` of input or
`buffer_seconds` (times `time_scale`) since the first buffered record, then writes one object:

- `output_format="parquet"`: each record is read as a JSON object the way Firehose's OpenX JSON SerDe
  does (keys matched case-insensitively, fields not in the Glue columns dropped, missing ones null,
  values cast to the column types) and written as Parquet with the spec's compression (Snappy);
- `output_format="json"`: the records' bytes, one per line, optionally GZIP-compressed.

Object keys are `prefix` with its `!{timestamp:...}` expressions evaluated at the arrival time of the
object's oldest record (Firehose's rule), then `<name>-<version>-YYYY-MM-DD-HH-MM-SS-<uuid>`. A prefix
without expressions gets Firehose's default `YYYY/MM/DD/HH/`. Records that fail conversion go under
`error_output_prefix` (`!{firehose:error-output-type}` = `format-conversion-failed`) as JSON lines in
Firehose's error record format.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import io
import json
import re
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sandbox.engines import emulator
from sandbox.engines.polling import PollingEngine
from sandbox.engines.specs import DeliverySpec, arn_resource, stream_name

MetricHook = Callable[[str, float, dict[str, str]], None]
METRIC_UNITS = {
    "DeliveryToS3.DataFreshness": "Seconds",
    "DeliveryToS3.Records": "Count",
    "DeliveryToS3.Success": "Count",
}
MIB = 1024 * 1024
CONVERSION_ERROR_TYPE = "format-conversion-failed"
PARSE_ERROR = "DataFormatConversion.ParseError"
MALFORMED_DATA = "DataFormatConversion.MalformedData"
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
EPOCH_DATE = date(1970, 1, 1)
JAVA_DATE_TOKENS = {"yyyy": "%Y", "yy": "%y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
EXPRESSION = re.compile(r"!\{(timestamp|firehose):([^}]*)\}")


class ConversionError(ValueError):
    """A record Firehose cannot convert; `code` is the error code it reports."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class _Record:
    sequence_number: str
    data: bytes
    arrival: float  # epoch seconds


_Failure = tuple[_Record, ConversionError]


@dataclass
class DeliveryStats:
    records_read: int = 0
    rows_archived: int = 0
    objects_written: int = 0
    error_objects_written: int = 0
    conversion_failures: int = 0
    delivery_failures: int = 0  # S3 writes that failed and were retried
    data_freshness_seconds: float = 0.0
    keys: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- prefixes


def java_date_format(pattern: str, when: datetime) -> str:
    """Format `when` with a Java DateTimeFormatter pattern of the usual tokens (yyyy, MM, dd, HH...)."""
    tokens = re.findall(r"yyyy|yy|MM|dd|HH|mm|ss|'[^']*'|.", pattern)
    out = []
    for token in tokens:
        if token in JAVA_DATE_TOKENS:
            out.append(when.strftime(JAVA_DATE_TOKENS[token]))
        elif token.startswith("'") and len(token) > 1:
            out.append(token.strip("'"))
        else:
            out.append(token)
    return "".join(out)


def evaluate_prefix(prefix: str, when: datetime, error_output_type: str | None = None) -> str:
    """Evaluate Firehose's `!{timestamp:...}` and `!{firehose:...}` expressions in an S3 prefix."""

    def expand(match: re.Match[str]) -> str:
        namespace, argument = match.group(1), match.group(2)
        if namespace == "timestamp":
            return java_date_format(argument, when)
        if argument == "error-output-type":
            if error_output_type is None:
                raise ValueError("!{firehose:error-output-type} is only valid in the error output prefix")
            return error_output_type
        if argument == "random-string":
            return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(11))
        raise ValueError(f"unknown expression !{{firehose:{argument}}}")

    if EXPRESSION.search(prefix):
        return EXPRESSION.sub(expand, prefix)
    # No expressions: Firehose appends its default time prefix (after the error type for errors).
    default = f"{when:%Y/%m/%d/%H}/"
    return prefix + (f"{error_output_type}/" if error_output_type else "") + default


# --------------------------------------------------------------------------- conversion


def _cast_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"))


def _cast_integer(value: Any, bounds: tuple[int, int]) -> int:
    if isinstance(value, bool):
        raise TypeError("a boolean is not an integer")
    integral_float = isinstance(value, float) and value.is_integer()
    if integral_float or (isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip())):
        value = int(value)
    if not isinstance(value, int):
        raise TypeError(f"{value!r} is not an integer")
    if not bounds[0] <= value <= bounds[1]:
        raise TypeError(f"{value} is out of range")
    return value


def _cast_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"{value!r} is not a number")
    return float(value)


def _cast_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise TypeError(f"{value!r} is not a boolean")


# The OpenX JSON SerDe's timestamp layouts ("Record format conversion",
# https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html): ISO text only with a literal
# `Z` (no numeric offset), the space-separated form with 1- or 2-digit month and day, fractions up to 9 digits.
_OPENX_ISO_UTC = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z")
_OPENX_SPACED = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?")
# Epoch numbers: seconds (1518033528), milliseconds (1518033528123), fractional seconds (1518033528.123).
# The page gives one example of each; a 13-digit magnitude is read as milliseconds.
_EPOCH_MILLIS_FROM = 10**11


def _cast_timestamp(value: Any) -> datetime:
    """Parse a timestamp exactly as Firehose's OpenX JSON SerDe does; anything else fails the record."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a timestamp")
    if isinstance(value, int):
        seconds = value / 1000 if abs(value) >= _EPOCH_MILLIS_FROM else value
        return datetime(1970, 1, 1) + timedelta(seconds=seconds)
    if isinstance(value, float):
        return datetime(1970, 1, 1) + timedelta(seconds=value)
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a timestamp")
    match = _OPENX_ISO_UTC.fullmatch(value) or _OPENX_SPACED.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a timestamp layout the OpenX JSON SerDe parses")
    year, month, day, hour, minute, second, fraction = match.groups()
    microseconds = int((fraction or "0").ljust(9, "0")[:6])
    return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), microseconds)


def _cast_date(value: Any) -> date:
    if isinstance(value, int) and not isinstance(value, bool):
        return EPOCH_DATE + timedelta(days=value)
    if isinstance(value, str):
        return date.fromisoformat(value.strip()[:10])
    raise TypeError(f"{value!r} is not a date")


CASTS: dict[str, Callable[[Any], Any]] = {
    "string": _cast_string,
    "bigint": lambda v: _cast_integer(v, INT64),
    "int": lambda v: _cast_integer(v, INT32),
    "double": _cast_float,
    "float": _cast_float,
    "boolean": _cast_boolean,
    "timestamp": _cast_timestamp,
    "date": _cast_date,
}


def glue_columns(glue: Any, database: str, table: str) -> list[tuple[str, str]]:
    """The newest version's columns of a Glue table, as (name, type)."""
    versions = glue.get_table_versions(DatabaseName=database, TableName=table)["TableVersions"]
    newest = max(versions, key=lambda version: int(version.get("VersionId", "0")))
    return [(column["Name"], column["Type"]) for column in newest["Table"]["StorageDescriptor"]["Columns"]]


def arrow_schema(columns: list[tuple[str, str]]) -> Any:
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "bigint": pa.int64(),
        "int": pa.int32(),
        "double": pa.float64(),
        "float": pa.float32(),
        "boolean": pa.bool_(),
        "timestamp": pa.timestamp("ms"),
        "date": pa.date32(),
    }
    return pa.schema([(name, types[type_.lower()]) for name, type_ in columns])


def convert_record(data: bytes, columns: list[tuple[str, str]]) -> dict[str, Any]:
    """One record as a row of the Glue columns; raises ConversionError as Firehose would fail it."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConversionError(PARSE_ERROR, f"Malformed JSON: {error}") from None
    if not isinstance(document, dict):
        raise ConversionError(PARSE_ERROR, f"Expected a JSON object, got {type(document).__name__}")
    fields = {key.lower(): value for key, value in document.items()}
    row: dict[str, Any] = {}
    for name, type_ in columns:
        value = fields.get(name.lower())
        if value is None:
            row[name] = None
            continue
        try:
            row[name] = CASTS[type_.lower()](value)
        except (TypeError, ValueError, OverflowError) as error:
            message = f"Cannot convert field '{name}' to {type_}: {error}"
            raise ConversionError(MALFORMED_DATA, message) from None
    return row


# --------------------------------------------------------------------------- the delivery stream


class FirehoseDelivery(PollingEngine):
    """One delivery stream reading a Kinesis stream into S3; drive it like `EventSourceMapping`."""

    def __init__(
        self,
        spec: DeliverySpec,
        endpoint_url: str,
        region: str,
        *,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.time,
        on_metric: MetricHook | None = None,
        poll_interval: float = 0.05,
        resume_after: dict[str, str] | None = None,
        instrument: Callable[[Any], Any] | None = None,
    ) -> None:
        """`instrument(client)` is applied to each client the engine makes (the sandbox records its calls)."""
        super().__init__(poll_interval)
        self.thread_name = f"firehose-{spec.name}"
        self.spec = spec
        self._positions: dict[str, str] = dict(resume_after or {})
        self.region = region
        self._time_scale = time_scale
        self._clock = clock
        self._on_metric = on_metric
        instrument = instrument or (lambda client: client)
        self._kinesis = instrument(emulator.client("kinesis", endpoint_url, region))
        self._s3 = instrument(emulator.client("s3", endpoint_url, region))
        self._logs = instrument(emulator.client("logs", endpoint_url, region)) if spec.log_group else None
        if spec.glue_database and spec.glue_table:
            # Firehose converts with the Glue table's latest columns (schemaConfiguration version LATEST).
            glue = instrument(emulator.client("glue", endpoint_url, region))
            spec = replace(spec, columns=glue_columns(glue, spec.glue_database, spec.glue_table))
            self.spec = spec
        self._stream = stream_name(spec.stream_arn)
        self._bucket = arn_resource(spec.bucket_arn)
        self._iterators: dict[str, str | None] = {}
        self._caught_up: dict[str, bool] = {}
        self._buffer: list[_Record] = []
        self._buffer_bytes = 0
        self._buffer_since: float | None = None
        self._stats = DeliveryStats()
        self._lock = threading.Lock()
        self._last_refresh = 0.0
        if spec.output_format == "parquet":
            self._schema = arrow_schema(spec.columns)

    @property
    def stats(self) -> DeliveryStats:
        with self._lock:
            stats = replace(self._stats, keys=list(self._stats.keys))
            if self._buffer:
                stats.data_freshness_seconds = max(0.0, self._clock() - self._buffer[0].arrival)
            return stats

    def poll_once(self) -> bool:
        """Read every shard once and deliver the buffer if it is full or old enough."""
        with self._lock:
            if not self._iterators or time.monotonic() - self._last_refresh > 10:
                self._refresh_shards()
            did_work = False
            for shard_id in list(self._iterators):
                did_work |= self._read(shard_id)
            if self._buffer and self._buffer_due():
                self._deliver()
                did_work = True
            return did_work

    def idle(self) -> bool:
        with self._lock:
            return not self._buffer and all(
                self._caught_up.get(shard, False) or iterator is None for shard, iterator in self._iterators.items()
            )

    def run_until_idle(self, timeout: float = 30.0, flush: bool = False) -> bool:
        """Poll until every shard is read and the buffer delivered (by its interval, or now if `flush`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            did_work = self.poll_once()
            if flush and not did_work and self._all_caught_up():
                self.flush()
            if not did_work and self.idle():
                return True
            if not did_work:
                time.sleep(self._poll_interval)
        return False

    def positions(self) -> dict[str, str]:
        """Per shard, the last sequence number read; after `flush()`, all of it is delivered."""
        with self._lock:
            return dict(self._positions)

    def flush(self) -> int:
        """Deliver whatever is buffered now; returns the number of objects written."""
        with self._lock:
            if not self._buffer:
                return 0
            before = self._stats.objects_written + self._stats.error_objects_written
            self._deliver()
            return self._stats.objects_written + self._stats.error_objects_written - before

    def close(self) -> None:
        """Stop polling and deliver what is buffered."""
        super().close()
        self.flush()

    # -- reading

    def _all_caught_up(self) -> bool:
        with self._lock:
            return all(self._caught_up.get(s, False) or it is None for s, it in self._iterators.items())

    def _refresh_shards(self) -> None:
        self._last_refresh = time.monotonic()
        kwargs: dict[str, Any] = {"StreamName": self._stream}
        while True:
            page = self._kinesis.list_shards(**kwargs)
            for shard in page["Shards"]:
                shard_id = shard["ShardId"]
                if shard_id not in self._iterators:
                    position: dict[str, Any] = {"ShardIteratorType": "TRIM_HORIZON"}
                    if shard_id in self._positions:
                        position = {
                            "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                            "StartingSequenceNumber": self._positions[shard_id],
                        }
                    self._iterators[shard_id] = self._kinesis.get_shard_iterator(
                        StreamName=self._stream, ShardId=shard_id, **position
                    )["ShardIterator"]
            if not page.get("NextToken"):
                return
            kwargs = {"NextToken": page["NextToken"]}

    def _read(self, shard_id: str) -> bool:
        iterator = self._iterators[shard_id]
        if iterator is None:
            return False
        page = self._kinesis.get_records(ShardIterator=iterator, Limit=10000)
        self._iterators[shard_id] = page.get("NextShardIterator")
        records = page["Records"]
        self._caught_up[shard_id] = not records
        for raw in records:
            if not self._buffer:
                self._buffer_since = time.monotonic()
            arrival = raw["ApproximateArrivalTimestamp"].timestamp()
            record = _Record(raw["SequenceNumber"], raw["Data"], arrival)
            self._positions[shard_id] = raw["SequenceNumber"]
            self._buffer.append(record)
            self._buffer_bytes += len(record.data)
        self._stats.records_read += len(records)
        return bool(records)

    def _buffer_due(self) -> bool:
        if self._buffer_bytes >= self.spec.buffer_mb * MIB:
            return True
        interval = self.spec.buffer_seconds * self._time_scale
        return time.monotonic() - (self._buffer_since or 0.0) >= interval

    # -- delivering

    def _deliver(self) -> None:
        records, self._buffer, self._buffer_bytes, self._buffer_since = self._buffer, [], 0, None
        oldest = min(record.arrival for record in records)
        dimensions = {"DeliveryStreamName": self.spec.name}
        try:
            rows = self._write(records, datetime.fromtimestamp(oldest, UTC))
        except (ClientError, BotoCoreError):
            # As Firehose does, keep the records and retry the delivery after another interval.
            self._buffer = records + self._buffer
            self._buffer_bytes = sum(len(record.data) for record in self._buffer)
            self._buffer_since = time.monotonic()
            self._stats.delivery_failures += 1
            self._metric("DeliveryToS3.Success", 0.0, dimensions)
            return
        freshness = max(0.0, self._clock() - oldest)
        self._stats.rows_archived += len(rows)
        self._stats.data_freshness_seconds = freshness
        self._metric("DeliveryToS3.DataFreshness", freshness, dimensions)
        self._metric("DeliveryToS3.Records", len(rows), dimensions)
        self._metric("DeliveryToS3.Success", 1.0, dimensions)

    def _write(self, records: list[_Record], when: datetime) -> list:
        """Put the records' object (and error records); returns the rows archived."""
        if self.spec.output_format != "parquet":
            self._put(self._object_key(when, ".gz" if self._gzip else ""), self._json_lines(records))
            self._stats.objects_written += 1
            return records
        rows, failures = self._convert(records)
        if rows:
            self._put(self._object_key(when, ".parquet"), self._parquet(rows))
            self._stats.objects_written += 1
        if failures:
            self._put_errors(failures, when)
        return rows

    @property
    def _gzip(self) -> bool:
        return self.spec.compression.upper() == "GZIP"

    def _object_key(self, when: datetime, extension: str, error_type: str | None = None) -> str:
        prefix = self.spec.error_output_prefix if error_type else self.spec.prefix
        name = f"{self.spec.name}-{self.spec.version}-{when:%Y-%m-%d-%H-%M-%S}-{uuid.uuid4()}{extension}"
        return evaluate_prefix(prefix, when, error_type) + name

    def _convert(self, records: list[_Record]) -> tuple[list[dict[str, Any]], list[_Failure]]:
        rows: list[dict[str, Any]] = []
        failures: list[_Failure] = []
        for record in records:
            try:
                rows.append(convert_record(record.data, self.spec.columns))
            except ConversionError as error:
                failures.append((record, error))
        self._stats.conversion_failures += len(failures)
        return rows, failures

    def _parquet(self, rows: list[dict[str, Any]]) -> bytes:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(rows, schema=self._schema)
        sink = io.BytesIO()
        codec = self.spec.compression.lower()
        pq.write_table(table, sink, compression="none" if codec == "uncompressed" else codec)
        return sink.getvalue()

    def _json_lines(self, records: list[_Record]) -> bytes:
        body = b"".join(r.data if r.data.endswith(b"\n") else r.data + b"\n" for r in records)
        return gzip.compress(body) if self._gzip else body

    def _put_errors(self, failures: list[_Failure], when: datetime) -> None:
        now_ms = int(self._clock() * 1000)
        lines = [json.dumps(self._error_document(record, error, now_ms)) for record, error in failures]
        self._put(self._object_key(when, "", CONVERSION_ERROR_TYPE), ("\n".join(lines) + "\n").encode())
        self._stats.error_objects_written += 1
        self._log_errors(failures, now_ms)

    def _log_errors(self, failures: list[_Failure], now_ms: int) -> None:
        """Firehose reports conversion errors to the stream's CloudWatch Logs, with its role."""
        if self._logs is None or not self.spec.log_stream:
            return
        events = [
            {"timestamp": now_ms, "message": json.dumps({"errorCode": error.code, "errorMessage": str(error)})}
            for _, error in failures[:1000]
        ]
        with contextlib.suppress(ClientError, BotoCoreError):  # logging never fails a delivery
            self._logs.put_log_events(
                logGroupName=self.spec.log_group, logStreamName=self.spec.log_stream, logEvents=events
            )

    def _error_document(self, record: _Record, error: ConversionError, now_ms: int) -> dict[str, Any]:
        return {
            "attemptsMade": 1,
            "arrivalTimestamp": int(record.arrival * 1000),
            "ErrorCode": error.code,
            "ErrorMessage": str(error),
            "attemptEndingTimestamp": now_ms,
            "rawData": base64.b64encode(record.data).decode("ascii"),
            "sequenceNumber": record.sequence_number,
            "subSequenceNumber": None,
            "dataCatalogTable": {
                "catalogId": None,
                "databaseName": None,
                "tableName": None,
                "region": self.region,
                "versionId": "LATEST",
                "catalogArn": None,
            },
        }

    def _put(self, key: str, body: bytes) -> None:
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body)
        self._stats.keys.append(key)

    def _metric(self, name: str, value: float, dimensions: dict[str, str]) -> None:
        if self._on_metric is not None:
            self._on_metric(name, float(value), dimensions)
