"""config.py: validated once, every error names the variable; explicit > environment > default."""

from __future__ import annotations

import pytest

from runtime import settings
from runtime.config import DEFAULT_DEDUPE_TTL_SECONDS, HandlerConfig
from runtime.exceptions import ConfigurationError

ENV = {
    settings.TENANT: "acme",
    settings.TABLE_NAME: "acme-table",
    settings.FAILURE_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/1/acme-failures",
    settings.PARTITION_KEY: "device#{device_id}",
}


def test_config_from_env_minimal_uses_defaults():
    cfg = HandlerConfig.from_env(ENV)
    assert cfg.write_mode == "events"
    assert cfg.partition_template.fields == ("device_id",)
    assert cfg.sort_template is None and cfg.validator is None and cfg.ttl_days is None
    assert cfg.dedupe_ttl_seconds == DEFAULT_DEDUPE_TTL_SECONDS


def test_config_from_env_full_counters():
    env = {
        **ENV,
        settings.WRITE_MODE: "counters",
        settings.COUNTER_FIELDS: "bytes, packets",
        settings.SORT_KEY: "{hour}",
        settings.SCHEMA: '{"type":"object"}',
        settings.TTL_DAYS: "30",
        settings.DEDUPE_TTL_SECONDS: "3600",
        settings.TIMESTAMP_FIELD: "ts",
        settings.EVENT_ID_FIELD: "id",
    }
    cfg = HandlerConfig.from_env(env)
    assert cfg.counter_fields == ("bytes", "packets")
    assert cfg.sort_template.fields == ("hour",) and cfg.ttl_days == 30 and cfg.dedupe_ttl_seconds == 3600
    assert cfg.validator({"a": 1}) == {"a": 1}


def test_config_explicit_argument_beats_environment():
    cfg = HandlerConfig.from_env({**ENV, settings.WRITE_MODE: "events"}, write_mode="latest", version_field="v")
    assert cfg.write_mode == "latest"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({settings.WRITE_MODE: "foo"}, "TRIBUTARY_WRITE_MODE: must be one of events, latest, counters (got 'foo')"),
        ({settings.TENANT: ""}, "TRIBUTARY_TENANT: is required"),
        ({settings.TABLE_NAME: None}, "TRIBUTARY_TABLE_NAME: is required"),
        ({settings.FAILURE_QUEUE_URL: None}, "TRIBUTARY_FAILURE_QUEUE_URL: is required"),
        ({settings.PARTITION_KEY: None}, "TRIBUTARY_PARTITION_KEY: is required"),
        ({settings.PARTITION_KEY: "device#{device_id"}, "TRIBUTARY_PARTITION_KEY: not a valid template"),
        ({settings.PARTITION_KEY: "{a:>10}"}, "TRIBUTARY_PARTITION_KEY: placeholder {a} must not have a format"),
        ({settings.SORT_KEY: "{}"}, "TRIBUTARY_SORT_KEY: placeholder {} is not a field name"),
        ({settings.WRITE_MODE: "latest"}, "TRIBUTARY_VERSION_FIELD: is required when TRIBUTARY_WRITE_MODE=latest"),
        ({settings.WRITE_MODE: "counters"}, "TRIBUTARY_COUNTER_FIELDS: is required"),
        ({settings.WRITE_MODE: "counters", settings.COUNTER_FIELDS: "a,,b"}, "TRIBUTARY_COUNTER_FIELDS: must be"),
        ({settings.WRITE_MODE: "counters", settings.COUNTER_FIELDS: "events"}, "TRIBUTARY_COUNTER_FIELDS: 'events'"),
        ({settings.SCHEMA: "{not json"}, "TRIBUTARY_SCHEMA: is not valid JSON"),
        ({settings.SCHEMA: "[1]"}, "TRIBUTARY_SCHEMA: must be a JSON Schema object"),
        ({settings.SCHEMA: '{"type": "nonsense"}'}, "TRIBUTARY_SCHEMA: is not a valid JSON Schema"),
        ({settings.TTL_DAYS: "0"}, "TRIBUTARY_TTL_DAYS: must be a positive integer (got '0')"),
        ({settings.TTL_DAYS: "ten"}, "TRIBUTARY_TTL_DAYS: must be a positive integer (got 'ten')"),
        ({settings.DEDUPE_TTL_SECONDS: "-5"}, "TRIBUTARY_DEDUPE_TTL_SECONDS: must be a positive integer"),
    ],
)
def test_config_invalid_value_error_names_the_variable(overrides, message):
    env = {k: v for k, v in {**ENV, **overrides}.items() if v is not None}
    with pytest.raises(ConfigurationError) as raised:
        HandlerConfig.from_env(env)
    assert str(raised.value).startswith(message), str(raised.value)
    assert raised.value.variable == message.split(":")[0]


def test_config_settings_all_lists_every_variable_name_once():
    names = [value for name, value in vars(settings).items() if name.isupper() and str(value).startswith("TRIBUTARY_")]
    assert sorted(settings.ALL) == sorted(names)
    assert len(set(settings.ALL)) == len(settings.ALL)
