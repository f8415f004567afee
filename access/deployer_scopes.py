"""Where each action of the deployer may act on one stack: the `Scope`s of its policy, and which scopes each action
of each Pulumi resource type is granted in.

A scope is one policy statement's resources and conditions: ARN patterns of Tributary's own names on the stack,
taken from `components.naming.tenant_names` with `*` for the tenant, so a name is never restated here. An action
whose Service Authorization Reference entry lists no resource type gets `"*"`, with the condition AWS documents
for it where there is one (`ACTIONS_WITHOUT_RESOURCE_TYPES` says which).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from access.aws_rules import (
    DEPLOYER_KEY_USE,
    KMS_TAG_PERMISSIONS,
    SAR_CLOUDWATCH,
    SAR_DYNAMODB,
    SAR_FIREHOSE,
    SAR_GLUE,
    SAR_IAM,
    SAR_KINESIS,
    SAR_KMS,
    SAR_LAMBDA,
    SAR_LOGS,
    SAR_S3,
    SAR_SNS,
    SAR_SQS,
)
from components import defaults
from components.naming import tenant_names

KMS_ABAC = "https://docs.aws.amazon.com/kms/latest/developerguide/tag-authorization.html"
KMS_TAGS_ON_CREATE = "https://docs.aws.amazon.com/kms/latest/developerguide/manage-tags-api.html"
PASS_ROLE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html"
LAMBDA_CONDITIONS = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html"
LAMBDA_MAPPING_TAGS = "https://docs.aws.amazon.com/lambda/latest/dg/tags-esm.html"
LOGS_ARNS = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html"

KEY_TYPE = "aws:kms/key:Key"

ACTIONS_WITHOUT_RESOURCE_TYPES: dict[str, str] = {
    # Each has an empty "Resource types" cell on its service's Service Authorization Reference page, so IAM
    # matches it only against "*". Where the page lists a condition key that narrows it to Tributary's
    # resources, its scope uses it.
    "kms:CreateKey": SAR_KMS,  # no key exists yet; conditioned on aws:RequestTag
    "kms:ListAliases": SAR_KMS,
    "kinesis:DisableEnhancedMonitoring": SAR_KINESIS,
    "kinesis:EnableEnhancedMonitoring": SAR_KINESIS,
    "kinesis:UpdateShardCount": SAR_KINESIS,
    "kinesis:UpdateStreamMode": SAR_KINESIS,
    "lambda:CreateEventSourceMapping": SAR_LAMBDA,  # conditioned on lambda:FunctionArn
    "logs:DescribeLogGroups": SAR_LOGS,
    "sns:GetSubscriptionAttributes": SAR_SNS,
    "sns:SetSubscriptionAttributes": SAR_SNS,
    "sns:Unsubscribe": SAR_SNS,
}
"""IAM actions the deployer needs whose reference entry names no resource type: the only `"*"` resources."""


@dataclass(frozen=True)
class Scope:
    """Where a group of actions may act: one policy statement's resources and conditions, with its source."""

    sid: str
    resources: tuple[str, ...]
    source: str  # the page that gives the ARN format, or the condition, of this statement
    condition: Mapping[str, Mapping[str, str | list[str]]] = field(default_factory=dict)


# -- The scopes of one stack --------------------------------------------------------------------------------------


def _tag_condition(tag_key: str, stack: str) -> dict[str, str]:
    """The two tags every Tributary resource carries on this stack (components/context.py), under `tag_key`
    (aws:ResourceTag or aws:RequestTag)."""
    return {f"{tag_key}/managed-by": defaults.MANAGED_BY, f"{tag_key}/stack": stack}


def stack_scopes(stack: str, region: str, account: str, partition: str) -> dict[str, Scope]:
    """Every scope a deployer statement can have on `stack`, by name, in the order statements are written."""
    names = tenant_names("*", stack, account)

    def arn(service: str, resource: str, in_region: str = region) -> str:
        return f"arn:{partition}:{service}:{in_region}:{account}:{resource}"

    any_key = arn("kms", "key/*")
    stream = arn("kinesis", f"stream/{names.stream}")
    consumer = f"{stream}/consumer/{names.consumer}:*"  # consumer ARNs end with :<creation timestamp>
    function = arn("lambda", f"function:{names.function}")
    mappings = arn("lambda", "event-source-mapping:*")  # mapping ARNs carry a UUID, never a name
    database = names.glue_database
    log_groups = (names.function_log_group, names.firehose_log_group)
    buckets = tuple(f"arn:{partition}:s3:::{bucket}" for bucket in (names.archive_bucket, names.failure_bucket))
    role = {
        part: f"arn:{partition}:iam::{account}:role/{name}"
        for part, name in (("processor", names.processor_role), ("firehose", names.firehose_role))
    }
    on_tributary_keys = {"StringEquals": _tag_condition("aws:ResourceTag", stack)}
    tagged_on_create = {"StringEquals": _tag_condition("aws:RequestTag", stack)}
    by_function = {"ArnLike": {"lambda:FunctionArn": function}}
    scopes = [
        # Keys are created with a UUID for a name: they are told apart by the tags the program gives them
        # (KMS supports aws:ResourceTag on the key resource type: SAR_KMS, KMS_ABAC).
        Scope("KmsAdministerTributaryKeys", (any_key,), KMS_ABAC, on_tributary_keys),
        Scope("KmsCreateTaggedKey", ("*",), SAR_KMS, tagged_on_create),
        # Tags given to CreateKey need kms:TagResource "in an IAM policy that isn't restricted to particular KMS
        # keys" (KMS_TAG_PERMISSIONS), "at a minimum ... all KMS keys in the account and Region"
        # (KMS_TAGS_ON_CREATE): so every key of the account, but only with this stack's tags in the request.
        # Whoever can tag a key that delegates to IAM this way brings it into KmsAdministerTributaryKeys' scope:
        # that is the price of tagging on create.
        Scope("KmsTagKeysOnCreate", (any_key,), KMS_TAG_PERMISSIONS, tagged_on_create),
        Scope("KmsAliases", (arn("kms", names.key_alias),), SAR_KMS),
        Scope("KinesisStreams", (stream,), SAR_KINESIS),
        Scope("KinesisConsumers", (consumer,), SAR_KINESIS),
        Scope("KinesisTagStreamsAndConsumers", (stream, consumer), SAR_KINESIS),
        # StartStreamEncryption/StopStreamEncryption require the kmsKey resource type as well as the stream;
        # Kinesis lists no condition key for it, so any key of the account: the key policy guards its use.
        Scope("KinesisStreamEncryption", (stream, any_key), SAR_KINESIS),
        Scope("FirehoseDeliveryStreams", (arn("firehose", f"deliverystream/{names.delivery_stream}"),), SAR_FIREHOSE),
        Scope("LambdaFunctions", (function,), SAR_LAMBDA),
        # Mapping actions take lambda:FunctionArn (SAR_LAMBDA, LAMBDA_CONDITIONS): only mappings of our functions.
        Scope("LambdaCreateMappings", ("*",), LAMBDA_CONDITIONS, by_function),
        Scope("LambdaMappings", (mappings,), LAMBDA_CONDITIONS, by_function),
        # The tag actions take no lambda:FunctionArn, and tagging on create needs lambda:TagResource
        # (LAMBDA_MAPPING_TAGS) before the mapping has tags to condition on: every mapping of the account.
        Scope("LambdaTagMappings", (mappings,), LAMBDA_MAPPING_TAGS),
        Scope("DynamoDbTables", (arn("dynamodb", f"table/{names.table}"),), SAR_DYNAMODB),
        Scope("SqsQueues", (arn("sqs", names.failure_queue),), SAR_SQS),
        Scope("SnsTopics", (arn("sns", names.topic),), SAR_SNS),
        # Both log group ARN forms are used: without ":*" for the tag actions, with it for the others (LOGS_ARNS);
        # the ":*" form also covers the group's log streams (SAR_LOGS: log-group:<name>:log-stream:<stream>).
        Scope(
            "LogsLogGroups",
            tuple(arn("logs", f"log-group:{group}{suffix}") for group in log_groups for suffix in ("", ":*")),
            LOGS_ARNS,
        ),
        Scope("CloudWatchAlarms", (arn("cloudwatch", f"alarm:{names.alarm_prefix}*"),), SAR_CLOUDWATCH),
        # Dashboards are global: their ARN has no Region (SAR_CLOUDWATCH).
        Scope("CloudWatchDashboards", (arn("cloudwatch", f"dashboard/{names.dashboard}", ""),), SAR_CLOUDWATCH),
        Scope("S3Buckets", buckets, SAR_S3),
        # force_destroy empties a bucket before deleting it: object ARNs.
        Scope("S3Objects", tuple(f"{bucket}/*" for bucket in buckets), SAR_S3),
        # Table actions require the root catalog, the database and the table; DeleteDatabase also its tables and
        # functions (SAR_GLUE). Every table and function inside Tributary's databases is Tributary's.
        Scope(
            "GlueCatalog",
            (
                arn("glue", "catalog"),
                arn("glue", f"database/{database}"),
                arn("glue", f"table/{database}/*"),
                arn("glue", f"userDefinedFunction/{database}/*"),
            ),
            SAR_GLUE,
        ),
        Scope("IamRoles", tuple(role.values()), SAR_IAM),
        # Each role only to the service that assumes it (iam:PassedToService: SAR_IAM, PASS_ROLE).
        Scope(
            "IamPassProcessorRole",
            (role["processor"],),
            PASS_ROLE,
            {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        ),
        Scope(
            "IamPassFirehoseRole",
            (role["firehose"],),
            PASS_ROLE,
            {"StringEquals": {"iam:PassedToService": "firehose.amazonaws.com"}},
        ),
    ]
    scopes += _key_use_scopes(stack, region, any_key)
    scopes += [
        Scope(f"{service.capitalize()}ActionsWithoutResourceTypes", ("*",), source)
        for service, source in sorted({(a.split(":")[0], s) for a, s in ACTIONS_WITHOUT_RESOURCE_TYPES.items()})
    ]
    return {scope.sid: scope for scope in scopes}


def _key_use_scopes(stack: str, region: str, any_key: str) -> list[Scope]:
    """Key use through a service (DEPLOYER_KEY_USE with via_service), on Tributary's keys of this stack only.

    kms:GrantIsForAWSResource is in the context of grant requests only (SAR_KMS: CreateGrant, ListGrants,
    RevokeGrant), so CreateGrant gets its own statement and the other uses are not conditioned on it."""
    scopes = []
    for service in sorted({use.via_service for uses in DEPLOYER_KEY_USE.values() for use in uses if use.via_service}):
        via = {"kms:ViaService": f"{service}.{region}.amazonaws.com"}
        tags = _tag_condition("aws:ResourceTag", stack)
        # A stack-wide policy ("*" Region) matches the service in any Region.
        condition = {"StringEquals": tags, "StringLike": via} if region == "*" else {"StringEquals": {**tags, **via}}
        scopes.append(Scope(via_sid("kms:Decrypt", service), (any_key,), SAR_KMS, condition))
        grant = {**condition, "Bool": {"kms:GrantIsForAWSResource": "true"}}
        scopes.append(Scope(via_sid("kms:CreateGrant", service), (any_key,), SAR_KMS, grant))
    return scopes


def via_sid(action: str, service: str) -> str:
    kind = "Grant" if action == "kms:CreateGrant" else "Use"
    return f"Kms{kind}TributaryKeysVia{service.capitalize()}"


# -- Which scopes each action gets ----------------------------------------------------------------------------------

TYPE_SCOPES: dict[str, tuple[str, ...]] = {
    KEY_TYPE: ("KmsAdministerTributaryKeys",),
    # Alias actions are authorized on the alias and on its key (SAR_KMS: alias* and key*).
    "aws:kms/alias:Alias": ("KmsAliases", "KmsAdministerTributaryKeys"),
    "aws:kinesis/stream:Stream": ("KinesisStreams",),
    "aws:kinesis/streamConsumer:StreamConsumer": ("KinesisConsumers",),
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": ("FirehoseDeliveryStreams",),
    "aws:lambda/function:Function": ("LambdaFunctions",),
    "aws:lambda/eventSourceMapping:EventSourceMapping": ("LambdaMappings",),
    "aws:dynamodb/table:Table": ("DynamoDbTables",),
    "aws:sqs/queue:Queue": ("SqsQueues",),
    "aws:sqs/queuePolicy:QueuePolicy": ("SqsQueues",),
    "aws:sns/topic:Topic": ("SnsTopics",),
    "aws:sns/topicPolicy:TopicPolicy": ("SnsTopics",),
    "aws:sns/topicSubscription:TopicSubscription": ("SnsTopics",),
    "aws:cloudwatch/logGroup:LogGroup": ("LogsLogGroups",),
    "aws:cloudwatch/logStream:LogStream": ("LogsLogGroups",),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("CloudWatchAlarms",),
    "aws:cloudwatch/dashboard:Dashboard": ("CloudWatchDashboards",),
    "aws:s3/bucket:Bucket": ("S3Buckets",),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("S3Buckets",),
    "aws:s3/bucketPolicy:BucketPolicy": ("S3Buckets",),
    "aws:s3/bucketVersioning:BucketVersioning": ("S3Buckets",),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ("S3Buckets",),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": ("S3Buckets",),
    "aws:glue/catalogDatabase:CatalogDatabase": ("GlueCatalog",),
    "aws:glue/catalogTable:CatalogTable": ("GlueCatalog",),
    "aws:iam/role:Role": ("IamRoles",),
    "aws:iam/rolePolicy:RolePolicy": ("IamRoles",),
}
"""The scope of every action a resource type needs, unless ACTION_SCOPES says otherwise."""

ACTION_SCOPES: dict[tuple[str, str], tuple[str, ...]] = {
    (KEY_TYPE, "kms:CreateKey"): ("KmsCreateTaggedKey",),
    (KEY_TYPE, "kms:TagResource"): ("KmsAdministerTributaryKeys", "KmsTagKeysOnCreate"),
    ("aws:kinesis/stream:Stream", "kinesis:StartStreamEncryption"): ("KinesisStreamEncryption",),
    ("aws:kinesis/stream:Stream", "kinesis:StopStreamEncryption"): ("KinesisStreamEncryption",),
    # Registering a consumer acts on its stream; the generic tag actions on streams and consumers (SAR_KINESIS).
    ("aws:kinesis/streamConsumer:StreamConsumer", "kinesis:RegisterStreamConsumer"): ("KinesisStreams",),
    ("aws:kinesis/streamConsumer:StreamConsumer", "kinesis:ListTagsForResource"): ("KinesisTagStreamsAndConsumers",),
    ("aws:kinesis/streamConsumer:StreamConsumer", "kinesis:TagResource"): ("KinesisTagStreamsAndConsumers",),
    ("aws:kinesis/streamConsumer:StreamConsumer", "kinesis:UntagResource"): ("KinesisTagStreamsAndConsumers",),
    ("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "iam:PassRole"): ("IamPassFirehoseRole",),
    ("aws:lambda/function:Function", "iam:PassRole"): ("IamPassProcessorRole",),
    ("aws:lambda/eventSourceMapping:EventSourceMapping", "lambda:CreateEventSourceMapping"): ("LambdaCreateMappings",),
    ("aws:lambda/eventSourceMapping:EventSourceMapping", "lambda:ListTags"): ("LambdaTagMappings",),
    ("aws:lambda/eventSourceMapping:EventSourceMapping", "lambda:TagResource"): ("LambdaTagMappings",),
    ("aws:lambda/eventSourceMapping:EventSourceMapping", "lambda:UntagResource"): ("LambdaTagMappings",),
    ("aws:s3/bucket:Bucket", "s3:DeleteObject"): ("S3Objects",),
    ("aws:s3/bucket:Bucket", "s3:DeleteObjectVersion"): ("S3Objects",),
}
"""Actions of a type that act on another resource than the type's own, or take a condition of their own."""


def scopes_of(resource_type: str, action: str, via_service: str | None = None) -> tuple[str, ...]:
    """The names of the scopes one needed action is granted in. A key use through a service is granted on the
    stack's keys for that service only."""
    if via_service:
        return (via_sid(action, via_service),)
    if (resource_type, action) in ACTION_SCOPES:
        return ACTION_SCOPES[(resource_type, action)]
    if action in ACTIONS_WITHOUT_RESOURCE_TYPES:
        return (f"{action.split(':')[0].capitalize()}ActionsWithoutResourceTypes",)
    return TYPE_SCOPES[resource_type]
