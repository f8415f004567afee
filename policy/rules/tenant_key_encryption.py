"""Each tenant's data is encrypted with the tenant's own KMS key: stream, table, queue, topic, buckets and logs.

One key per tenant means one key policy decides who reads the tenant's data, and one key to disable or
schedule for deletion when the tenant leaves. AWS owned or AWS managed keys cannot be scoped that way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError

from .documents import as_list
from .rule import known, stack_rule
from .tenancy import by_tenant, of_type
from .types import ALIAS, BUCKET, BUCKET_ENCRYPTION, KEY, LOG_GROUP, QUEUE, STREAM, TABLE, TOPIC


def _stream(props: Mapping[str, Any]) -> Any:
    return props.get("kmsKeyId") if props.get("encryptionType") == "KMS" else None


def _table(props: Mapping[str, Any]) -> Any:
    encryption = props.get("serverSideEncryption") or {}
    return encryption.get("kmsKeyArn") if encryption.get("enabled") is True else None


def _bucket_encryption(props: Mapping[str, Any]) -> Any:
    for rule in as_list(props.get("rules")):
        default = rule.get("applyServerSideEncryptionByDefault") or {}
        if str(default.get("sseAlgorithm", "")).startswith("aws:kms"):
            return default.get("kmsMasterKeyId")
    return None


# Per encrypted type: the input naming its key (what the engine records a dependency on) and how to read it.
KEY_REFERENCES: dict[str, tuple[str, Callable[[Mapping[str, Any]], Any]]] = {
    STREAM: ("kmsKeyId", _stream),
    TABLE: ("serverSideEncryption", _table),
    QUEUE: ("kmsMasterKeyId", lambda props: props.get("kmsMasterKeyId")),
    TOPIC: ("kmsMasterKeyId", lambda props: props.get("kmsMasterKeyId")),
    LOG_GROUP: ("kmsKeyId", lambda props: props.get("kmsKeyId")),
    BUCKET_ENCRYPTION: ("rules", _bucket_encryption),
}


def _names_of_keys(keys: Sequence[Any], aliases: Sequence[Any]) -> set[str]:
    """Every way to name the tenant's keys: key ARN, key id, alias name and alias ARN."""
    names = {value for key in keys for value in (known(key.props, "arn"), known(key.props, "keyId")) if value}
    ids = set(names)
    for alias in aliases:
        if known(alias.props, "targetKeyId") in ids:
            names |= {value for value in (known(alias.props, "name"), known(alias.props, "arn")) if value}
    return names


def _uses(resource: Any, keys: Sequence[Any], names: set[str]) -> tuple[bool, Any]:
    """(whether the resource is encrypted with one of the keys, the key it names). During a preview that creates
    the key its ARN is not known yet: the engine's record of which resources an input depends on answers."""
    input_name, read = KEY_REFERENCES[resource.resource_type]
    try:
        named = read(resource.props)
    except UnknownValueError:
        dependencies = resource.property_dependencies.get(input_name, [])
        return any(dependency in keys for dependency in dependencies), "a key not known yet"
    return named in names, named


def check(resources: Sequence[Any]) -> Iterator[tuple[Any, str]]:
    for tenant, owned in sorted(by_tenant(resources).items()):
        keys = of_type(owned, KEY, ALIAS)
        names = _names_of_keys(of_type(owned, KEY), of_type(owned, ALIAS))
        for resource in of_type(owned, *KEY_REFERENCES):
            uses_tenant_key, named = _uses(resource, keys, names)
            if not uses_tenant_key:
                shown = named or "no customer managed key"
                yield resource, f"encrypted with {shown}, not with tenant {tenant}'s own key"
        encrypted = {encryption.props.get("bucket") for encryption in of_type(owned, BUCKET_ENCRYPTION)}
        for bucket in of_type(owned, BUCKET):
            if bucket.props.get("bucket") not in encrypted:
                yield bucket, f"no default encryption configuration with tenant {tenant}'s key"


RULE = stack_rule(
    name="tenant-key-encryption",
    description="A tenant's stream, table, queue, topic, buckets and log groups use the tenant's own KMS key.",
    check=check,
    fix="pass the tenant's key (TenantPipeline's key ARN) as the resource's KMS key; for a bucket, add a "
    "BucketServerSideEncryptionConfiguration with sse_algorithm aws:kms and that key",
    url="https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#customer-cmk",
)
