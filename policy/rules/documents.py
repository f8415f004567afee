"""Policy documents read the way AWS reads them: a statement or a list of them, a value or a list of values."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any


def statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of a policy document given as JSON text (as the program passes it) or as an object."""
    if not document:
        return []
    parsed = json.loads(document) if isinstance(document, str) else document
    found = parsed.get("Statement", [])
    return [found] if isinstance(found, Mapping) else list(found)


def as_list(value: Any) -> list[Any]:
    """`"s3:GetObject"` and `["s3:GetObject"]` mean the same in a statement."""
    if value is None:
        return []
    if isinstance(value, str | Mapping):
        return [value]
    return list(value)


def arn_strings(value: Any) -> Iterator[str]:
    """Every ARN anywhere in a document: resources, principals and conditions alike."""
    if isinstance(value, str):
        if value.startswith("arn:"):
            yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from arn_strings(item)
    elif isinstance(value, Sequence):
        for item in value:
            yield from arn_strings(item)


def base_arn(arn: str) -> str:
    """The resource a statement's `ARN/*` (a bucket's objects) or `ARN:*` (a log group's streams) extends."""
    return re.sub(r"(/\*|:\*)$", "", arn)


def denies_insecure_transport(statement: Mapping[str, Any]) -> bool:
    """A Deny on requests whose aws:SecureTransport is false: the TLS-only statement of a resource policy."""
    secure = statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
    return statement.get("Effect") == "Deny" and str(secure).lower() == "false"
