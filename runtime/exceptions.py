"""Errors raised by the shared handler, each with when it is raised.

Permanent record errors are never retried: the record goes to the tenant's failure queue with the
error's ``reason`` code. A write that cannot finish in time is not an error here: the writer reports its
record as ``Outcome.TRANSIENT`` and the partial batch response has the event source mapping redeliver it.
Configuration errors stop the function at cold start.
"""

from __future__ import annotations


class TributaryError(Exception):
    """Base class of every error the handler raises on purpose."""


class ConfigurationError(TributaryError):
    """Raised at cold start when an environment variable (or explicit argument) is missing or invalid.

    The message always starts with the variable's name, e.g.
    ``TRIBUTARY_WRITE_MODE: must be one of events, latest, counters (got 'foo')``.
    """

    def __init__(self, variable: str, problem: str):
        self.variable = variable
        self.problem = problem
        super().__init__(f"{variable}: {problem}")


class PermanentRecordError(TributaryError):
    """Raised while decoding, validating or keying one record that can never succeed.

    Subclasses set ``reason``, the code a tenant sees in its failure queue message.
    """

    reason = "permanent"

    def __init__(self, detail: str):
        self.detail = detail
        super().__init__(f"{self.reason}: {detail}")


class UndecodableRecordError(PermanentRecordError):
    """Raised when the record's data is not base64, not valid (optionally gzip/zlib compressed) UTF-8
    JSON, or contains NaN/Infinity."""

    reason = "undecodable"


class CorruptAggregateError(PermanentRecordError):
    """Raised when a record starts with the KPL magic bytes but its MD5 trailer does not match or its
    protobuf body cannot be parsed. Every user record of that aggregate is lost to the writer, so the
    whole Kinesis record goes to the failure queue once."""

    reason = "corrupt_aggregate"


class SchemaInvalidError(PermanentRecordError):
    """Raised when the payload is not a JSON object, fails the tenant's JSON Schema, or uses an
    attribute name the table reserves (``pk``, ``sk``, ``expires_at``, the ``_`` metadata names)."""

    reason = "schema_invalid"


class KeyFieldMissingError(PermanentRecordError):
    """Raised when a key template, the event id field or the timestamp field names a field the payload
    does not have (or has as null / a non-scalar)."""

    reason = "key_field_missing"


class KeyInvalidError(PermanentRecordError):
    """Raised when a rendered key is empty or longer than DynamoDB allows (2048 bytes for ``pk``,
    1024 bytes for ``sk``)."""

    reason = "key_invalid"


class TimestampInvalidError(PermanentRecordError):
    """Raised when the timestamp field is neither an ISO-8601 string nor epoch seconds/milliseconds."""

    reason = "timestamp_invalid"


class ValueInvalidError(PermanentRecordError):
    """Raised when a value cannot be stored in DynamoDB (a number with more than 38 significant digits
    or outside 1e-130..1e126), or the version / a counter field is not a number."""

    reason = "value_invalid"


class ItemTooLargeError(PermanentRecordError):
    """Raised when the item built from the record would exceed DynamoDB's 400 KB item limit."""

    reason = "item_too_large"


class WriteRejectedError(PermanentRecordError):
    """Raised when DynamoDB rejects a single-item write with a ValidationException: retrying the same
    request can never succeed."""

    reason = "write_rejected"


class DeadlineExceededError(TributaryError):
    """Raised by ``Deadline.run`` when an AWS call would start after the invocation's deadline, or has not
    answered by the time the invocation must return.

    Whether such a call took effect is unknown (it may still land), so it is never retried in the same
    invocation: its record is reported for redelivery, like a lost response. Every write is idempotent,
    so a late landing changes nothing.
    """
