"""Every bucket keeps earlier versions of its objects, so an overwrite or a delete can be undone."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .buckets import companions
from .rule import stack_rule
from .tenancy import of_type
from .types import BUCKET, BUCKET_VERSIONING


def check(resources: Sequence[Any]) -> Iterator[tuple[Any, str]]:
    for bucket in of_type(resources, BUCKET):
        statuses = [
            (versioning.props.get("versioningConfiguration") or {}).get("status")
            for versioning in companions(resources, BUCKET_VERSIONING, bucket)
        ]
        if "Enabled" not in statuses:
            shown = ", ".join(str(status) for status in statuses) or "not configured"
            yield bucket, f"versioning is {shown}: an overwritten or deleted object is gone"


RULE = stack_rule(
    name="bucket-versioning",
    description="Every bucket has versioning enabled.",
    check=check,
    fix='add a BucketVersioning for the bucket with versioning_configuration={"status": "Enabled"}',
    url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html",
)
