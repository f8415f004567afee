"""The tenant file: every valid file loads; every invalid one is refused with one line per problem.

A line is `<file>: <dotted.field>: <message>` (or `<file>: <message>` for the file as a whole), and
nothing but TenantFileError ever leaves the loader.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from strategies import tenant_documents, to_yaml
from tenant_mutations import InvalidFile, invalid_files

from components.config import TenantFileError, load_tenant, load_tenants, parse_tenant, tenant_files

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Parsing is cheap: many examples in every profile.
PARSES = settings(
    max_examples=max(200, settings().max_examples), suppress_health_check=[HealthCheck.large_base_example]
)


def problem_lines(text: str, source: str, stack: str = "dev") -> list[str]:
    with pytest.raises(TenantFileError) as refused:
        parse_tenant(text, source, stack)
    return refused.value.problems


def assert_names_field(lines: list[str], source: str, field: str | None) -> None:
    assert lines, f"{source}: refused without a problem line"
    for line in lines:
        assert line.startswith(f"{source}: "), f"line does not start with the file: {line!r}"
        assert line[len(source) + 2 :].strip(), f"line has no message: {line!r}"
        assert "\n" not in line and "Traceback" not in line, f"not one line: {line!r}"
    if field is not None:
        rest = [line[len(source) + 2 :] for line in lines]
        named = [r for r in rest if r.startswith(field) and r[len(field) : len(field) + 1] in (":", ".", "[")]
        assert named, f"no line names {field}: {lines}"


@PARSES
@given(document=tenant_documents())
def test_config_accepts_every_generated_valid_tenant_file(document):
    tenant = parse_tenant(to_yaml(document), f"tenants/{document['tenant']}.yaml")
    assert tenant.tenant == document["tenant"]
    assert tenant.records.schema_ == document["records"]["schema"]


@PARSES
@given(invalid=invalid_files())
def test_config_refuses_every_invalid_file_with_lines_naming_the_field(invalid: InvalidFile):
    event(invalid.mutation)
    try:
        parse_tenant(invalid.text, invalid.source)
    except TenantFileError as error:
        assert_names_field(error.problems, invalid.source, invalid.field)
    else:
        pytest.fail(f"{invalid.mutation}: accepted an invalid file:\n{invalid.text}")


@pytest.mark.parametrize("path", tenant_files(PROJECT_ROOT / "tenants"), ids=lambda path: path.stem)
def test_config_accepts_every_example_tenant_file(path):
    assert load_tenant(path).tenant == path.stem


def test_config_reports_the_aws_limit_when_a_24_character_name_meets_a_long_stack():
    name = "a" * 24
    text = (PROJECT_ROOT / "tenants" / "sensors.yaml").read_text().replace("tenant: sensors", f"tenant: {name}")
    source = f"tenants/{name}.yaml"
    lines = problem_lines(text, source, stack="production-eu-west")
    assert_names_field(lines, source, "tenant")
    assert any("S3 bucket name" in line and "above AWS's limit of 63" in line for line in lines), lines
    parse_tenant(text, source, stack="dev")  # the same file fits a short stack


def test_config_refuses_a_schema_too_large_for_the_lambda_environment():
    text = (PROJECT_ROOT / "tenants" / "sensors.yaml").read_text()
    huge = text.replace("    type: object\n", "    type: object\n    description: " + "x" * 5000 + "\n", 1)
    lines = problem_lines(huge, "tenants/sensors.yaml")
    assert any(line.startswith("tenants/sensors.yaml: records.schema: ") and "4096" in line for line in lines)


def test_config_loading_collects_the_problems_of_every_file(tmp_path):
    (tmp_path / "one.yaml").write_text("tenant: one\n")
    (tmp_path / "two.yaml").write_text("- not a mapping\n")
    with pytest.raises(TenantFileError) as refused:
        load_tenants(tenant_files(tmp_path))
    assert {line.split(": ")[0] for line in refused.value.problems} == {
        str(tmp_path / "one.yaml"),
        str(tmp_path / "two.yaml"),
    }


def test_config_refuses_two_files_defining_the_same_tenant(tmp_path):
    text = (PROJECT_ROOT / "tenants" / "sensors.yaml").read_text()
    (tmp_path / "sensors.yaml").write_text(text)
    (tmp_path / "sensors.yml").write_text(text)
    with pytest.raises(TenantFileError) as refused:
        load_tenants(tenant_files(tmp_path))
    assert any("already defined" in line for line in refused.value.problems)


@pytest.mark.parametrize("text", ["[" * 5000, "records: " + "{a: " * 3000 + "1" + "}" * 3000])
def test_config_reports_deeply_nested_yaml_as_a_problem_line(text):
    assert_names_field(problem_lines(text, "tenants/deep.yaml"), "tenants/deep.yaml", None)


# Ways a schema nests: each level costs the validators (meta-schema, compiler) at most the stack it costs YAML.
SCHEMA_NESTINGS = {
    "items": lambda depth: "{items: " * depth + "{}" + "}" * depth,
    "properties": lambda depth: "{type: object, properties: {a: " * depth + "{}" + "}}" * depth,
    "const": lambda depth: "{const: " + "[" * depth + "]" * depth + "}",
}
DEEP_SCHEMA = """tenant: deep
owner: o@example.com
records:
  partition_key: "{id}"
  schema: {type: object, properties: {id: {type: string}, deep: %s}}
"""


@pytest.mark.parametrize("shape", sorted(SCHEMA_NESTINGS))
def test_config_refuses_schemas_nested_up_to_and_past_the_yaml_limit_with_lines(shape):
    # The loader catches no RecursionError: the YAML reader refuses a file before validation could recurse.
    for depth in range(20, 420, 20):
        try:
            parse_tenant(DEEP_SCHEMA % SCHEMA_NESTINGS[shape](depth), "tenants/deep.yaml")
        except TenantFileError as refused:
            assert_names_field(refused.problems, "tenants/deep.yaml", None)
            last = refused.problems
        else:
            last = []
    assert any("nested too deeply" in line for line in last), f"{shape}: the deepest schema was not refused: {last}"


def test_config_refuses_schema_properties_that_collide_as_archive_columns():
    document = {
        "tenant": "cased",
        "owner": "o@example.com",
        "records": {
            "schema": {"type": "object", "properties": {"Id": {"type": "string"}, "id": {"type": "string"}}},
            "partition_key": "{id}",
        },
    }
    lines = problem_lines(to_yaml(document), "tenants/cased.yaml")
    assert_names_field(lines, "tenants/cased.yaml", "records.schema.properties")
