"""Where failed records go: the tenant's failure queue (always) and, with `on_failure: s3`, a bucket.

The queue receives the handler's poison pills and, by default, the event source mapping's records of
batches that ran out of retries or age. With `on_failure: s3` the mapping writes those to the bucket
instead, which keeps batches larger than SQS's 256 KB message limit.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import defaults, policies
from components.buckets import secure_bucket
from components.context import PipelineContext, to_json


@dataclass
class FailureDestinations:
    queue: aws.sqs.Queue
    bucket: aws.s3.Bucket | None

    @property
    def on_failure_arn(self) -> pulumi.Output[str]:
        return self.bucket.arn if self.bucket is not None else self.queue.arn


def create_failure_destinations(ctx: PipelineContext, key_arn) -> FailureDestinations:
    name = ctx.tenant.tenant
    queue = aws.sqs.Queue(
        f"{name}-failures",
        name=ctx.names.failure_queue,
        kms_master_key_id=key_arn,
        # Reusing a data key for 5 minutes keeps KMS calls (and cost) down at high failure rates.
        kms_data_key_reuse_period_seconds=300,
        message_retention_seconds=defaults.FAILURE_QUEUE_RETENTION_SECONDS,
        visibility_timeout_seconds=defaults.FAILURE_QUEUE_VISIBILITY_SECONDS,
        tags=ctx.tags,
        # It holds the records no retry could write: kept with the table and buckets when the tenant is removed.
        opts=ctx.opts(retain=True),
    )
    aws.sqs.QueuePolicy(
        f"{name}-failures-policy",
        queue_url=queue.url,
        policy=queue.arn.apply(lambda arn: to_json(policies.queue_policy(arn))),
        opts=ctx.opts(),
    )
    bucket = None
    if ctx.tenant.processing.on_failure == "s3":
        bucket_name = ctx.names_in_account().apply(lambda names: names.failure_bucket)
        bucket = secure_bucket(ctx, f"{name}-failure-bucket", bucket_name, key_arn, expire_days=None)
    return FailureDestinations(queue=queue, bucket=bucket)
