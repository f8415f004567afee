"""What the bucket rules share: a bucket's settings live in companion resources that name it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .tenancy import of_type


def companions(resources: Sequence[Any], type_: str, bucket: Any) -> list[Any]:
    """The resources of `type_` that configure `bucket` (their `bucket` input is its name)."""
    name = bucket.props.get("bucket")
    return [resource for resource in of_type(resources, type_) if name and resource.props.get("bucket") == name]
