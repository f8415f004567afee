"""SQL over a tenant's Parquet archive: DuckDB, in-process, over an Arrow dataset read through pyarrow's S3.

    result = run_query(target, "select device_id, count(*) from archive group by device_id")

The archive is the view `archive` (tenant names hold '-', which SQL would need quoted). Its columns are the
Glue table's, as Athena sees them: the tenant schema's columns, then the partitions `year`, `month`, `day`,
`hour` as text ('2025', '01', ...) from the `data/year=/month=/day=/hour=/` prefixes Firehose writes. An object
written before a column was added reads that column as null, as in Athena.

DuckDB reads the dataset object itself (no httpfs, no extension is installed or loaded), and may not touch
local files: the query sees the archive and nothing else. An archive with no objects yet is an empty table,
so `count(*)` answers 0.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import math
import os
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ops.target import ArchiveLocation, Target, TargetError, one_line

VIEW = "archive"
INSTALL_HINT = "pip install 'tributary[query]'"
# DuckDB settings: the query reads the registered archive and nothing else.
DUCKDB_CONFIG = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "enable_external_access": False,
}


class QueryError(Exception):
    """Raised when a query cannot run: the query extra is not installed, the tenant has no Parquet archive, the
    archive cannot be listed or read, or DuckDB refuses the SQL. The message is one line."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    archive: ArchiveLocation
    objects: int  # archived objects the view reads

    def as_json(self) -> list[dict[str, Any]]:
        """One object per row; dates, times, decimals and other non-JSON values as strings."""
        return [{column: jsonable(value) for column, value in zip(self.columns, row, strict=True)} for row in self.rows]


def run_query(target: Target, sql: str) -> QueryResult:
    duckdb = _duckdb()
    archive = _parquet_archive(target)
    dataset, objects = archive_dataset(target, archive)
    connection = duckdb.connect(config=DUCKDB_CONFIG)
    try:
        connection.register(VIEW, dataset)
        relation = connection.sql(sql)
        if relation is None:  # a statement with no result (SET, PRAGMA)
            return QueryResult([], [], archive, objects)
        return QueryResult(list(relation.columns), relation.fetchall(), archive, objects)
    except duckdb.Error as error:
        raise QueryError(_duckdb_message(error)) from None
    except OSError as error:  # pyarrow's S3 errors while DuckDB scans
        raise QueryError(f"reading {archive.location}: {one_line(error)}") from None
    finally:
        connection.close()


def _duckdb() -> Any:
    try:
        import duckdb
        import pyarrow  # noqa: F401 - the dataset below
    except ImportError as error:
        raise QueryError(f"`tributary query` needs {error.name}: {INSTALL_HINT}") from None
    return duckdb


def _parquet_archive(target: Target) -> ArchiveLocation:
    names = target.names
    if names.archive is None:
        raise QueryError(f"{names.tenant}: has no archive (archive.enabled: false in its tenant file)")
    if not names.archive.parquet:
        raise QueryError(
            f"{names.tenant}: archives JSON (archive.format: json); `tributary query` reads Parquet archives; "
            f"ask Athena: SELECT ... FROM {names.archive.athena_table}"
        )
    return names.archive


def _duckdb_message(error: Exception) -> str:
    # DuckDB's messages span lines (a caret under the error's position): one line, without the caret.
    lines = [line.strip() for line in str(error).splitlines()]
    return " ".join(line for line in lines if line and set(line) != {"^"})


# --------------------------------------------------------------------------------- the Arrow dataset


def s3_filesystem(target: Target) -> Any:
    """pyarrow's S3 with the target's credentials (the emulator's dummies, or the caller's from boto3's chain) and
    the endpoint boto3 uses: the sandbox's, or one the environment configures for S3."""
    from pyarrow import fs

    credentials = target.session.get_credentials()
    if credentials is None:
        raise TargetError("no AWS credentials found: configure them, or pass --sandbox to use the sandbox")
    frozen = credentials.get_frozen_credentials()
    options: dict[str, Any] = {
        "access_key": frozen.access_key,
        "secret_key": frozen.secret_key,
        "session_token": frozen.token,
        "region": target.names.region,
    }
    endpoint_url = target.endpoint_url or configured_s3_endpoint()
    if endpoint_url:
        endpoint = urlsplit(endpoint_url)
        options |= {"endpoint_override": endpoint.netloc, "scheme": endpoint.scheme}
    return fs.S3FileSystem(**options)


def configured_s3_endpoint() -> str | None:
    """The S3 endpoint the environment gives boto3, if any (AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL):
    https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html"""
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def archive_schema(archive: ArchiveLocation) -> Any:
    """The Glue table's columns as Arrow types, as Firehose writes them, then the partitions as text."""
    import pyarrow as pa

    from sandbox.engines.record_conversion import arrow_schema

    data = arrow_schema(list(archive.columns))
    # A schema field named like a partition keeps its data column; the partition is then left out.
    partitions = [pa.field(key, pa.string()) for key in archive.partition_keys if key not in data.names]
    return pa.schema([*data, *partitions])


def archive_dataset(target: Target, archive: ArchiveLocation) -> tuple[Any, int]:
    """The archive's objects under `data/` as one dataset with the Glue table's schema, and how many there are."""
    import pyarrow as pa
    import pyarrow.dataset as ds
    from pyarrow import fs

    filesystem = s3_filesystem(target)
    base = f"{archive.bucket}/{archive.prefix}".rstrip("/")
    try:
        found = filesystem.get_file_info(fs.FileSelector(base, recursive=True, allow_not_found=True))
    except OSError as error:
        raise QueryError(f"cannot list {archive.location} in {target.where}: {one_line(error)}") from None
    files = sorted(info.path for info in found if info.type == fs.FileType.File and info.size)
    schema = archive_schema(archive)
    partition_fields = [field for field in schema if field.name in archive.partition_keys]
    partitioning = ds.partitioning(pa.schema(partition_fields), flavor="hive") if partition_fields else None
    dataset = ds.dataset(
        files,
        schema=schema,
        format="parquet",
        filesystem=filesystem,
        partitioning=partitioning,
        partition_base_dir=base,
    )
    return dataset, len(files)


# --------------------------------------------------------------------------------- values for JSON


def jsonable(value: Any) -> Any:
    """A DuckDB value as JSON: text for dates, times, decimals, UUIDs and bytes; non-finite floats as text."""
    if isinstance(value, (datetime.date, datetime.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID, datetime.timedelta)):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value
