"""Tenant keys rotate their key material every year, automatically."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .rule import resource_rule
from .types import KEY


def check(props: Mapping[str, Any]) -> Iterator[str]:
    if props.get("enableKeyRotation") is not True:
        yield "enableKeyRotation is off: the key's material never changes"


RULE = resource_rule(
    name="kms-key-rotation",
    description="A customer managed KMS key rotates its key material automatically.",
    types=(KEY,),
    check=check,
    fix="set enable_key_rotation=True on the key",
    url="https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html",
)
