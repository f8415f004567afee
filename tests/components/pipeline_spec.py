"""What every tenant's pipeline must be, as checks over one offline evaluation of the program.

`evaluate_recorded` runs the program through `components.offline.evaluate` (fresh event loop, fresh
mocks) and also records what the mock engine receives but the mocks do not see: each resource's parent
and its `retain_on_delete` option. Resources are assigned to tenants by their parent chain up to the
`TenantPipeline` component, not by their names.

Each `check_<part>(pipeline)` asserts one part of the design for one tenant and names the tenant and
the resource in every message. The example tenants and the generated ones run the same checks.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import pulumi_aws as aws
from pulumi.runtime.mocks import MockMonitor

from components import defaults, glue_schema, handler_env, naming
from components.config import TenantFile, load_tenant, tenant_files
from components.offline import ACCOUNT_ID, Evaluation, RegisteredResource, evaluate
from components.stack import StackSettings
from runtime import settings as handler_settings

COMPONENT = "tributary:index:TenantPipeline"
KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
STREAM = "aws:kinesis/stream:Stream"
CONSUMER = "aws:kinesis/streamConsumer:StreamConsumer"
FUNCTION = "aws:lambda/function:Function"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LOG_STREAM = "aws:cloudwatch/logStream:LogStream"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
TABLE = "aws:dynamodb/table:Table"
BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
GLUE_DATABASE = "aws:glue/catalogDatabase:CatalogDatabase"
GLUE_TABLE = "aws:glue/catalogTable:CatalogTable"
FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ESM_METRICS = {"OnFailureDestinationDeliveredEventCount", "DroppedEventCount"}
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY_TYPES = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
    "aws:iam/policy:Policy",
    "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive",
)
PHYSICAL_NAME_INPUTS = ("name", "bucket", "dashboardName", "functionName")
# Names that live inside one of the tenant's own resources, so they need not repeat the tenant's name:
# a log stream inside its log group, a Glue table inside its database, an inline policy inside its role.
SCOPED_NAMES = {LOG_STREAM: "logGroupName", GLUE_TABLE: "databaseName", ROLE_POLICY: "role"}
GLUE_TYPES = (GLUE_DATABASE, GLUE_TABLE)
DATA_HOLDING = (KEY, TABLE, BUCKET)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_TENANTS = sorted(path.stem for path in (PROJECT_ROOT / "tenants").glob("*.yaml"))
DEV = StackSettings()  # Pulumi.dev.yaml: us-east-1, every tenant, no extra notify addresses


# ---------------------------------------------------------------------------------------------------------
# Evaluating with the engine's view of parents and options


@dataclass(frozen=True)
class Registration:
    urn: str
    type: str
    name: str
    parent: str
    retain_on_delete: bool


@dataclass
class Recorded:
    """One evaluation and, per resource, what the engine was asked to do with it."""

    evaluation: Evaluation
    registrations: dict[str, Registration]  # by URN

    def registration(self, resource: RegisteredResource) -> Registration:
        matches = [r for r in self.registrations.values() if (r.type, r.name) == (resource.type, resource.name)]
        assert len(matches) == 1, f"{resource.type} {resource.name}: registered {len(matches)} times"
        return matches[0]

    def owner(self, resource: RegisteredResource) -> str | None:
        """The tenant whose TenantPipeline component is this resource's ancestor (or itself)."""
        current: Registration | None = self.registration(resource)
        while current is not None:
            if current.type == COMPONENT:
                return current.name
            current = self.registrations.get(current.parent)
        return None


@contextmanager
def recording_registrations() -> Iterator[dict[str, Registration]]:
    registrations: dict[str, Registration] = {}
    original = MockMonitor.RegisterResource

    def register(monitor: MockMonitor, request: Any) -> Any:
        response = original(monitor, request)
        registrations[response.urn] = Registration(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            retain_on_delete=bool(request.retainOnDelete),
        )
        return response

    with mock.patch.object(MockMonitor, "RegisterResource", register):
        yield registrations


def evaluate_recorded(project_dir: Path, stack: str, settings: StackSettings) -> Recorded:
    with recording_registrations() as registrations:
        evaluation = evaluate(project_dir, stack, settings)
    return Recorded(evaluation, dict(registrations))


# ---------------------------------------------------------------------------------------------------------
# One tenant's pipeline


@dataclass
class Pipeline:
    tenant: TenantFile
    stack: str
    settings: StackSettings
    resources: list[RegisteredResource]
    retained: dict[tuple[str, str], bool] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.tenant.tenant

    @property
    def region(self) -> str:
        account = self.tenant.account
        return (account.region if account and account.region else None) or self.settings.region

    @property
    def account_id(self) -> str:
        return self.tenant.account.role_arn.split(":")[4] if self.tenant.account else ACCOUNT_ID

    @property
    def names(self) -> naming.TenantNames:
        return naming.tenant_names(self.name, self.stack, self.account_id)

    def all(self, type_: str) -> list[RegisteredResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, **inputs: Any) -> RegisteredResource:
        found = [r for r in self.all(type_) if all(r.inputs.get(k) == v for k, v in inputs.items())]
        assert len(found) == 1, f"tenant {self.name}: expected one {type_} with {inputs}, found {len(found)}"
        return found[0]

    def arns(self) -> set[str]:
        """Every ARN of this tenant's resources."""
        return {r.state["arn"] for r in self.resources if isinstance(r.state.get("arn"), str)}

    def where(self, resource: RegisteredResource) -> str:
        return f"tenant {self.name}, {resource.type} {resource.name}"

    @property
    def key_arn(self) -> str:
        return self.one(KEY).state["arn"]


def pipelines(recorded: Recorded, project_dir: Path, settings: StackSettings) -> dict[str, Pipeline]:
    """Every tenant the evaluation built, with the resources its component owns."""
    stack = recorded.evaluation.stack
    paths = tenant_files(project_dir / settings.tenants_dir)
    files = {tenant.tenant: tenant for tenant in (load_tenant(path, stack) for path in paths)}
    owned: dict[str, list[RegisteredResource]] = {}
    for resource in recorded.evaluation.resources:
        owner = recorded.owner(resource)
        assert owner is not None, f"{resource.type} {resource.name} is not inside any TenantPipeline"
        owned.setdefault(owner, []).append(resource)
    return {
        name: Pipeline(
            tenant=files[name],
            stack=stack,
            settings=settings,
            resources=resources,
            retained={(r.type, r.name): recorded.registration(r).retain_on_delete for r in resources},
        )
        for name, resources in owned.items()
    }


# ---------------------------------------------------------------------------------------------------------
# Policy documents


def statements(policy: str | dict) -> list[dict]:
    document = json.loads(policy) if isinstance(policy, str) else policy
    found = document["Statement"]
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def arn_strings(value: Any) -> Iterator[str]:
    """Every ARN anywhere in a policy document."""
    if isinstance(value, str):
        if value.startswith("arn:"):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from arn_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from arn_strings(item)


def base_arn(arn: str) -> str:
    """The resource ARN a statement's `ARN/*` (objects) or `ARN:*` (log streams) extends."""
    return re.sub(r"(/\*|:\*)$", "", arn)


def assert_tls_only(where: str, policy: str, resource_arns: list[str]) -> None:
    denies = [
        s
        for s in statements(policy)
        if s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    ]
    assert denies, f"{where}: no statement denies requests without TLS"
    covered = {arn for s in denies for arn in as_list(s["Resource"])}
    assert set(resource_arns) <= covered, f"{where}: TLS-only deny covers {covered}, not {resource_arns}"


# ---------------------------------------------------------------------------------------------------------
# The checks, one per part of the design


@functools.cache
def accepts_tags(type_token: str) -> bool:
    """Whether the pulumi-aws resource type takes a `tags` argument (read from its Args class)."""
    if not type_token.startswith("aws:"):
        return False
    module, name = type_token.split(":")[1].split("/")[0], type_token.split(":")[2]
    args = getattr(getattr(aws, {"lambda": "lambda_"}.get(module, module)), f"{name}Args", None)
    return args is not None and "tags" in inspect.signature(args.__init__).parameters


def check_component_names_and_tags(p: Pipeline) -> None:
    components = p.all(COMPONENT)
    assert [c.name for c in components] == [p.name], f"tenant {p.name}: components {components}"
    glue_form = p.name.replace("-", "_")
    for resource in p.resources:
        scope = SCOPED_NAMES.get(resource.type)
        for key in PHYSICAL_NAME_INPUTS:
            value = resource.inputs.get(key)
            if not isinstance(value, str):
                continue
            if scope is not None and key == "name":
                value = resource.inputs[scope]
            expected = glue_form if resource.type in GLUE_TYPES else p.name
            assert expected in value, f"{p.where(resource)}: {key} {value!r} does not name the tenant"
        if accepts_tags(resource.type):
            assert "tags" in resource.inputs, f"{p.where(resource)}: takes tags but has none"
            tags = resource.inputs["tags"]
            wanted = {**p.tenant.tags, "tenant": p.name, "stack": p.stack, "managed-by": "tributary"}
            missing = {k: v for k, v in wanted.items() if tags.get(k) != v}
            assert not missing, f"{p.where(resource)}: tags lack {missing} (got {tags})"


def check_key(p: Pipeline) -> None:
    key = p.one(KEY)
    where = p.where(key)
    assert key.inputs["enableKeyRotation"] is True, f"{where}: rotation off"
    assert key.inputs["deletionWindowInDays"] == defaults.KMS_DELETION_WINDOW_DAYS, f"{where}: deletion window"
    alias = p.one(ALIAS)
    assert alias.inputs["name"] == p.names.key_alias, f"{p.where(alias)}: {alias.inputs['name']}"
    assert alias.inputs["targetKeyId"] == key.state["keyId"], f"{p.where(alias)}: targets another key"
    found = statements(key.inputs["policy"])
    allows = [s for s in found if s["Effect"] == "Allow"]
    for statement in allows:
        principals = [v for value in as_list(statement["Principal"]) for v in _principal_values(value)]
        assert "*" not in principals, f"{where}: statement {statement.get('Sid')} allows any principal"
    roles = {arn for s in allows for arn in _principal_values(s["Principal"], "AWS") if ":role/" in arn}
    expected_roles = {
        p.one(ROLE, name=p.names.processor_role).state["arn"],
        *p.tenant.stream.producers,
        *p.tenant.access.readers,
    }
    if p.tenant.archive.enabled:
        expected_roles.add(p.one(ROLE, name=p.names.firehose_role).state["arn"])
    assert roles == expected_roles, f"{where}: roles {sorted(roles)} != {sorted(expected_roles)}"
    services = {v for s in allows for v in _principal_values(s["Principal"], "Service")}
    assert f"logs.{p.region}.amazonaws.com" in services, f"{where}: no statement for CloudWatch Logs"
    log_groups = {g.state["arn"] for g in p.all(LOG_GROUP)}
    logs = [s for s in allows if f"logs.{p.region}.amazonaws.com" in _principal_values(s["Principal"], "Service")]
    context = {arn for s in logs for arn in arn_strings(s.get("Condition", {}))}
    assert context == log_groups, f"{where}: logs may use the key for {context}, not {log_groups}"
    root = f"arn:aws:iam::{p.account_id}:root"
    for arn in arn_strings(found):
        named = p.arns() | {root} | set(p.tenant.stream.producers) | set(p.tenant.access.readers)
        # S3 objects' encryption context: a bucket's objects (`<bucket arn>/*`) are the tenant's own.
        assert arn.removesuffix("/*") in named, f"{where}: names {arn}"


def _principal_values(principal: Any, kind: str | None = None) -> list[str]:
    if isinstance(principal, str):
        return [principal] if kind is None else []
    return [v for k, value in principal.items() if kind in (None, k) for v in as_list(value)]


def check_stream(p: Pipeline) -> None:
    stream = p.one(STREAM)
    where = p.where(stream)
    settings = p.tenant.stream
    inputs = stream.inputs
    assert inputs["name"] == p.names.stream, f"{where}: name {inputs['name']}"
    assert inputs["streamModeDetails"] == {"streamMode": settings.mode.upper()}, f"{where}: mode"
    assert inputs.get("shardCount") == settings.shards, f"{where}: shards {inputs.get('shardCount')}"
    assert inputs["retentionPeriod"] == settings.retention_hours, f"{where}: retention"
    assert inputs["encryptionType"] == "KMS", f"{where}: encryption {inputs['encryptionType']}"
    assert inputs["kmsKeyId"] == p.key_arn, f"{where}: encrypted with {inputs['kmsKeyId']}"
    consumers = p.all(CONSUMER)
    mapping = p.one(MAPPING)
    if settings.enhanced_fan_out:
        assert len(consumers) == 1, f"{where}: enhanced fan-out without exactly one consumer"
        assert consumers[0].inputs["streamArn"] == stream.state["arn"], f"{p.where(consumers[0])}: stream"
        source = consumers[0].state["arn"]
    else:
        assert not consumers, f"{where}: a consumer without enhanced_fan_out"
        source = stream.state["arn"]
    assert mapping.inputs["eventSourceArn"] == source, f"{p.where(mapping)}: reads {mapping.inputs['eventSourceArn']}"


def expected_layer_arn(p: Pipeline) -> str:
    if p.settings.powertools_layer_arn:
        return p.settings.powertools_layer_arn
    return (
        f"arn:aws:lambda:{p.region}:{defaults.POWERTOOLS_LAYER_ACCOUNT}:layer:"
        f"{defaults.POWERTOOLS_LAYER_NAME}:{p.settings.powertools_layer_version}"
    )


def check_function(p: Pipeline) -> None:
    function = p.one(FUNCTION)
    where = p.where(function)
    processing = p.tenant.processing
    inputs = function.inputs
    expected = {
        "name": p.names.function,
        "runtime": "python3.14",
        "architectures": ["arm64"],
        "handler": "runtime.handler.handler",
        "layers": [expected_layer_arn(p)],
        "tracingConfig": {"mode": "Active"},
        "kmsKeyArn": p.key_arn,
        "role": p.one(ROLE, name=p.names.processor_role).state["arn"],
        "memorySize": processing.memory_mb,
        "timeout": processing.timeout_seconds,
        "reservedConcurrentExecutions": processing.reserved_concurrency,
    }
    for key, value in expected.items():
        assert inputs.get(key) == value, f"{where}: {key} is {inputs.get(key)!r}, expected {value!r}"
    log_group = p.one(LOG_GROUP, name=p.names.function_log_group)
    assert inputs["loggingConfig"] == {"logFormat": "JSON", "logGroup": log_group.inputs["name"]}, where
    assert log_group.inputs["retentionInDays"] == defaults.LOG_RETENTION_DAYS, p.where(log_group)
    assert log_group.inputs["kmsKeyId"] == p.key_arn, f"{p.where(log_group)}: not encrypted with the key"
    check_function_environment(p, function)


def check_function_environment(p: Pipeline, function: RegisteredResource) -> None:
    where = p.where(function)
    variables = function.inputs["environment"]["variables"]
    table = p.one(TABLE).inputs["name"]
    queue = p.one(QUEUE, name=p.names.failure_queue)
    records = p.tenant.records
    assert variables[handler_settings.TABLE_NAME] == table, f"{where}: table {variables}"
    assert variables[handler_settings.FAILURE_QUEUE_URL] == queue.state["url"], f"{where}: queue URL"
    assert variables[handler_settings.WRITE_MODE] == records.write, f"{where}: write mode"
    assert variables[handler_settings.PARTITION_KEY] == records.partition_key, f"{where}: partition key"
    assert variables.get(handler_settings.SORT_KEY) == records.sort_key, f"{where}: sort key"
    assert json.loads(variables[handler_settings.SCHEMA]) == records.schema_, f"{where}: schema differs"
    assert variables == handler_env.handler_environment(p.tenant, table, queue.state["url"]), where
    unknown = {k for k in variables if k not in handler_settings.ALL and not k.startswith("POWERTOOLS_")}
    assert not unknown, f"{where}: variables the handler does not read: {unknown}"


def check_mapping(p: Pipeline) -> None:
    mapping = p.one(MAPPING)
    where = p.where(mapping)
    processing = p.tenant.processing
    inputs = mapping.inputs
    if processing.on_failure == "s3":
        destination = p.one(BUCKET, bucket=p.names.failure_bucket).state["arn"]
    else:
        destination = p.one(QUEUE, name=p.names.failure_queue).state["arn"]
    expected = {
        "functionName": p.one(FUNCTION).state["arn"],
        "batchSize": processing.batch_size,
        "maximumBatchingWindowInSeconds": processing.batch_window_seconds,
        "parallelizationFactor": processing.parallelization_factor,
        "startingPosition": processing.starting_position,
        "bisectBatchOnFunctionError": True,
        "maximumRetryAttempts": processing.max_retries,
        "maximumRecordAgeInSeconds": processing.max_record_age_seconds,
        "functionResponseTypes": ["ReportBatchItemFailures"],
        "destinationConfig": {"onFailure": {"destinationArn": destination}},
    }
    for key, value in expected.items():
        assert inputs.get(key) == value, f"{where}: {key} is {inputs.get(key)!r}, expected {value!r}"
    assert 0 <= inputs["maximumRetryAttempts"] <= 10000, f"{where}: retries are not finite"
    assert inputs.get("metricsConfig", {}).get("metrics"), f"{where}: no metricsConfig"


def check_failure_destinations(p: Pipeline) -> None:
    queue = p.one(QUEUE, name=p.names.failure_queue)
    where = p.where(queue)
    assert queue.inputs["kmsMasterKeyId"] == p.key_arn, f"{where}: not encrypted with the key"
    assert queue.inputs["messageRetentionSeconds"] == 1209600, f"{where}: retention"
    policy = p.one(QUEUE_POLICY, queueUrl=queue.state["url"])
    assert_tls_only(p.where(policy), policy.inputs["policy"], [queue.state["arn"]])
    failure_buckets = [b for b in p.all(BUCKET) if b.inputs["bucket"] == p.names.failure_bucket]
    assert len(failure_buckets) == (p.tenant.processing.on_failure == "s3"), f"tenant {p.name}: failure bucket"
    for bucket in failure_buckets:
        check_secure_bucket(p, bucket, expire_days=None)


def check_table(p: Pipeline) -> None:
    table = p.one(TABLE)
    where = p.where(table)
    records, settings = p.tenant.records, p.tenant.table
    inputs = table.inputs
    assert inputs["name"] == p.names.table, where
    assert inputs["billingMode"] == "PAY_PER_REQUEST", f"{where}: billing {inputs['billingMode']}"
    assert (inputs["hashKey"], inputs.get("rangeKey")) == ("pk", "sk"), f"{where}: keys"
    assert sorted(inputs["attributes"], key=lambda a: a["name"]) == [
        {"name": "pk", "type": "S"},
        {"name": "sk", "type": "S"},
    ], f"{where}: attributes {inputs['attributes']}"
    assert inputs["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": p.key_arn}, f"{where}: SSE"
    assert inputs["pointInTimeRecovery"] == {"enabled": settings.point_in_time_recovery}, f"{where}: PITR"
    assert inputs["deletionProtectionEnabled"] is settings.deletion_protection, f"{where}: deletion protection"
    wants_ttl = records.ttl_days is not None or records.write == "counters"
    ttl = inputs.get("ttl")
    if wants_ttl:
        assert ttl == {"attributeName": "expires_at", "enabled": True}, f"{where}: TTL {ttl}"
    else:
        assert not ttl or not ttl.get("enabled"), f"{where}: TTL on without ttl_days or counters"


def _children(p: Pipeline, type_: str, bucket: RegisteredResource) -> RegisteredResource:
    return p.one(type_, bucket=bucket.inputs["bucket"])


def check_secure_bucket(p: Pipeline, bucket: RegisteredResource, expire_days: int | None) -> None:
    where = p.where(bucket)
    arn = bucket.state["arn"]
    block = _children(p, PUBLIC_ACCESS, bucket).inputs
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    assert all(block.get(flag) is True for flag in flags), f"{where}: public access block {block}"
    assert_tls_only(where, _children(p, BUCKET_POLICY, bucket).inputs["policy"], [arn, f"{arn}/*"])
    versioning = _children(p, VERSIONING, bucket).inputs["versioningConfiguration"]
    assert versioning["status"] == "Enabled", f"{where}: versioning {versioning}"
    [rule] = _children(p, ENCRYPTION, bucket).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": p.key_arn}
    assert rule["bucketKeyEnabled"] is True, f"{where}: no bucket key"
    rules = _children(p, LIFECYCLE, bucket).inputs["rules"]
    enabled = [r for r in rules if r["status"] == "Enabled"]
    assert any("abortIncompleteMultipartUpload" in r for r in enabled), f"{where}: incomplete uploads kept"
    assert any(
        r.get("filter", {}).get("prefix") == "errors/" and r.get("expiration", {}).get("days") for r in enabled
    ), f"{where}: errors/ never expires"
    assert any("noncurrentVersionExpiration" in r for r in enabled), f"{where}: old versions kept forever"
    expiring = [r["expiration"]["days"] for r in enabled if "expiration" in r and not r.get("filter")]
    assert expiring == ([expire_days] if expire_days else []), f"{where}: object expiry {expiring}"
    assert bucket.inputs["forceDestroy"] is (not p.tenant.retain_on_delete), f"{where}: forceDestroy"


def check_archive(p: Pipeline) -> None:
    settings = p.tenant.archive
    archive_types = (GLUE_DATABASE, GLUE_TABLE, FIREHOSE)
    archive_buckets = [b for b in p.all(BUCKET) if b.inputs["bucket"] == p.names.archive_bucket]
    if not settings.enabled:
        present = [r.name for r in p.resources if r.type in archive_types] + [b.name for b in archive_buckets]
        present += [g.name for g in p.all(LOG_GROUP) if g.inputs["name"] == p.names.firehose_log_group]
        assert not present, f"tenant {p.name}: archive disabled but has {present}"
        return
    [bucket] = archive_buckets
    check_secure_bucket(p, bucket, settings.expire_days)
    database = p.one(GLUE_DATABASE)
    glue_table = p.one(GLUE_TABLE, databaseName=database.inputs["name"])
    columns = glue_table.inputs["storageDescriptor"]["columns"]
    assert columns == glue_schema.glue_columns(p.tenant.records.schema_), f"{p.where(glue_table)}: columns"
    delivery = p.one(FIREHOSE)
    where = p.where(delivery)
    role_arn = p.one(ROLE, name=p.names.firehose_role).state["arn"]
    source = delivery.inputs["kinesisSourceConfiguration"]
    assert source == {"kinesisStreamArn": p.one(STREAM).state["arn"], "roleArn": role_arn}, f"{where}: {source}"
    s3 = delivery.inputs["extendedS3Configuration"]
    assert s3["bucketArn"] == bucket.state["arn"], f"{where}: writes {s3['bucketArn']}"
    assert s3["kmsKeyArn"] == p.key_arn, f"{where}: objects not encrypted with the key"
    assert (s3["bufferingSize"], s3["bufferingInterval"]) == (settings.buffer_mb, settings.buffer_seconds), where
    assert all(f"{part}=" in s3["prefix"] for part in ("year", "month", "day", "hour")), f"{where}: prefix"
    assert s3.get("errorOutputPrefix") and s3["errorOutputPrefix"] != s3["prefix"], f"{where}: error prefix"
    log_group = p.one(LOG_GROUP, name=p.names.firehose_log_group)
    logging = s3["cloudwatchLoggingOptions"]
    assert logging["enabled"] is True and logging["logGroupName"] == log_group.inputs["name"], where
    p.one(LOG_STREAM, logGroupName=log_group.inputs["name"], name=logging["logStreamName"])
    assert log_group.inputs["kmsKeyId"] == p.key_arn, f"{p.where(log_group)}: not encrypted with the key"
    assert log_group.inputs["retentionInDays"] == defaults.LOG_RETENTION_DAYS, p.where(log_group)
    conversion = s3.get("dataFormatConversionConfiguration")
    if settings.format == "parquet":
        assert conversion and conversion["enabled"] is True, f"{where}: no Parquet conversion"
        serializer = conversion["outputFormatConfiguration"]["serializer"]
        assert serializer == {"parquetSerDe": {"compression": "SNAPPY"}}, f"{where}: {serializer}"
        schema = conversion["schemaConfiguration"]
        assert (schema["databaseName"], schema["tableName"]) == (database.inputs["name"], glue_table.inputs["name"])
        assert schema["roleArn"] == role_arn, f"{where}: converts with {schema['roleArn']}"
        assert glue_table.inputs["parameters"]["classification"] == "parquet", p.where(glue_table)
    else:
        assert not conversion or conversion.get("enabled") is False, f"{where}: converts a json archive"


def _alarm_metrics(alarm: RegisteredResource) -> list[dict]:
    inputs = alarm.inputs
    if inputs.get("metricQueries"):
        return [q["metric"] for q in inputs["metricQueries"] if q.get("metric")]
    return [{k: inputs.get(k) for k in ("namespace", "metricName", "dimensions")}]


def check_alarms(p: Pipeline) -> None:
    topic = p.one(TOPIC)
    assert topic.inputs["kmsMasterKeyId"] == p.key_arn, f"{p.where(topic)}: not encrypted with the key"
    policy = p.one(TOPIC_POLICY, arn=topic.state["arn"])
    assert_tls_only(p.where(policy), policy.inputs["policy"], [topic.state["arn"]])
    subscriptions = p.all(SUBSCRIPTION)
    assert all(s.inputs["topic"] == topic.state["arn"] and s.inputs["protocol"] == "email" for s in subscriptions)
    endpoints = sorted(s.inputs["endpoint"] for s in subscriptions)
    assert endpoints == sorted(p.tenant.notify_emails + list(p.settings.notify)), f"tenant {p.name}: {endpoints}"
    dimensions = {
        "AWS/Lambda": {"FunctionName": p.names.function},
        "AWS/DynamoDB": {"TableName": p.names.table},
        "AWS/SQS": {"QueueName": p.names.failure_queue},
        "AWS/Firehose": {"DeliveryStreamName": p.names.delivery_stream},
        "AWS/Kinesis": {"StreamName": p.names.stream},
    }
    # The event source mapping's own metrics carry only its UUID (Lambda's "Event source mapping metrics").
    mapping_dimensions = {"EventSourceMappingUUID": p.one(MAPPING).state["uuid"]}
    watched = set()
    for alarm in p.all(ALARM):
        where = p.where(alarm)
        inputs = alarm.inputs
        assert topic.state["arn"] in inputs.get("alarmActions", []), f"{where}: notifies nobody"
        assert inputs.get("treatMissingData"), f"{where}: treatMissingData unset"
        assert inputs.get("alarmDescription", "").strip(), f"{where}: no description"
        for metric in _alarm_metrics(alarm):
            namespace = metric["namespace"]
            expected = mapping_dimensions if metric["metricName"] in ESM_METRICS else dimensions[namespace]
            assert metric["dimensions"] == expected, f"{where}: dimensions {metric['dimensions']}"
            watched.add((namespace, metric["metricName"]))
        if inputs.get("metricName") == "Duration":
            expected = p.tenant.processing.timeout_seconds * 1000 * p.tenant.alarms.duration_percent_of_timeout / 100
            assert inputs["threshold"] == expected, f"{where}: threshold {inputs['threshold']} != {expected}"
        if inputs.get("metricQueries"):
            assert any(q.get("expression") for q in inputs["metricQueries"]), f"{where}: no expression"
    expected = {
        ("AWS/Lambda", "IteratorAge"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Invocations"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/Lambda", "Duration"),
        # Batches given up, whichever the on-failure destination (queue or bucket).
        ("AWS/Lambda", "OnFailureDestinationDeliveredEventCount"),
        ("AWS/Lambda", "DroppedEventCount"),
        ("AWS/DynamoDB", "WriteThrottleEvents"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
    }
    if p.tenant.archive.enabled:
        expected |= {("AWS/Firehose", "DeliveryToS3.DataFreshness"), ("AWS/Firehose", "DeliveryToS3.Success")}
    if p.tenant.stream.mode == "provisioned":
        expected.add(("AWS/Kinesis", "WriteProvisionedThroughputExceeded"))
    assert watched == expected, f"tenant {p.name}: alarms watch {sorted(watched ^ expected)} unexpectedly"
    error_rate = [a for a in p.all(ALARM) if {m["metricName"] for m in _alarm_metrics(a)} == {"Errors", "Invocations"}]
    assert len(error_rate) == 1, f"tenant {p.name}: no error-rate alarm over Errors and Invocations"


def check_dashboard(p: Pipeline) -> None:
    dashboard = p.one(DASHBOARD)
    body = json.loads(dashboard.inputs["dashboardBody"])
    values = {
        value for widget in body["widgets"] for metric in widget["properties"].get("metrics", []) for value in metric
    }
    for name in (p.names.function, p.names.table, p.names.failure_queue, p.names.stream):
        assert name in values, f"{p.where(dashboard)}: no widget shows {name}"


def check_iam(p: Pipeline) -> None:
    roles = p.all(ROLE)
    services = {p.names.processor_role: "lambda.amazonaws.com"}
    if p.tenant.archive.enabled:
        services[p.names.firehose_role] = "firehose.amazonaws.com"
    assert sorted(r.inputs["name"] for r in roles) == sorted(services), f"tenant {p.name}: roles {roles}"
    for role in roles:
        where = p.where(role)
        assert not role.inputs.get("managedPolicyArns"), f"{where}: managed policies"
        for statement in statements(role.inputs["assumeRolePolicy"]):
            assert statement["Principal"] == {"Service": services[role.inputs["name"]]}, f"{where}: trust"
            assert statement["Action"] == "sts:AssumeRole", f"{where}: trust allows {statement['Action']}"
        inline = [r for r in p.all(ROLE_POLICY) if r.inputs["role"] == role.state["name"]]
        assert len(inline) == 1, f"{where}: {len(inline)} inline policies"
        check_policy_resources(p, inline[0])
    attached = [r.name for r in p.resources if r.type in MANAGED_POLICY_TYPES]
    assert not attached, f"tenant {p.name}: managed policies attached: {attached}"


def check_policy_resources(p: Pipeline, policy: RegisteredResource) -> None:
    where = p.where(policy)
    own = p.arns()
    # Glue's GetTable also authorizes against the account's Data Catalog, which no tenant owns.
    catalog = f"arn:aws:glue:{p.region}:{p.account_id}:catalog"
    for statement in statements(policy.inputs["policy"]):
        assert statement["Effect"] == "Allow", f"{where}: {statement}"
        assert "NotResource" not in statement and "NotAction" not in statement, f"{where}: {statement}"
        resources = as_list(statement["Resource"])
        actions = as_list(statement["Action"])
        if "*" in resources:
            assert resources == ["*"], f"{where}: {statement.get('Sid')} mixes * with ARNs"
            assert all(a.startswith("xray:") for a in actions), f"{where}: * resource for {actions}"
            continue
        assert not any(a.startswith("xray:") for a in actions), f"{where}: X-Ray actions scoped oddly"
        for arn in resources:
            assert base_arn(arn) in own | {catalog}, f"{where}: {statement.get('Sid')} names {arn}"


ALL_CHECKS = (
    check_component_names_and_tags,
    check_key,
    check_stream,
    check_function,
    check_mapping,
    check_failure_destinations,
    check_table,
    check_archive,
    check_alarms,
    check_dashboard,
    check_iam,
)


def check_everything(p: Pipeline) -> None:
    for check in ALL_CHECKS:
        check(p)


# ---------------------------------------------------------------------------------------------------------
# Across tenants


def _segments(arn: str) -> set[str]:
    return set(re.split(r"[:/]", arn))


def check_isolation(everyone: dict[str, Pipeline]) -> None:
    """No tenant's IAM or key policy names a resource of another tenant."""
    for name, p in everyone.items():
        documents = [(r, r.inputs["policy"]) for r in p.all(ROLE_POLICY) + p.all(KEY)]
        documents += [(r, r.inputs["assumeRolePolicy"]) for r in p.all(ROLE)]
        for resource, document in documents:
            for arn in arn_strings(json.loads(document)):
                for other_name, other in everyone.items():
                    if other_name == name:
                        continue
                    assert base_arn(arn) not in other.arns(), f"{p.where(resource)}: names {arn} of tenant {other_name}"
                    # Names every tenant shares (the Glue table `events`) belong to no one in particular.
                    theirs = ({v for _, v in other.names.items()} - {v for _, v in p.names.items()}) & _segments(arn)
                    assert not theirs, f"{p.where(resource)}: {arn} names {theirs} of tenant {other_name}"


def check_retention(p: Pipeline) -> None:
    """Key, table and buckets outlive `pulumi destroy` exactly when the tenant file asks."""
    for resource in p.resources:
        if resource.type in DATA_HOLDING:
            retained = p.retained[(resource.type, resource.name)]
            assert retained is p.tenant.retain_on_delete, f"{p.where(resource)}: retain_on_delete={retained}"


class Evaluated:
    """One evaluation of a project: its pipelines by tenant, and the raw recording."""

    def __init__(self, project_dir: Path, stack: str, settings: StackSettings):
        self.project_dir = project_dir
        self.recorded: Recorded = evaluate_recorded(project_dir, stack, settings)
        self.pipelines: dict[str, Pipeline] = pipelines(self.recorded, project_dir, settings)

    def __getitem__(self, tenant: str) -> Pipeline:
        return self.pipelines[tenant]
