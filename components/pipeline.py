"""TenantPipeline: one tenant's complete pipeline, composed from one module per part.

producers -> stream (key) -> processor (mapping) -> table
                   |              `-> failure queue / bucket
                   `-> archive (Firehose -> S3 Parquet, Glue table)
+ alarms -> topic, dashboard

A tenant whose file says `lifecycle: offboarded` or `delete-data` (components/lifecycle.py) keeps only the parts
that hold data: key, table, failure queue and bucket, archive bucket and Glue table. Its outputs keep every
key; those of parts it no longer has are "".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components import alarms, archive, failures, iam, keys, lifecycle, naming, policies, processor, stream, table
from components.config import TenantFile
from components.context import PipelineContext, to_json
from components.key_policy import KeyPolicyArns
from components.key_policy import key_policy as key_policy_document
from components.stack import StackSettings
from runtime.modes import MODES

TYPE_TOKEN = "tributary:index:TenantPipeline"
# The outputs of the parts only a running pipeline has: "" once the tenant is offboarded.
PIPELINE_OUTPUTS = ("stream_arn", "stream_name", "function_name", "alarm_topic_arn", "dashboard_url", "producer_policy")


@dataclass
class TenantPipelineArgs:
    tenant: TenantFile
    stack: str
    settings: StackSettings = field(default_factory=StackSettings)


def _tenant_provider(
    name: str, tenant: TenantFile, settings: StackSettings, parent: pulumi.Resource
) -> pulumi.ProviderResource | None:
    """A tenant with its own account gets its own provider, assuming the role its file names."""
    if tenant.account is None:
        return None
    return aws.Provider(
        f"{name}-provider",
        # An explicit provider does not read the stack's aws:region: default to it here.
        region=tenant.account.region or settings.region,
        # Typed args: a dict literal's snake_case keys reach the provider untranslated (pulumi-aws#5271).
        assume_roles=[
            aws.ProviderAssumeRoleArgs(role_arn=tenant.account.role_arn, session_name=f"tributary-{tenant.tenant}")
        ],
        default_tags={"tags": {"tenant": tenant.tenant, "managed-by": "tributary"}},
        opts=pulumi.ResourceOptions(parent=parent),
    )


class TenantPipeline(pulumi.ComponentResource):
    """Everything one tenant gets. Outputs are the stable contract `__main__.py` exports."""

    stream_arn: pulumi.Output[str]
    """ARN of the Kinesis stream producers write to ("" once offboarded)."""
    stream_name: pulumi.Output[str]
    """Name of the Kinesis stream producers write to ("" once offboarded)."""
    table_name: pulumi.Output[str]
    """Name of the DynamoDB table that serves the processed records."""
    failure_queue_url: pulumi.Output[str]
    """URL of the SQS queue holding poison pills and batches that ran out of retries."""
    archive_bucket: pulumi.Output[str]
    """Name of the S3 bucket with the Parquet archive ("" when the archive is disabled)."""
    key_arn: pulumi.Output[str]
    """ARN of the tenant's KMS key."""
    function_name: pulumi.Output[str]
    """Name of the processor function ("" once offboarded)."""
    alarm_topic_arn: pulumi.Output[str]
    """ARN of the SNS topic every alarm notifies ("" once offboarded)."""
    dashboard_url: pulumi.Output[str]
    """Console URL of the tenant's CloudWatch dashboard ("" once offboarded)."""
    producer_policy: pulumi.Output[str]
    """IAM policy (JSON) to attach to the tenant's producer roles: put records on this stream only ("" once
    offboarded)."""
    reader_policy: pulumi.Output[str]
    """IAM policy (JSON) to attach to the tenant's reader roles: read the table, archive and failed records."""

    def __init__(self, name: str, args: TenantPipelineArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE_TOKEN, name, None, opts)
        tenant = args.tenant
        provider = _tenant_provider(name, tenant, args.settings, self)
        invoke_opts = pulumi.InvokeOutputOptions(provider=provider, parent=self)
        ctx = PipelineContext(
            tenant=tenant,
            stack=args.stack,
            names=naming.tenant_names(tenant.tenant, args.stack),
            account_id=aws.get_caller_identity_output(opts=invoke_opts).account_id,
            region=aws.get_region_output(opts=invoke_opts).region,
            partition=aws.get_partition_output(opts=invoke_opts).partition,
            parent=self,
            provider=provider,
            settings=args.settings,
        )
        build = self._build_pipeline if lifecycle.runs_pipeline(tenant.lifecycle) else self._build_retained
        outputs = build(ctx)
        for output, value in outputs.items():
            setattr(self, output, pulumi.Output.from_input(value))
        self.register_outputs(outputs)

    def _build_pipeline(self, ctx: PipelineContext) -> dict[str, pulumi.Input[str]]:
        tenant = ctx.tenant
        archive_enabled = tenant.archive.enabled
        processor_role = iam.create_role(ctx, "processor", ctx.names.processor_role, "lambda.amazonaws.com")
        firehose_role = (
            iam.create_role(ctx, "firehose", ctx.names.firehose_role, "firehose.amazonaws.com")
            if archive_enabled
            else None
        )
        key_policy = _key_policy_arns(ctx, processor_role, firehose_role).apply(
            lambda arns: to_json(key_policy_document(arns))
        )
        key = keys.create_key(ctx, key_policy)
        key_arn = key.key.arn

        tenant_stream = stream.create_stream(ctx, key_arn)
        serving_table = table.create_table(ctx, key_arn)
        failure = failures.create_failure_destinations(ctx, key_arn)
        function_log_group = processor.create_function_log_group(ctx, key_arn)
        topic = alarms.create_topic(ctx, key_arn)

        processor_arns = pulumi.Output.all(
            stream=tenant_stream.stream.arn,
            table=serving_table.arn,
            failure_queue=failure.queue.arn,
            function_log_group=function_log_group.arn,
            consumer=tenant_stream.consumer.arn if tenant_stream.consumer else None,
            failure_bucket=failure.bucket.arn if failure.bucket else None,
        ).apply(
            lambda values: policies.ProcessorArns(table_actions=MODES[tenant.records.write].table_actions, **values)
        )
        processor_policy = iam.attach_policy(
            ctx, "processor", processor_role, processor_arns.apply(policies.processor_policy)
        )
        tenant_processor = processor.create_processor(
            ctx,
            role=processor_role,
            role_policy=processor_policy,
            log_group=function_log_group,
            key_arn=key_arn,
            table=serving_table,
            stream_arn=tenant_stream.stream.arn,
            consumer=tenant_stream.consumer,
            failure_queue=failure.queue,
            on_failure_arn=failure.on_failure_arn,
        )

        watched: list[pulumi.Resource] = [tenant_processor.function, serving_table, failure.queue]
        archive_bucket = None
        if archive_enabled and firehose_role is not None:
            tenant_archive = self._build_archive(ctx, firehose_role, key_arn, tenant_stream.stream)
            watched.append(tenant_archive.delivery_stream)
            archive_bucket = tenant_archive.bucket

        tenant_alarms = alarms.create_alarms(ctx, topic, tenant_processor.mapping, depends_on=watched)
        dashboard = alarms.create_dashboard(ctx, tenant_alarms)

        return {
            "producer_policy": pulumi.Output.all(tenant_stream.stream.arn, key_arn).apply(
                lambda values: to_json(policies.producer_policy(values[0], values[1]))
            ),
            "reader_policy": _reader_policy(ctx, key_arn, serving_table, failure, archive_bucket),
            "stream_arn": tenant_stream.stream.arn,
            "stream_name": tenant_stream.stream.name,
            "table_name": serving_table.name,
            "failure_queue_url": failure.queue.url,
            "archive_bucket": archive_bucket.bucket if archive_bucket is not None else "",
            "key_arn": key_arn,
            "function_name": tenant_processor.function.name,
            "alarm_topic_arn": topic.arn,
            "dashboard_url": pulumi.Output.all(ctx.region, dashboard.dashboard_name).apply(
                lambda values: alarms.dashboard_url(values[0], values[1])
            ),
        }

    def _build_retained(self, ctx: PipelineContext) -> dict[str, pulumi.Input[str]]:
        """Only what holds data, each part as the running pipeline has it (`keys.retained_key_policy` apart): the
        key and alias, the table, the failure queue and bucket, the archive bucket and its Glue table, which
        keeps the archive readable in Athena. What is not registered, `pulumi up` removes."""
        key = keys.create_key(ctx, _retained_key_arns(ctx).apply(lambda arns: to_json(keys.retained_key_policy(arns))))
        key_arn = key.key.arn
        serving_table = table.create_table(ctx, key_arn)
        failure = failures.create_failure_destinations(ctx, key_arn)
        archive_bucket = None
        if ctx.tenant.archive.enabled:
            archive_bucket = archive.create_archive_bucket(ctx, key_arn)
            archive.create_catalog(ctx, archive_bucket)
        return {
            **dict.fromkeys(PIPELINE_OUTPUTS, ""),
            "reader_policy": _reader_policy(ctx, key_arn, serving_table, failure, archive_bucket),
            "table_name": serving_table.name,
            "failure_queue_url": failure.queue.url,
            "archive_bucket": archive_bucket.bucket if archive_bucket is not None else "",
            "key_arn": key_arn,
        }

    def _build_archive(self, ctx, firehose_role, key_arn, kinesis_stream) -> archive.Archive:
        bucket = archive.create_archive_bucket(ctx, key_arn)
        log_group = archive.create_archive_log_group(ctx, key_arn)
        glue_database_arn, glue_table_arn = archive.table_arns(ctx)
        firehose_arns = pulumi.Output.all(
            partition=ctx.partition,
            region=ctx.region,
            account_id=ctx.account_id,
            stream=kinesis_stream.arn,
            archive_bucket=bucket.arn,
            firehose_log_group=log_group.arn,
            glue_database=glue_database_arn,
            glue_table=glue_table_arn,
        ).apply(lambda values: policies.FirehoseArns(**values))
        firehose_policy = iam.attach_policy(
            ctx, "firehose", firehose_role, firehose_arns.apply(policies.firehose_policy)
        )
        return archive.create_archive(
            ctx,
            bucket=bucket,
            log_group=log_group,
            role=firehose_role,
            role_policy=firehose_policy,
            key_arn=key_arn,
            stream_arn=kinesis_stream.arn,
        )


def _key_policy_arns(
    ctx: PipelineContext, processor_role: aws.iam.Role, firehose_role: aws.iam.Role | None
) -> pulumi.Output[KeyPolicyArns]:
    """The key policy names resources that do not exist yet: their ARNs follow from their names."""
    tenant, names = ctx.tenant, ctx.names
    archive = tenant.archive.enabled
    return pulumi.Output.all(
        partition=ctx.partition,
        region=ctx.region,
        account_id=ctx.account_id,
        names=ctx.names_in_account(),
        processor_role=processor_role.arn,
        firehose_role=firehose_role.arn if firehose_role else None,
        stream=ctx.arn("kinesis", f"stream/{names.stream}"),
        function_log_group=ctx.arn("logs", f"log-group:{names.function_log_group}"),
        firehose_log_group=ctx.arn("logs", f"log-group:{names.firehose_log_group}") if archive else None,
    ).apply(
        lambda values: KeyPolicyArns(
            partition=values["partition"],
            region=values["region"],
            account_id=values["account_id"],
            processor_role=values["processor_role"],
            stream=values["stream"],
            table_name=names.table,
            function_log_group=values["function_log_group"],
            firehose_role=values["firehose_role"],
            firehose_log_group=values["firehose_log_group"],
            archive_bucket=_bucket_arn(values, values["names"].archive_bucket) if archive else None,
            failure_bucket=(
                _bucket_arn(values, values["names"].failure_bucket) if tenant.processing.on_failure == "s3" else None
            ),
            producer_roles=tuple(tenant.stream.producers),
            reader_roles=tuple(tenant.access.readers),
        )
    )


def _retained_key_arns(ctx: PipelineContext) -> pulumi.Output[keys.RetainedKeyArns]:
    tenant = ctx.tenant
    return pulumi.Output.all(
        partition=ctx.partition, region=ctx.region, account_id=ctx.account_id, names=ctx.names_in_account()
    ).apply(
        lambda values: keys.RetainedKeyArns(
            partition=values["partition"],
            region=values["region"],
            account_id=values["account_id"],
            table_name=ctx.names.table,
            archive_bucket=_bucket_arn(values, values["names"].archive_bucket) if tenant.archive.enabled else None,
            failure_bucket=(
                _bucket_arn(values, values["names"].failure_bucket) if tenant.processing.on_failure == "s3" else None
            ),
            reader_roles=tuple(tenant.access.readers),
        )
    )


def _bucket_arn(values: dict, bucket: str) -> str:
    return f"arn:{values['partition']}:s3:::{bucket}"


def _reader_policy(ctx: PipelineContext, key_arn, table, failure, archive_bucket) -> pulumi.Output[str]:
    """The IAM policy for the tenant's readers (JSON): the table, the archive and its catalog, failed records."""
    glue_database, glue_table = archive.table_arns(ctx) if archive_bucket is not None else (None, None)
    return (
        pulumi.Output.all(
            partition=ctx.partition,
            region=ctx.region,
            account_id=ctx.account_id,
            key=key_arn,
            table=table.arn,
            failure_queue=failure.queue.arn,
            archive_bucket=archive_bucket.arn if archive_bucket is not None else None,
            failure_bucket=failure.bucket.arn if failure.bucket is not None else None,
            glue_database=glue_database,
            glue_table=glue_table,
        )
        .apply(lambda values: policies.ReaderArns(**values))
        .apply(lambda arns: to_json(policies.reader_policy(arns)))
    )
