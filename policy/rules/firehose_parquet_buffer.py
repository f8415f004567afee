"""An archive converted to Parquet buffers at least 64 MiB, the least Firehose accepts with format conversion."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .rule import number, resource_rule
from .types import FIREHOSE

# Firehose requires a buffer of at least 64 MiB when record format conversion is enabled ("Converting your input
# record format in Amazon Data Firehose", https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html).
# Without a bufferingSize the provider sends Firehose's default of 5 MiB.
PARQUET_MIN_BUFFER_MB = 64
DEFAULT_BUFFER_MB = 5


def check(props: Mapping[str, Any]) -> Iterator[str]:
    destination = props.get("extendedS3Configuration") or {}
    conversion = destination.get("dataFormatConversionConfiguration")
    if not conversion or conversion.get("enabled") is False:
        return
    size = destination.get("bufferingSize") or DEFAULT_BUFFER_MB
    if size < PARQUET_MIN_BUFFER_MB:
        yield f"bufferingSize is {number(size)} MiB with record format conversion on: Firehose requires at least 64"


RULE = resource_rule(
    name="firehose-parquet-buffer",
    description="A delivery stream that converts records to Parquet buffers at least 64 MiB.",
    types=(FIREHOSE,),
    check=check,
    fix=f"set buffering_size to at least {PARQUET_MIN_BUFFER_MB} (tenant file: archive.buffer_mb)",
    url="https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html",
)
