"""Records too old to act on are given up, and the limit means something: it is within the stream's retention."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .mappings import reads_a_stream
from .rule import number, stack_rule
from .tenancy import of_type
from .types import EVENT_SOURCE_MAPPING, STREAM, STREAM_CONSUMER

# -1 (the default) never discards a record; 60 to 604,800 s are finite ("Lambda parameters for Amazon Kinesis
# Data Streams event source mappings"). A stream keeps records 24 hours unless its retentionPeriod (hours)
# says more (https://docs.aws.amazon.com/streams/latest/dev/kinesis-extended-retention.html).
DEFAULT_RETENTION_HOURS = 24


def check(resources: Sequence[Any]) -> Iterator[tuple[Any, str]]:
    streams = {stream.props.get("arn"): stream for stream in of_type(resources, STREAM)}
    consumers = {c.props.get("arn"): c.props.get("streamArn") for c in of_type(resources, STREAM_CONSUMER)}
    for mapping in of_type(resources, EVENT_SOURCE_MAPPING):
        if not reads_a_stream(mapping.props):
            continue
        age = mapping.props.get("maximumRecordAgeInSeconds")
        if age is None or age < 0:
            yield mapping, "maximumRecordAgeInSeconds is unset (-1): records are retried until the stream drops them"
            continue
        source = mapping.props.get("eventSourceArn")
        stream = streams.get(consumers.get(source, source))
        if stream is None:
            continue  # a stream of another stack: its retention is not known here
        retention_seconds = (stream.props.get("retentionPeriod") or DEFAULT_RETENTION_HOURS) * 3600
        if age > retention_seconds:
            retention = f"the stream's retention ({number(retention_seconds)} s)"
            yield mapping, f"maximumRecordAgeInSeconds {number(age)} is above {retention}: records expire first"


RULE = stack_rule(
    name="mapping-max-record-age",
    description="A stream's event source mapping gives up on records older than a maximum age within the retention.",
    check=check,
    fix=(
        "set maximum_record_age_in_seconds between 60 and the stream's retention "
        "(tenant file: processing.max_record_age_seconds, stream.retention_hours)"
    ),
    url="https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-parameters.html",
)
