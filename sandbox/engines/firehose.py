"""Firehose delivery from a Kinesis stream to S3, as the service behaves.

`FirehoseDelivery(spec, endpoint_url, region)` is an independent consumer of the stream: its own
`ShardReader`, every shard from TRIM_HORIZON, the children of a reshard after their parents. It buffers
records until `buffer_mb` of input or `buffer_seconds` (times `time_scale`) since the first buffered
record, then writes one object:

- `output_format="parquet"`: each record is converted into the Glue columns as Firehose's OpenX JSON SerDe
  reads it (`record_conversion.py`) and written as Parquet with the spec's compression (Snappy);
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
import json
import re
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sandbox.engines import emulator
from sandbox.engines.polling import PollingEngine
from sandbox.engines.record_conversion import (
    ConversionError,
    arrow_schema,
    convert_record,
    glue_columns,
    parquet_bytes,
)
from sandbox.engines.shard_reader import SHARD_REFRESH_SECONDS, ShardReader, StreamRecord
from sandbox.engines.specs import DeliverySpec, arn_resource, stream_name

MetricHook = Callable[[str, float, dict[str, str]], None]
METRIC_UNITS = {
    "DeliveryToS3.DataFreshness": "Seconds",
    "DeliveryToS3.Records": "Count",
    "DeliveryToS3.Success": "Count",
}
MIB = 1024 * 1024
CONVERSION_ERROR_TYPE = "format-conversion-failed"
JAVA_DATE_TOKENS = {"yyyy": "%Y", "yy": "%y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
EXPRESSION = re.compile(r"!\{(timestamp|firehose):([^}]*)\}")
_Failure = tuple[StreamRecord, ConversionError]


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
        shard_refresh_seconds: float = SHARD_REFRESH_SECONDS,
    ) -> None:
        """`instrument(client)` is applied to each client the engine makes (the sandbox records its calls)."""
        super().__init__(poll_interval)
        self.thread_name = f"firehose-{spec.name}"
        self.spec = spec
        self.region = region
        self._time_scale = time_scale
        self._clock = clock
        self._on_metric = on_metric
        instrument = instrument or (lambda client: client)
        kinesis = instrument(emulator.client("kinesis", endpoint_url, region))
        self._s3 = instrument(emulator.client("s3", endpoint_url, region))
        self._logs = instrument(emulator.client("logs", endpoint_url, region)) if spec.log_group else None
        if spec.glue_database and spec.glue_table:
            # Firehose converts with the Glue table's latest columns (schemaConfiguration version LATEST).
            glue = instrument(emulator.client("glue", endpoint_url, region))
            spec = replace(spec, columns=glue_columns(glue, spec.glue_database, spec.glue_table))
            self.spec = spec
        self._reader = ShardReader(
            kinesis,
            stream_name(spec.stream_arn),
            starting_position="TRIM_HORIZON",
            resume_after=resume_after,
            refresh_seconds=shard_refresh_seconds,
        )
        self._bucket = arn_resource(spec.bucket_arn)
        self._buffer: list[StreamRecord] = []
        self._buffer_bytes = 0
        self._buffer_since: float | None = None
        self._stats = DeliveryStats()
        self._lock = threading.Lock()
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
            self._reader.refresh_if_due()
            did_work = False
            for shard_id in self._reader.readable():
                did_work |= self._read(shard_id)
            if self._buffer and self._buffer_due():
                self._deliver()
                did_work = True
            return did_work

    def idle(self) -> bool:
        with self._lock:
            return not self._buffer and self._reader.caught_up()

    def read_everything(self) -> bool:
        """Every shard read to its end; the buffer may still wait for its interval (`flush` delivers it)."""
        with self._lock:
            return self._reader.caught_up()

    def run_until_idle(self, timeout: float = 30.0, flush: bool = False) -> bool:
        """Poll until every shard is read and the buffer delivered (by its interval, or now if `flush`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            did_work = self.poll_once()
            if flush and not did_work and self._reader.caught_up():
                self.flush()
            if not did_work and self.idle():
                return True
            if not did_work:
                time.sleep(self._poll_interval)
        return False

    def positions(self) -> dict[str, str]:
        """Per shard, the last sequence number read; after `flush()`, all of it is delivered."""
        return self._reader.positions()

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

    def _read(self, shard_id: str) -> bool:
        records = self._reader.read(shard_id)
        if records and not self._buffer:
            self._buffer_since = time.monotonic()
        self._buffer.extend(records)
        self._buffer_bytes += sum(len(record.data) for record in records)
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

    def _write(self, records: list[StreamRecord], when: datetime) -> list:
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

    def _convert(self, records: list[StreamRecord]) -> tuple[list[dict[str, Any]], list[_Failure]]:
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
        return parquet_bytes(rows, self._schema, self.spec.compression)

    def _json_lines(self, records: list[StreamRecord]) -> bytes:
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

    def _error_document(self, record: StreamRecord, error: ConversionError, now_ms: int) -> dict[str, Any]:
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
