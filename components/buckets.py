"""An S3 bucket with every protection on: no public access, TLS only, versioned, SSE-KMS with bucket key."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components import defaults, policies
from components.context import PipelineContext, to_json


def _lifecycle_rules(expire_days: int | None) -> list[dict]:
    rules = [
        {
            "id": "abort-incomplete-uploads",
            "status": "Enabled",
            "filter": {},
            "abort_incomplete_multipart_upload": {
                "days_after_initiation": defaults.ARCHIVE_ABORT_INCOMPLETE_UPLOAD_DAYS
            },
        },
        {
            "id": "expire-error-output",
            "status": "Enabled",
            "filter": {"prefix": "errors/"},
            "expiration": {"days": defaults.ARCHIVE_ERROR_PREFIX_EXPIRE_DAYS},
        },
        {
            "id": "expire-noncurrent-versions",
            "status": "Enabled",
            "filter": {},
            "noncurrent_version_expiration": {"noncurrent_days": defaults.ARCHIVE_NONCURRENT_EXPIRE_DAYS},
        },
    ]
    if expire_days is not None:
        rules.append({"id": "expire-objects", "status": "Enabled", "filter": {}, "expiration": {"days": expire_days}})
    return rules


def secure_bucket(
    ctx: PipelineContext, logical_name: str, bucket_name: pulumi.Input[str], key_arn, expire_days: int | None
) -> aws.s3.Bucket:
    bucket = aws.s3.Bucket(
        logical_name,
        bucket=bucket_name,
        # A tenant that opted out of retention, or whose data is let go, also wants the delete to empty its buckets.
        force_destroy=not ctx.keeps_data,
        tags=ctx.tags,
        opts=ctx.opts(retain=True),
    )
    child = pulumi.ResourceOptions(parent=bucket)  # the provider is inherited from the parent
    aws.s3.BucketPublicAccessBlock(
        f"{logical_name}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    aws.s3.BucketPolicy(
        f"{logical_name}-policy",
        bucket=bucket.id,
        policy=bucket.arn.apply(lambda arn: to_json(policies.bucket_policy(arn))),
        opts=child,
    )
    aws.s3.BucketVersioning(
        f"{logical_name}-versioning",
        bucket=bucket.id,
        versioning_configuration={"status": "Enabled"},
        opts=child,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{logical_name}-encryption",
        bucket=bucket.id,
        rules=[
            {
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms",
                    "kms_master_key_id": key_arn,
                },
                # The bucket key cuts KMS requests (and their cost) by up to 99% for Firehose's many PUTs.
                "bucket_key_enabled": True,
            }
        ],
        opts=child,
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{logical_name}-lifecycle",
        bucket=bucket.id,
        rules=_lifecycle_rules(expire_days),
        opts=child,
    )
    return bucket
