"""The processor's environment is the handler's whole configuration: the names it reads, nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from strategies import tenant_documents, to_yaml

from components import handler_env, naming
from components.config import TenantFileError, load_tenant, parse_tenant, tenant_files
from runtime import settings as handler_settings
from runtime.config import HandlerConfig

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = tenant_files(PROJECT_ROOT / "tenants")
QUEUE_URL = naming.queue_url("us-east-1", "123456789012", "t-dev-failures")
ALWAYS = (
    handler_settings.TENANT,
    handler_settings.TABLE_NAME,
    handler_settings.WRITE_MODE,
    handler_settings.PARTITION_KEY,
    handler_settings.SCHEMA,
    handler_settings.FAILURE_QUEUE_URL,
    handler_settings.DEDUPE_TTL_SECONDS,
)
# Which optional variable carries which field of `records:`.
OPTIONAL = {
    handler_settings.SORT_KEY: "sort_key",
    handler_settings.EVENT_ID_FIELD: "event_id",
    handler_settings.TIMESTAMP_FIELD: "timestamp",
    handler_settings.VERSION_FIELD: "version",
    handler_settings.COUNTER_FIELDS: "counters",
    handler_settings.TTL_DAYS: "ttl_days",
}
PARSES = settings(max_examples=max(200, settings().max_examples))


def environment_of(document: dict) -> tuple[object, dict[str, str]]:
    tenant = parse_tenant(to_yaml(document), f"tenants/{document['tenant']}.yaml")
    return tenant, handler_env.handler_environment(tenant, f"{tenant.tenant}-dev-serving", QUEUE_URL)


@PARSES
@given(document=tenant_documents())
def test_handler_env_sets_only_names_the_handler_reads_and_always_the_required_ones(document):
    tenant, environment = environment_of(document)
    unknown = {k for k in environment if k not in handler_settings.ALL and not k.startswith("POWERTOOLS_")}
    assert not unknown, f"tenant {tenant.tenant}: variables the handler never reads: {unknown}"
    missing = [name for name in ALWAYS if not environment.get(name)]
    assert not missing, f"tenant {tenant.tenant}: required variables missing: {missing}"
    for variable, field in OPTIONAL.items():
        assert (variable in environment) == bool(getattr(tenant.records, field)), f"{tenant.tenant}: {variable}"
    assert json.loads(environment[handler_settings.SCHEMA]) == tenant.records.schema_


@PARSES
@given(document=tenant_documents())
def test_handler_env_of_any_valid_tenant_file_is_accepted_by_the_handler(document):
    tenant, environment = environment_of(document)
    config = HandlerConfig.from_env(environment)
    assert (config.tenant, config.write_mode) == (tenant.tenant, tenant.records.write)
    assert config.partition_template.text == tenant.records.partition_key


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_handler_env_of_the_examples_stays_under_lambdas_4096_bytes(path):
    tenant = load_tenant(path)
    assert handler_env.estimated_size(tenant, "dev") < naming.LAMBDA_ENVIRONMENT_LIMIT
    assert handler_env.estimated_size(tenant, "production-eu-west-1") < naming.LAMBDA_ENVIRONMENT_LIMIT


def test_handler_env_refuses_a_huge_schema_with_a_records_schema_message():
    document = {
        "tenant": "huge",
        "owner": "o@example.com",
        "records": {
            "schema": {
                "type": "object",
                "properties": {f"field_{i:03}": {"type": "string", "description": "d" * 40} for i in range(80)},
            },
            "partition_key": "{field_000}",
        },
    }
    with pytest.raises(TenantFileError) as refused:
        parse_tenant(to_yaml(document), "tenants/huge.yaml")
    assert [line for line in refused.value.problems if line.startswith("tenants/huge.yaml: records.schema: ")]


def _counters_tenant(counter: str) -> dict:
    return {
        "tenant": "reserved",
        "owner": "o@example.com",
        "records": {
            "write": "counters",
            "schema": {"type": "object", "properties": {"page": {"type": "string"}, counter: {"type": "integer"}}},
            "partition_key": "page#{page}",
            "counters": [counter],
        },
        "archive": {"enabled": False},
    }


@pytest.mark.parametrize("name", sorted(handler_settings.COUNTERS_RESERVED_ATTRIBUTES))
def test_config_refuses_fields_the_handler_reserves(name):
    with pytest.raises(TenantFileError) as refused:
        parse_tenant(to_yaml(_counters_tenant(name)), "tenants/reserved.yaml")
    assert refused.value.problems == [
        f"tenants/reserved.yaml: records.schema.properties.{name}: {name!r} is reserved by the table (rename the field)"
    ]
