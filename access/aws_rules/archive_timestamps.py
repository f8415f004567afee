"""Firehose record format conversion: the timestamp formats the OpenX JSON SerDe parses, as cited data."""

from __future__ import annotations

from dataclasses import dataclass

from access.aws_rules.pages import FIREHOSE_FORMAT_CONVERSION


@dataclass(frozen=True)
class TimestampFormat:
    """One input timestamp format, as the page writes it, with the page's example."""

    pattern: str
    example: str
    source: str = FIREHOSE_FORMAT_CONVERSION


OPENX_TIMESTAMP_FORMATS: tuple[TimestampFormat, ...] = (
    TimestampFormat("yyyy-MM-dd'T'HH:mm:ss[.S]'Z' (fraction up to 9 digits)", "2017-02-07T15:13:01.39256Z"),
    TimestampFormat("yyyy-[M]M-[d]d HH:mm:ss[.S] (fraction up to 9 digits)", "2017-02-07 15:13:01.14"),
    TimestampFormat("epoch seconds", "1518033528"),
    TimestampFormat("epoch milliseconds", "1518033528123"),
    TimestampFormat("floating point epoch seconds", "1518033528.123"),
)
"""Any other format needs the Hive JSON SerDe with Joda-Time patterns; an ISO-8601 offset such as +00:00 is not
in the list."""
