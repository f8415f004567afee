"""The tenant's processor: the shared handler as a Lambda function, and the event source mapping that feeds it.

The function's log group is created first, with retention and the tenant key, so Lambda never creates an
unencrypted, never-expiring one on first invoke.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import defaults, handler_env, packaging
from components.context import PipelineContext, encrypted_log_group


@dataclass
class Processor:
    """The tenant's processor as deployed: the function, its log group, and the mapping that invokes it."""

    log_group: aws.cloudwatch.LogGroup
    function: aws.lambda_.Function
    mapping: aws.lambda_.EventSourceMapping


def powertools_layer_arn(ctx: PipelineContext) -> pulumi.Input[str]:
    """The stack's own layer ARN if it names one, else AWS's public Powertools layer in the stack's region."""
    if ctx.settings.powertools_layer_arn:
        return ctx.settings.powertools_layer_arn
    version = ctx.settings.powertools_layer_version
    return pulumi.Output.all(ctx.partition, ctx.region).apply(
        lambda values: (
            f"arn:{values[0]}:lambda:{values[1]}:{defaults.POWERTOOLS_LAYER_ACCOUNT}:layer:"
            f"{defaults.POWERTOOLS_LAYER_NAME}:{version}"
        )
    )


def create_function_log_group(ctx: PipelineContext, key_arn) -> aws.cloudwatch.LogGroup:
    return encrypted_log_group(ctx, "processor", ctx.names.function_log_group, key_arn)


def create_processor(
    ctx: PipelineContext,
    *,
    role: aws.iam.Role,
    role_policy: aws.iam.RolePolicy,
    log_group: aws.cloudwatch.LogGroup,
    key_arn,
    table: aws.dynamodb.Table,
    stream_arn,
    consumer: aws.kinesis.StreamConsumer | None,
    failure_queue: aws.sqs.Queue,
    on_failure_arn,
) -> Processor:
    """The shared handler as the tenant's function, configured only by its environment, and its mapping."""
    name = ctx.tenant.tenant
    processing = ctx.tenant.processing
    environment = pulumi.Output.all(table.name, failure_queue.url).apply(
        lambda values: handler_env.handler_environment(ctx.tenant, values[0], values[1])
    )
    function = aws.lambda_.Function(
        f"{name}-processor",
        name=ctx.names.function,
        description=f"tributary: {ctx.tenant.records.write} writer for tenant {name}",
        runtime=defaults.LAMBDA_RUNTIME,
        architectures=[defaults.LAMBDA_ARCHITECTURE],
        handler=defaults.LAMBDA_HANDLER,
        code=packaging.handler_archive(require_dependencies=ctx.settings.require_packaged_dependencies),
        layers=[powertools_layer_arn(ctx)],
        role=role.arn,
        memory_size=processing.memory_mb,
        timeout=processing.timeout_seconds,
        reserved_concurrent_executions=processing.reserved_concurrency,
        environment={"variables": environment},
        kms_key_arn=key_arn,
        tracing_config={"mode": "Active"},
        logging_config={"log_format": "JSON", "log_group": log_group.name},
        tags=ctx.tags,
        # The role's permissions must exist before the first invocation, and the log group before any log.
        opts=ctx.opts(depends_on=[log_group, role_policy]),
    )
    mapping = aws.lambda_.EventSourceMapping(
        f"{name}-mapping",
        function_name=function.arn,
        # With enhanced fan-out the mapping reads through the tenant's dedicated consumer.
        event_source_arn=consumer.arn if consumer is not None else stream_arn,
        starting_position=processing.starting_position,
        batch_size=processing.batch_size,
        maximum_batching_window_in_seconds=processing.batch_window_seconds,
        parallelization_factor=processing.parallelization_factor,
        bisect_batch_on_function_error=defaults.BISECT_BATCH_ON_FUNCTION_ERROR,
        maximum_retry_attempts=processing.max_retries,
        maximum_record_age_in_seconds=processing.max_record_age_seconds,
        function_response_types=defaults.FUNCTION_RESPONSE_TYPES,
        destination_config={"on_failure": {"destination_arn": on_failure_arn}},
        metrics_config={"metrics": defaults.ESM_METRICS},
        tags=ctx.tags,
        opts=ctx.opts(depends_on=[role_policy]),
    )
    return Processor(log_group=log_group, function=function, mapping=mapping)
