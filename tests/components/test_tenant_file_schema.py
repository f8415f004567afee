"""The schema is where a tenant field is described: every field carries its description, default and range,
and the starting file `tributary new` writes takes its values and comments from there."""

from __future__ import annotations

import pytest
import yaml

from components.config import parse_tenant
from components.new_tenant import SET_IN_STARTER, new_tenant_file
from components.tenant_fields import documented_fields, integer_ranges
from components.tenant_schema import Processing

FIELDS = documented_fields()
STARTER = new_tenant_file("acme")


def _uncommented(text: str, key: str) -> str:
    """`text` with the commented-out setting `key` switched on."""
    return "\n".join(line.replace(f"# {key}:", f"{key}:", 1) for line in text.splitlines()) + "\n"


@pytest.mark.parametrize("field", FIELDS, ids=lambda field: field.path)
def test_schema_describes_every_field(field):
    assert field.description, f"{field.path} has no description"


# The starting file takes the tenant's name from `tributary new NAME`: the one field with no default nor example.
@pytest.mark.parametrize(
    "field", [f for f in FIELDS if f.default is None and f.path != "tenant"], ids=lambda field: field.path
)
def test_schema_gives_an_example_for_every_field_without_a_default(field):
    assert field.example is not None, f"{field.path} has neither a default nor an example to start from"


def test_schema_bounds_every_integer_field_with_a_range_as_data():
    integers = {field.path for field in FIELDS if field.type_name == "int"}
    assert "processing.batch_size" in integers, "the walk over the schema found no integer field"
    assert set(integer_ranges()) == integers, "an integer field without a Range, or a Range on another type"


def test_starter_file_is_accepted_with_every_schema_default():
    tenant = parse_tenant(STARTER, "tenants/acme.yaml")
    written = yaml.safe_load(STARTER)
    for field in FIELDS:
        section, _, key = field.path.rpartition(".")
        holder = written.get(section, {}) if section else written
        if field.default is not None:
            assert holder.get(key) == field.default, f"{field.path}: {holder.get(key)!r} is not the default"
    assert tenant.processing == Processing()


def test_starter_file_comments_every_field_with_its_description_and_range():
    lines = STARTER.splitlines()
    for field in FIELDS:
        indent = "  " if "." in field.path else ""
        starts = (f"{indent}{field.key}:", f"{indent}# {field.key}:")
        line = next((line for line in lines if line.startswith(starts)), None)
        assert line is not None, f"{field.path} is not in the starting file"
        assert field.description in line, f"{field.path}: the comment is not the schema's description: {line!r}"
        if field.range is not None:
            assert f"{field.range.low}..{field.range.high}" in line, line


@pytest.mark.parametrize(
    "key",
    [f.key for f in FIELDS if f.default is None and f.example is not None and f.path not in SET_IN_STARTER],
)
def test_starter_file_optional_example_is_valid_when_switched_on(key):
    text = _uncommented(STARTER, key)
    if key == "shards":
        text = text.replace("mode: on_demand", "mode: provisioned")
    if key in ("role_arn", "region"):
        text = _uncommented(_uncommented(_uncommented(text, "account"), "role_arn"), "region")
    if key in ("version", "counters"):
        text = text.replace("write: events", f"write: {'latest' if key == 'version' else 'counters'}")
    parse_tenant(text, "tenants/acme.yaml")
