"""No bucket can be made public, by ACL or by policy, whatever is written to it later."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .buckets import companions
from .rule import stack_rule
from .tenancy import of_type
from .types import BUCKET, BUCKET_PUBLIC_ACCESS_BLOCK

FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def check(resources: Sequence[Any]) -> Iterator[tuple[Any, str]]:
    for bucket in of_type(resources, BUCKET):
        blocks = companions(resources, BUCKET_PUBLIC_ACCESS_BLOCK, bucket)
        if not blocks:
            yield bucket, "no public access block: an ACL or bucket policy can make it public"
            continue
        off = [flag for flag in FLAGS if not any(block.props.get(flag) is True for block in blocks)]
        if off:
            yield bucket, f"its public access block leaves {', '.join(off)} off"


RULE = stack_rule(
    name="bucket-public-access-blocked",
    description="Every bucket has a public access block with all four settings on.",
    check=check,
    fix="add a BucketPublicAccessBlock for the bucket with block_public_acls, block_public_policy, "
    "ignore_public_acls and restrict_public_buckets all True",
    url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",
)
