"""What every tenant's pipeline must be, as checks over one evaluation of the program (`pipeline_model`).

The production checklist (bisect, retries, record age, on-failure destination, X-Ray, log retention, the tenant
key everywhere, table and bucket safety, IAM wildcards and isolation, alarm actions, the Parquet buffer) is the
policy pack's: `check_policy` runs its rules over the whole stack. The `check_<part>` functions here hold what
the pack cannot know, the structure and wiring the tenant file asks for: names, tags, values taken from the
file, which resource feeds which, parents and retention. Each message names the tenant and the resource.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from typing import Any

import pulumi_aws as aws
from pipeline_model import DEV, EXAMPLE_TENANTS, PROJECT_ROOT, Evaluated, Pipeline  # noqa: F401 - conftest.py imports them from here

from components import defaults, glue_schema, handler_env
from components.config import TenantFile
from components.offline import RegisteredResource
from policy import run as policy_run
from policy.rules import types as tokens
from policy.rules.documents import arn_strings, as_list, base_arn, statements
from runtime import settings as handler_settings

LOG_STREAM = "aws:cloudwatch/logStream:LogStream"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
GLUE_DATABASE = "aws:glue/catalogDatabase:CatalogDatabase"
GLUE_TABLE = "aws:glue/catalogTable:CatalogTable"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
ESM_METRICS = {"OnFailureDestinationDeliveredEventCount", "DroppedEventCount"}
MANAGED_POLICY_TYPES = (
    *tokens.POLICY_ATTACHMENTS,
    "aws:iam/policy:Policy",
    "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive",
)
PHYSICAL_NAME_INPUTS = ("name", "bucket", "dashboardName", "functionName")
# Names that live inside one of the tenant's own resources, so they need not repeat the tenant's name:
# a log stream inside its log group, a Glue table inside its database, an inline policy inside its role.
SCOPED_NAMES = {LOG_STREAM: "logGroupName", GLUE_TABLE: "databaseName", tokens.ROLE_POLICY: "role"}
GLUE_TYPES = (GLUE_DATABASE, GLUE_TABLE)
DATA_HOLDING = (tokens.KEY, tokens.TABLE, tokens.BUCKET)
# Safety defaults a tenant file may turn off; the policy pack refuses the plan that does (rule -> loosened?).
LOOSENED: dict[str, Callable[[TenantFile], bool]] = {
    "table-point-in-time-recovery": lambda tenant: not tenant.table.point_in_time_recovery,
    "table-deletion-protection": lambda tenant: not tenant.table.deletion_protection,
}


def check_policy(evaluated: Evaluated) -> None:
    """The pack finds exactly what the tenant files loosen on purpose, and nothing else."""
    evaluation = evaluated.recorded.evaluation
    report = policy_run.check(evaluation.stack, evaluation.resources)
    found = {(v.tenant, v.rule, v.resource_type): str(v) for v in report.violations}
    off = [(name, rule) for name, p in evaluated.pipelines.items() for rule, test in LOOSENED.items() if test(p.tenant)]
    expected = {(name, rule, tokens.TABLE) for name, rule in off}
    unexpected = [text for key, text in found.items() if key not in expected]
    assert not unexpected, "policy violations:\n" + "\n".join(unexpected)
    assert set(found) == expected, f"the pack misses what the files loosen: {sorted(expected - set(found))}"


@functools.cache
def accepts_tags(type_token: str) -> bool:
    """Whether the pulumi-aws resource type takes a `tags` argument (read from its Args class)."""
    if not type_token.startswith("aws:"):
        return False
    module, name = type_token.split(":")[1].split("/")[0], type_token.split(":")[2]
    args = getattr(getattr(aws, {"lambda": "lambda_"}.get(module, module)), f"{name}Args", None)
    return args is not None and "tags" in inspect.signature(args.__init__).parameters


def check_component_names_and_tags(p: Pipeline) -> None:
    components = p.all(tokens.TENANT_PIPELINE)
    assert [c.name for c in components] == [p.name], f"tenant {p.name}: components {components}"
    glue_form = p.name.replace("-", "_")
    wanted = {**p.tenant.tags, "tenant": p.name, "stack": p.stack, "managed-by": "tributary"}
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
            tags = resource.inputs.get("tags") or {}
            missing = {k: v for k, v in wanted.items() if tags.get(k) != v}
            assert not missing, f"{p.where(resource)}: tags lack {missing} (got {tags})"


def _principal_values(principal: Any, kind: str | None = None) -> list[str]:
    if isinstance(principal, str):
        return [principal] if kind is None else []
    return [v for k, value in principal.items() if kind in (None, k) for v in as_list(value)]


def check_key(p: Pipeline) -> None:
    key, alias = p.one(tokens.KEY), p.one(tokens.ALIAS)
    where = p.where(key)
    assert key.inputs["deletionWindowInDays"] == defaults.KMS_DELETION_WINDOW_DAYS, f"{where}: deletion window"
    assert alias.inputs["name"] == p.names.key_alias, f"{p.where(alias)}: {alias.inputs['name']}"
    assert alias.inputs["targetKeyId"] == key.state["keyId"], f"{p.where(alias)}: targets another key"
    allows = [s for s in statements(key.inputs["policy"]) if s["Effect"] == "Allow"]
    principals = {v for s in allows for v in _principal_values(s["Principal"])}
    assert "*" not in principals, f"{where}: a statement allows any principal"
    roles = {arn for s in allows for arn in _principal_values(s["Principal"], "AWS") if ":role/" in arn}
    expected_roles = {p.role_arn(p.names.processor_role), *p.tenant.stream.producers, *p.tenant.access.readers}
    if p.tenant.archive.enabled:
        expected_roles.add(p.role_arn(p.names.firehose_role))
    assert roles == expected_roles, f"{where}: roles {sorted(roles)} != {sorted(expected_roles)}"
    logs_service = f"logs.{p.region}.amazonaws.com"
    logs = [s for s in allows if logs_service in _principal_values(s["Principal"], "Service")]
    context = {arn for s in logs for arn in arn_strings(s.get("Condition", {}))}
    assert context == {g.state["arn"] for g in p.all(tokens.LOG_GROUP)}, f"{where}: logs may use the key for {context}"
    named = p.arns() | {f"arn:aws:iam::{p.account_id}:root", *p.tenant.stream.producers, *p.tenant.access.readers}
    for arn in arn_strings(statements(key.inputs["policy"])):
        # S3 objects' encryption context: a bucket's objects (`<bucket arn>/*`) are the tenant's own.
        assert arn.removesuffix("/*") in named, f"{where}: names {arn}"


def check_stream(p: Pipeline) -> None:
    stream, mapping, consumers = p.one(tokens.STREAM), p.one(tokens.EVENT_SOURCE_MAPPING), p.all(tokens.STREAM_CONSUMER)
    where, settings, inputs = p.where(stream), p.tenant.stream, stream.inputs
    assert inputs["name"] == p.names.stream, f"{where}: name {inputs['name']}"
    assert inputs["streamModeDetails"] == {"streamMode": settings.mode.upper()}, f"{where}: mode"
    assert inputs.get("shardCount") == settings.shards, f"{where}: shards {inputs.get('shardCount')}"
    assert inputs["retentionPeriod"] == settings.retention_hours, f"{where}: retention"
    assert len(consumers) == settings.enhanced_fan_out, f"{where}: {len(consumers)} consumers"
    for consumer in consumers:
        assert consumer.inputs["streamArn"] == stream.state["arn"], f"{p.where(consumer)}: reads another stream"
    source = consumers[0].state["arn"] if consumers else stream.state["arn"]
    assert mapping.inputs["eventSourceArn"] == source, f"{p.where(mapping)}: reads {mapping.inputs['eventSourceArn']}"


def expected_layer_arn(p: Pipeline) -> str:
    layer = f"{defaults.POWERTOOLS_LAYER_NAME}:{p.settings.powertools_layer_version}"
    default = f"arn:aws:lambda:{p.region}:{defaults.POWERTOOLS_LAYER_ACCOUNT}:layer:{layer}"
    return p.settings.powertools_layer_arn or default


def assert_inputs(p: Pipeline, resource: RegisteredResource, expected: dict[str, Any]) -> None:
    for key, value in expected.items():
        got = resource.inputs.get(key)
        assert got == value, f"{p.where(resource)}: {key} is {got!r}, expected {value!r}"


def check_function(p: Pipeline) -> None:
    function, processing = p.one(tokens.FUNCTION), p.tenant.processing
    log_group = p.one(tokens.LOG_GROUP, name=p.names.function_log_group)
    expected = {
        "name": p.names.function,
        "runtime": "python3.14",
        "architectures": ["arm64"],
        "handler": "runtime.handler.handler",
        "layers": [expected_layer_arn(p)],
        "kmsKeyArn": p.key_arn,
        "role": p.role_arn(p.names.processor_role),
        "memorySize": processing.memory_mb,
        "timeout": processing.timeout_seconds,
        "reservedConcurrentExecutions": processing.reserved_concurrency,
        "loggingConfig": {"logFormat": "JSON", "logGroup": log_group.inputs["name"]},
    }
    assert_inputs(p, function, expected)
    assert log_group.inputs["retentionInDays"] == defaults.LOG_RETENTION_DAYS, p.where(log_group)
    # What each variable means is handler_env's (tests/components/test_handler_env.py); here: the right table
    # and queue, and no variable the handler does not read.
    variables = function.inputs["environment"]["variables"]
    table, queue = p.one(tokens.TABLE).inputs["name"], p.one(tokens.QUEUE, name=p.names.failure_queue)
    assert variables == handler_env.handler_environment(p.tenant, table, queue.state["url"]), p.where(function)
    unknown = {k for k in variables if k not in handler_settings.ALL and not k.startswith("POWERTOOLS_")}
    assert not unknown, f"{p.where(function)}: variables the handler does not read: {unknown}"


def check_mapping(p: Pipeline) -> None:
    processing = p.tenant.processing
    if processing.on_failure == "s3":
        failures = p.one(tokens.BUCKET, bucket=p.names.failure_bucket)
    else:
        failures = p.one(tokens.QUEUE, name=p.names.failure_queue)
    expected = {
        "functionName": p.one(tokens.FUNCTION).state["arn"],
        "batchSize": processing.batch_size,
        "maximumBatchingWindowInSeconds": processing.batch_window_seconds,
        "parallelizationFactor": processing.parallelization_factor,
        "startingPosition": processing.starting_position,
        "maximumRetryAttempts": processing.max_retries,
        "maximumRecordAgeInSeconds": processing.max_record_age_seconds,
        "destinationConfig": {"onFailure": {"destinationArn": failures.state["arn"]}},
    }
    mapping = p.one(tokens.EVENT_SOURCE_MAPPING)
    assert_inputs(p, mapping, expected)
    assert mapping.inputs.get("metricsConfig", {}).get("metrics"), f"{p.where(mapping)}: no metricsConfig"


def check_bucket(p: Pipeline, bucket: RegisteredResource, expire_days: int | None) -> None:
    """A bucket's lifecycle and encryption wiring (its public access, TLS and versioning are the pack's)."""
    where, name = p.where(bucket), bucket.inputs["bucket"]
    [rule] = p.one(tokens.BUCKET_ENCRYPTION, bucket=name).inputs["rules"]
    assert rule["bucketKeyEnabled"] is True, f"{where}: no bucket key"
    enabled = [r for r in p.one(LIFECYCLE, bucket=name).inputs["rules"] if r["status"] == "Enabled"]
    assert any("abortIncompleteMultipartUpload" in r for r in enabled), f"{where}: incomplete uploads kept"
    errors = [r for r in enabled if r.get("filter", {}).get("prefix") == "errors/" and "expiration" in r]
    assert errors, f"{where}: errors/ never expires"
    assert any("noncurrentVersionExpiration" in r for r in enabled), f"{where}: old versions kept forever"
    expiring = [r["expiration"]["days"] for r in enabled if "expiration" in r and not r.get("filter")]
    assert expiring == ([expire_days] if expire_days else []), f"{where}: object expiry {expiring}"
    assert bucket.inputs["forceDestroy"] is (not p.tenant.retain_on_delete), f"{where}: forceDestroy"


def check_failure_destinations(p: Pipeline) -> None:
    queue = p.one(tokens.QUEUE, name=p.names.failure_queue)
    assert queue.inputs["messageRetentionSeconds"] == 1209600, f"{p.where(queue)}: retention"
    failure_buckets = [b for b in p.all(tokens.BUCKET) if b.inputs["bucket"] == p.names.failure_bucket]
    assert len(failure_buckets) == (p.tenant.processing.on_failure == "s3"), f"tenant {p.name}: failure bucket"
    for bucket in failure_buckets:
        check_bucket(p, bucket, expire_days=None)


def check_table(p: Pipeline) -> None:
    table, records = p.one(tokens.TABLE), p.tenant.records
    where, inputs = p.where(table), table.inputs
    assert_inputs(p, table, {"name": p.names.table, "billingMode": "PAY_PER_REQUEST", "hashKey": "pk"})
    assert inputs.get("rangeKey") == "sk", f"{where}: keys"
    assert sorted(a["name"] + a["type"] for a in inputs["attributes"]) == ["pkS", "skS"], f"{where}: attributes"
    ttl = inputs.get("ttl")
    if records.ttl_days is not None or records.write == "counters":
        assert ttl == {"attributeName": "expires_at", "enabled": True}, f"{where}: TTL {ttl}"
    else:
        assert not ttl or not ttl.get("enabled"), f"{where}: TTL on without ttl_days or counters"


def check_archive(p: Pipeline) -> None:
    settings = p.tenant.archive
    archive_buckets = [b for b in p.all(tokens.BUCKET) if b.inputs["bucket"] == p.names.archive_bucket]
    if not settings.enabled:
        present = [r.name for r in p.resources if r.type in (*GLUE_TYPES, tokens.FIREHOSE)] + [
            b.name for b in archive_buckets
        ]
        present += [g.name for g in p.all(tokens.LOG_GROUP) if g.inputs["name"] == p.names.firehose_log_group]
        assert not present, f"tenant {p.name}: archive disabled but has {present}"
        return
    [bucket] = archive_buckets
    check_bucket(p, bucket, settings.expire_days)
    database = p.one(GLUE_DATABASE)
    glue_table = p.one(GLUE_TABLE, databaseName=database.inputs["name"])
    columns = glue_table.inputs["storageDescriptor"]["columns"]
    assert columns == glue_schema.glue_columns(p.tenant.records.schema_), f"{p.where(glue_table)}: columns"
    delivery, role_arn = p.one(tokens.FIREHOSE), p.role_arn(p.names.firehose_role)
    where = p.where(delivery)
    source = {"kinesisStreamArn": p.one(tokens.STREAM).state["arn"], "roleArn": role_arn}
    assert delivery.inputs["kinesisSourceConfiguration"] == source, f"{where}: source"
    s3 = delivery.inputs["extendedS3Configuration"]
    assert (s3["bucketArn"], s3["kmsKeyArn"]) == (bucket.state["arn"], p.key_arn), f"{where}: bucket or key"
    assert (s3["bufferingSize"], s3["bufferingInterval"]) == (settings.buffer_mb, settings.buffer_seconds), where
    assert all(f"{part}=" in s3["prefix"] for part in ("year", "month", "day", "hour")), f"{where}: prefix"
    assert s3.get("errorOutputPrefix") and s3["errorOutputPrefix"] != s3["prefix"], f"{where}: error prefix"
    log_group = p.one(tokens.LOG_GROUP, name=p.names.firehose_log_group)
    logging = s3["cloudwatchLoggingOptions"]
    assert logging["enabled"] is True and logging["logGroupName"] == log_group.inputs["name"], where
    p.one(LOG_STREAM, logGroupName=log_group.inputs["name"], name=logging["logStreamName"])
    conversion = s3.get("dataFormatConversionConfiguration")
    if settings.format != "parquet":
        assert not conversion or conversion.get("enabled") is False, f"{where}: converts a json archive"
        return
    assert conversion and conversion["enabled"] is True, f"{where}: no Parquet conversion"
    serializer = conversion["outputFormatConfiguration"]["serializer"]
    assert serializer == {"parquetSerDe": {"compression": "SNAPPY"}}, f"{where}: {serializer}"
    schema = conversion["schemaConfiguration"]
    expected = (database.inputs["name"], glue_table.inputs["name"], role_arn)
    assert (schema["databaseName"], schema["tableName"], schema["roleArn"]) == expected, f"{where}: {schema}"
    assert glue_table.inputs["parameters"]["classification"] == "parquet", p.where(glue_table)


def _alarm_metrics(alarm: RegisteredResource) -> list[dict]:
    inputs = alarm.inputs
    if inputs.get("metricQueries"):
        return [q["metric"] for q in inputs["metricQueries"] if q.get("metric")]
    return [{k: inputs.get(k) for k in ("namespace", "metricName", "dimensions")}]


def _expected_metrics(p: Pipeline) -> set[tuple[str, str]]:
    lambda_metrics = ("IteratorAge", "Errors", "Invocations", "Throttles", "Duration", *sorted(ESM_METRICS))
    expected = {("AWS/Lambda", metric) for metric in lambda_metrics}  # ESM_METRICS: given-up batches, any destination
    expected |= {("AWS/DynamoDB", "WriteThrottleEvents")}
    expected |= {("AWS/SQS", "ApproximateNumberOfMessagesVisible"), ("AWS/SQS", "ApproximateAgeOfOldestMessage")}
    if p.tenant.archive.enabled:
        expected |= {("AWS/Firehose", "DeliveryToS3.DataFreshness"), ("AWS/Firehose", "DeliveryToS3.Success")}
    if p.tenant.stream.mode == "provisioned":
        expected.add(("AWS/Kinesis", "WriteProvisionedThroughputExceeded"))
    return expected


def check_alarms(p: Pipeline) -> None:
    topic = p.one(tokens.TOPIC)
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
    mapping_dimensions = {"EventSourceMappingUUID": p.one(tokens.EVENT_SOURCE_MAPPING).state["uuid"]}
    watched = set()
    for alarm in p.all(tokens.METRIC_ALARM):
        where, inputs = p.where(alarm), alarm.inputs
        assert inputs["alarmActions"] == [topic.state["arn"]], f"{where}: notifies {inputs['alarmActions']}"
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
    assert watched == _expected_metrics(p), f"tenant {p.name}: alarms watch {sorted(watched ^ _expected_metrics(p))}"
    error_rate = [
        a
        for a in p.all(tokens.METRIC_ALARM)
        if {m["metricName"] for m in _alarm_metrics(a)} == {"Errors", "Invocations"}
    ]
    assert len(error_rate) == 1, f"tenant {p.name}: no error-rate alarm over Errors and Invocations"


def check_dashboard(p: Pipeline) -> None:
    dashboard = p.one(DASHBOARD)
    widgets = json.loads(dashboard.inputs["dashboardBody"])["widgets"]
    values = {value for widget in widgets for metric in widget["properties"].get("metrics", []) for value in metric}
    for name in (p.names.function, p.names.table, p.names.failure_queue, p.names.stream):
        assert name in values, f"{p.where(dashboard)}: no widget shows {name}"


def check_iam(p: Pipeline) -> None:
    """Roles trust only their service and carry one inline policy naming only the tenant's ARNs."""
    services = {p.names.processor_role: "lambda.amazonaws.com"}
    if p.tenant.archive.enabled:
        services[p.names.firehose_role] = "firehose.amazonaws.com"
    roles = p.all(tokens.ROLE)
    assert sorted(r.inputs["name"] for r in roles) == sorted(services), f"tenant {p.name}: roles {roles}"
    # Glue's GetTable also authorizes against the account's Data Catalog, which no tenant owns.
    own = p.arns() | {f"arn:aws:glue:{p.region}:{p.account_id}:catalog"}
    for role in roles:
        for statement in statements(role.inputs["assumeRolePolicy"]):
            assert statement["Principal"] == {"Service": services[role.inputs["name"]]}, f"{p.where(role)}: trust"
            assert statement["Action"] == "sts:AssumeRole", f"{p.where(role)}: trust allows {statement['Action']}"
        [inline] = [r for r in p.all(tokens.ROLE_POLICY) if r.inputs["role"] == role.state["name"]]
        for statement in statements(inline.inputs["policy"]):
            assert statement["Effect"] == "Allow", f"{p.where(inline)}: {statement}"
            named = [base_arn(arn) for arn in as_list(statement["Resource"]) if arn != "*"]
            assert set(named) <= own, f"{p.where(inline)}: {statement.get('Sid')} names {set(named) - own}"
    attached = [r.name for r in p.resources if r.type in MANAGED_POLICY_TYPES]
    assert not attached, f"tenant {p.name}: managed policies attached: {attached}"


def check_retention(p: Pipeline) -> None:
    """Key, table and buckets outlive `pulumi destroy` exactly when the tenant file asks."""
    for resource in p.resources:
        if resource.type in DATA_HOLDING:
            retained = p.retained[(resource.type, resource.name)]
            assert retained is p.tenant.retain_on_delete, f"{p.where(resource)}: retain_on_delete={retained}"


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
    check_retention,
)


def check_stack(evaluated: Evaluated) -> None:
    """Every tenant's pipeline part by part, then the policy pack over the whole stack."""
    for pipeline in evaluated.pipelines.values():
        for check in ALL_CHECKS:
            check(pipeline)
    check_policy(evaluated)
