"""Hostile and mistaken tenant files are refused quickly, with one readable line per problem.

Each test names the input that used to slip through or blow up: several problems in one file, key templates the
handler reads differently, schemas that are not JSON Schema, and messages in pydantic's words instead of ours.
What is refused before the content is read (alias bombs, special files, repeated keys) is
`test_tenant_file_reading.py`'s.
"""

from __future__ import annotations

import pytest
from sensors_file import PROJECT_ROOT, SENSORS, SOURCE, problem_lines, sensors_with

from components import handler_env
from components.config import TenantFileError, parse_tenant
from components.stack import read_stack_file
from runtime.config import HandlerConfig

# ---------------------------------------------------------------------------------------------------------
# Every problem, not the first


def test_config_reports_six_independent_problems_on_six_lines():
    text = (
        sensors_with("batch_size: 500", "batch_size: 20000")
        .replace(
            "  batch_window_seconds: 5\n",
            "  batch_window_seconds: 5\n  batch_sise: 50\n  max_record_age_seconds: 500000\n",
        )
        .replace("  retention_hours: 48\n", "  retention_hours: 48\n  shards: 3\n")
        .replace('"device#{device_id}"', '"device#{serial}"')
        .replace("tags: {team: iot,", "tags: {stack: blue, team: iot,")
    )
    lines = problem_lines(text)
    assert sorted(lines) == sorted(
        [
            f"{SOURCE}: tags.stack: is set by tributary on every resource",
            f"{SOURCE}: stream.shards: only allowed when mode is provisioned (on_demand scales by itself)",
            f"{SOURCE}: processing.batch_size: must be between 1 and 10000 (got 20000)",
            f"{SOURCE}: processing.batch_sise: unknown field (did you mean 'batch_size'?)",
            f"{SOURCE}: records.partition_key: names {{serial}}, which the schema does not declare",
            f"{SOURCE}: processing.max_record_age_seconds: 500000 is above the stream's retention (172800 s)",
        ]
    ), lines


def test_config_reports_every_problem_of_the_records_section():
    text = sensors_with("  write: events\n", "  write: latest\n").replace('"{hour}"', '"{nope}"')
    text = text.replace("  timestamp: recorded_at\n", "  timestamp: when\n")
    lines = problem_lines(text)
    assert sorted(lines) == sorted(
        [
            f"{SOURCE}: records.sort_key: names {{nope}}, which the schema does not declare",
            f"{SOURCE}: records.timestamp: names field 'when', which the schema does not declare",
            f"{SOURCE}: records.version: required when write is latest (newer versions replace older state)",
        ]
    ), lines


def test_config_reports_the_aws_name_problems_of_a_file_with_other_problems():
    name = "a" * 24
    text = sensors_with("tenant: sensors", f"tenant: {name}").replace("batch_size: 500", "batch_size: 0")
    with pytest.raises(TenantFileError) as refused:
        parse_tenant(text, f"tenants/{name}.yaml", stack="production-eu-west")
    lines = refused.value.problems
    assert any(": processing.batch_size: must be between 1 and 10000 (got 0)" in line for line in lines), lines
    assert any(": tenant: S3 bucket name" in line for line in lines), lines


# ---------------------------------------------------------------------------------------------------------
# Key templates: the handler's parser decides


@pytest.mark.parametrize(
    ("key", "template", "expected"),
    [
        ("partition_key", "device#{device_id}}", "not a valid template (Single '}' encountered in format string)"),
        ("sort_key", "x#{", "not a valid template (Single '{' encountered in format string)"),
        ("partition_key", "{{device_id}}", "must name at least one payload field"),
        ("sort_key", "{device_id!r}", "placeholder {device_id} must not have a format spec or conversion"),
        ("sort_key", "{device id}", "placeholder {device id} is not a field name or dotted path"),
    ],
)
def test_config_refuses_templates_the_handler_refuses_or_reads_as_literal_text(key, template, expected):
    old = '"device#{device_id}"' if key == "partition_key" else '"{hour}"'
    lines = problem_lines(sensors_with(old, f'"{template}"'))
    assert len(lines) == 1 and lines[0].startswith(f"{SOURCE}: records.{key}: {expected}"), lines


def test_config_reads_doubled_braces_in_a_sort_key_as_the_handler_does_literal_text():
    tenant = parse_tenant(sensors_with('"{hour}"', '"{{undeclared}}#{hour}"'), SOURCE)
    environment = handler_env.handler_environment(tenant, "sensors-dev-serving", "https://sqs.example/q")
    config = HandlerConfig.from_env(environment)
    assert config.sort_template is not None and config.sort_template.fields == ("hour",)


# ---------------------------------------------------------------------------------------------------------
# records.schema is a JSON Schema


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            "required: [device_id, reading_id, recorded_at, temperature]",
            "required: [true]",
            "records.schema.required[0]",
            "must be string",
        ),
        (
            "humidity: {type: number,",
            "humidity: {type: numbr,",
            "records.schema.properties.humidity.type",
            "not one of the forms",
        ),
        (
            "firmware: {type: string}",
            "firmware: {type: string, pattern: '('}",
            "records.schema.properties.firmware.pattern",
            "must be a valid regex",
        ),
        ("firmware: {type: string}", "firmware: 5", "records.schema.properties.firmware", "must be object or boolean"),
        ("minimum: -80", "minimum: low", "records.schema.properties.temperature.minimum", "must be number"),
    ],
)
def test_config_refuses_a_schema_its_meta_schema_refuses(old, new, field, message):
    lines = problem_lines(sensors_with(old, new))
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{SOURCE}: {field}: is not valid JSON Schema: "), lines
    assert message in lines[0], lines


def test_config_checks_a_draft_04_schema_against_the_draft_04_meta_schema():
    text = sensors_with(
        "    type: object\n", "    $schema: http://json-schema.org/draft-04/schema#\n    type: object\n"
    )
    accepted = parse_tenant(text.replace("minimum: -80", "minimum: -80, exclusiveMinimum: true"), SOURCE)
    assert accepted.records.schema_["properties"]["temperature"]["exclusiveMinimum"] is True
    lines = problem_lines(text.replace("minimum: -80", "minimum: -80, exclusiveMinimum: -81"))
    assert lines[0].startswith(f"{SOURCE}: records.schema.properties.temperature.exclusiveMinimum: "), lines


def test_config_leaves_the_schema_as_written_when_checking_it():
    tenant = parse_tenant(SENSORS, SOURCE)
    assert "additionalProperties" not in tenant.records.schema_  # the meta-schema's defaults are not filled in
    assert "definitions" not in tenant.records.schema_


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "firmware: {type: string}",
            "firmware: {const: 2020-01-01}",
            "records.schema.properties.firmware.const: is a YAML date, which JSON does not have; quote it",
        ),
        (
            "maximum: 150",
            "maximum: .nan",
            "records.schema.properties.temperature.maximum: must be a finite number (got nan)",
        ),
        (
            "      firmware: {type: string}",
            "      5: {type: string}",
            "records.schema.properties: the key 5 must be text, as JSON keys are; quote it",
        ),
        (
            "firmware: {type: string}",
            "firmware: {const: !!binary aGVsbG8=}",
            "records.schema.properties.firmware.const: is a YAML binary value, which JSON does not have; quote it",
        ),
    ],
    ids=["date", "nan", "number-key", "binary"],
)
def test_config_refuses_a_schema_with_values_json_does_not_have(old, new, expected):
    assert problem_lines(sensors_with(old, new)) == [f"{SOURCE}: {expected}"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("tags: {team: iot,", "tags: {true: iot,", "tags: the key true must be text; quote it"),
        ('labels: {cell: "1",', 'labels: {~: "1",', "labels: the key null must be text; quote it"),
        ("tenant: sensors\n", "tenant: sensors\n5: five\n", "the key 5 must be text; quote it"),
    ],
    ids=["tags", "labels", "top-level"],
)
def test_config_refuses_keys_that_are_not_text(old, new, expected):
    assert problem_lines(sensors_with(old, new)) == [f"{SOURCE}: {expected}"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "counters: [clicks, views, dwell_ms]",
            "counters: [clicks, views, clicks]",
            "records.counters[2]: names field 'clicks' twice (each counter is summed once)",
        ),
        (
            "counters: [clicks, views, dwell_ms]",
            "counters: [clicks, 'views,dwell_ms']",
            "records.counters[1]: must not contain ',' (got 'views,dwell_ms')",
        ),
        (
            "event_id: event_id",
            "event_id: ' event_id'",
            "records.event_id: must not start or end with spaces (got ' event_id')",
        ),
    ],
    ids=["repeated-counter", "comma", "spaces"],
)
def test_config_refuses_field_names_the_handler_would_read_differently(old, new, expected):
    clicks = (PROJECT_ROOT / "tenants" / "clicks.yaml").read_text(encoding="utf-8")
    assert old in clicks
    assert problem_lines(clicks.replace(old, new), "tenants/clicks.yaml") == [f"tenants/clicks.yaml: {expected}"]


# ---------------------------------------------------------------------------------------------------------
# Messages for people


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            sensors_with("description: Temperature", "description: " + "x" * 300),
            "description: must be at most 256 characters (got 341)",
        ),
        (
            SENSORS + "alarms: {error_rate_percent: .nan}\n",
            "alarms.error_rate_percent: must be a finite number (got nan)",
        ),
        (SENSORS + "alarms: {error_rate_percent: 0}\n", "alarms.error_rate_percent: must be greater than 0 (got 0)"),
        (
            SENSORS + "alarms: {notify: [ops@]}\n",
            "alarms.notify[0]: There must be something after the @-sign. (got 'ops@')",
        ),
        (
            sensors_with("  retention_hours: 48\n", "  retention_hours: 48\n  producers: [arn:aws:iam::1:role/x]\n"),
            "stream.producers[0]: must be an IAM role ARN",
        ),
        (
            SENSORS + "account: {role_arn: 'arn:aws:iam::123456789012:role/d', region: europe}\n",
            "account.region: must be an AWS region code",
        ),
        (
            sensors_with("batch_size: 500", "batch_size: " + "9" * 4000),
            "processing.batch_size: must be between 1 and 10000 (got a number of about",
        ),
        ("tenant: \x00\n", "not valid YAML: character #x0000 at position 9 is not allowed in YAML"),
        (
            sensors_with("ttl_days: 90", "ttl_days: 2020-13-45"),
            "line 29, column 13: '2020-13-45' cannot be read as a date or time",
        ),
        (sensors_with("ttl_days: 90", "ttl_days: " + "1" * 5000), "cannot be read as a whole number"),
    ],
    ids=["description", "nan", "zero", "email", "role-arn", "region", "huge-int", "nul", "bad-date", "int-digits"],
)
def test_config_says_each_problem_in_words(text, expected):
    lines = problem_lines(text)
    assert any(expected in line for line in lines), lines
    assert all(len(line) < 400 for line in lines), lines
    assert not any("not valid YAML: not valid YAML" in line for line in lines), lines


def test_config_keeps_a_key_with_control_characters_on_one_line():
    lines = problem_lines(SENSORS + 'labels2: 1\n"bad\\nkey\\u2028": 2\n')
    assert any(line.startswith(f"{SOURCE}: bad\\nkey\\u2028: unknown field") for line in lines), lines


def test_stack_settings_say_a_bad_layer_version_in_words(tmp_path):
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  tributary:powertoolsLayerVersion: 0\n", encoding="utf-8")
    with pytest.raises(TenantFileError) as refused:
        read_stack_file(tmp_path, "dev")
    assert any("powertoolsLayerVersion: must be at least 1 (got 0)" in line for line in refused.value.problems)
