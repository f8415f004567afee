"""Key, table, bucket, log and archive rules: each passes every example tenant and fails a broken copy."""

from __future__ import annotations

import pytest
from plan_cases import DELETE, all_of, broken, find, findings, replaced, where, with_policy
from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policy.rules import (
    bucket_public_access_blocked,
    bucket_versioning,
    firehose_parquet_buffer,
    kms_key_rotation,
    log_group_retention,
    table_deletion_protection,
    table_point_in_time_recovery,
    tenant_key_encryption,
    tls_only_access,
)
from policy.rules.types import (
    BUCKET,
    BUCKET_ENCRYPTION,
    BUCKET_POLICY,
    BUCKET_PUBLIC_ACCESS_BLOCK,
    BUCKET_VERSIONING,
    FIREHOSE,
    KEY,
    LOG_GROUP,
    QUEUE,
    QUEUE_POLICY,
    STREAM,
    TABLE,
    TOPIC,
    TOPIC_POLICY,
)

RESOURCE_CASES = [
    (kms_key_rotation, "orders", KEY, "enableKeyRotation", False),
    (table_point_in_time_recovery, "sensors", TABLE, "pointInTimeRecovery.enabled", False),
    (table_point_in_time_recovery, "clicks", TABLE, "pointInTimeRecovery", DELETE),
    (table_deletion_protection, "orders", TABLE, "deletionProtectionEnabled", False),
    (log_group_retention, "clicks", LOG_GROUP, "retentionInDays", DELETE),
    (log_group_retention, "orders", LOG_GROUP, "retentionInDays", 0.0),
    (firehose_parquet_buffer, "sensors", FIREHOSE, "extendedS3Configuration.bufferingSize", 63.0),
    (firehose_parquet_buffer, "orders", FIREHOSE, "extendedS3Configuration.bufferingSize", DELETE),
]


@pytest.mark.parametrize(("module", "tenant", "type_", "path", "value"), RESOURCE_CASES)
def test_resource_rule_passes_the_examples_and_flags_a_copy_broken_by_one_setting(
    plan, module, tenant, type_, path, value
):
    resources = all_of(plan, tenant, type_)
    assert findings(module.RULE, plan.resources) == []
    assert findings(module.RULE, [broken(resources[0], path, value)]) == [where(resources[0])]


def test_parquet_buffer_applies_only_when_records_are_converted(plan):
    delivery = find(plan, "sensors", FIREHOSE)
    json_archive = broken(delivery, "extendedS3Configuration.dataFormatConversionConfiguration.enabled", False)
    assert (
        findings(firehose_parquet_buffer.RULE, [broken(json_archive, "extendedS3Configuration.bufferingSize", 5.0)])
        == []
    )


ENCRYPTED = [
    ("sensors", STREAM, "kmsKeyId"),
    ("orders", STREAM, "encryptionType"),
    ("clicks", TABLE, "serverSideEncryption.kmsKeyArn"),
    ("sensors", QUEUE, "kmsMasterKeyId"),
    ("orders", TOPIC, "kmsMasterKeyId"),
    ("clicks", LOG_GROUP, "kmsKeyId"),
    ("orders", BUCKET_ENCRYPTION, "rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId"),
]


@pytest.mark.parametrize(("tenant", "type_", "path"), ENCRYPTED)
def test_tenant_key_flags_data_encrypted_with_another_tenants_key(plan, tenant, type_, path):
    other = "clicks" if tenant != "clicks" else "orders"
    foreign_key = find(plan, other, KEY).state["arn"]
    resource = all_of(plan, tenant, type_)[0]
    value = "NONE" if path.endswith("encryptionType") else foreign_key
    rule = tenant_key_encryption.RULE
    assert findings(rule, plan.resources) == []
    assert findings(rule, replaced(plan.resources, resource, broken(resource, path, value))) == [where(resource)]


def test_tenant_key_flags_a_bucket_without_default_encryption(plan):
    """clicks has two buckets (archive and on-failure destination): the failure bucket loses its encryption."""
    [bucket] = [b for b in all_of(plan, "clicks", BUCKET) if "failures" in b.inputs["bucket"]]
    encryption = find(plan, "clicks", BUCKET_ENCRYPTION, bucket=bucket.inputs["bucket"])
    assert findings(tenant_key_encryption.RULE, replaced(plan.resources, encryption)) == [where(bucket)]


def test_tenant_key_accepts_a_key_not_known_yet_when_the_input_depends_on_the_tenants_key():
    """In a first `pulumi preview` the key's ARN is unknown; the engine's dependency record names the key."""

    def resource(type_, props, parent, dependencies=None):
        options = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent and parent.urn)
        return PolicyResource(
            type_, unknown_checking_proxy(props), f"urn:{type_}", type_, options, None, parent, [], dependencies or {}
        )

    tenant = resource("tributary:index:TenantPipeline", {}, None)
    key = resource(KEY, {"arn": UNKNOWN_STRING_VALUE}, tenant)
    unknown = {"name": "t--dev--failures", "kmsMasterKeyId": UNKNOWN_STRING_VALUE}
    queue = resource(QUEUE, unknown, tenant, {"kmsMasterKeyId": [key]})
    stray = resource(QUEUE, unknown, tenant, {"kmsMasterKeyId": []})
    found = list(tenant_key_encryption.check([tenant, key, queue, stray]))
    assert [resource for resource, _ in found] == [stray]


COMPANIONS = [
    (bucket_public_access_blocked, "orders", BUCKET_PUBLIC_ACCESS_BLOCK, "restrictPublicBuckets", False),
    (bucket_public_access_blocked, "clicks", BUCKET_PUBLIC_ACCESS_BLOCK, None, None),
    (bucket_versioning, "sensors", BUCKET_VERSIONING, "versioningConfiguration.status", "Suspended"),
    (bucket_versioning, "clicks", BUCKET_VERSIONING, None, None),
]


@pytest.mark.parametrize(("module", "tenant", "companion_type", "path", "value"), COMPANIONS)
def test_bucket_rule_flags_a_bucket_whose_companion_is_loosened_or_missing(
    plan, module, tenant, companion_type, path, value
):
    """path None: the companion resource is removed from the stack."""
    companion = all_of(plan, tenant, companion_type)[0]
    bucket = find(plan, tenant, BUCKET, bucket=companion.inputs["bucket"])
    twins = () if path is None else (broken(companion, path, value),)
    assert findings(module.RULE, plan.resources) == []
    assert findings(module.RULE, replaced(plan.resources, companion, *twins)) == [where(bucket)]


TLS_POLICIES = [("orders", BUCKET_POLICY, BUCKET), ("clicks", QUEUE_POLICY, QUEUE), ("sensors", TOPIC_POLICY, TOPIC)]


def _allow_insecure(document: dict) -> dict:
    return {**document, "Statement": [s for s in document["Statement"] if s["Effect"] != "Deny"]}


@pytest.mark.parametrize(("tenant", "policy_type", "target_type"), TLS_POLICIES)
def test_tls_only_flags_a_bucket_queue_or_topic_whose_policy_allows_plain_http(plan, tenant, policy_type, target_type):
    policy = all_of(plan, tenant, policy_type)[0]
    target = all_of(plan, tenant, target_type)[0]
    if target_type == BUCKET:
        target = find(plan, tenant, BUCKET, bucket=policy.inputs["bucket"])
    rule = tls_only_access.RULE
    assert findings(rule, plan.resources) == []
    assert findings(rule, replaced(plan.resources, policy, with_policy(policy, _allow_insecure))) == [where(target)]
    assert findings(rule, replaced(plan.resources, policy)) == [where(target)]


def test_tls_only_flags_a_bucket_policy_that_leaves_the_objects_out(plan):
    policy = find(plan, "orders", BUCKET_POLICY)
    bucket = find(plan, "orders", BUCKET, bucket=policy.inputs["bucket"])

    def bucket_only(document: dict) -> dict:
        for statement in document["Statement"]:
            statement["Resource"] = [arn for arn in statement["Resource"] if not arn.endswith("/*")]
        return document

    twin = with_policy(policy, bucket_only)
    assert findings(tls_only_access.RULE, replaced(plan.resources, policy, twin)) == [where(bucket)]
