"""The README's "Tenant file reference" says what the schema says: no field, type, default or range drifts.

The table is rendered from the schema (`python -m components.tenant_fields` prints it). Besides comparing
the README with that rendering, the defaults and ranges it states are checked against the loader itself:
a file that sets only the required fields loads with the stated defaults, and each stated range's ends
are accepted while one past them is refused with a line naming the field.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import TenantFileError, parse_tenant
from components.tenant_fields import reference_block

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "## Tenant file reference"
MINIMAL = {
    "tenant": "acme",
    "owner": "owner@example.com",
    "records": {"schema": {"type": "object", "properties": {"id": {"type": "string"}}}, "partition_key": "{id}"},
}


def _readme_block() -> list[str]:
    """The README's lines under the heading, up to the end of its table."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(HEADING) + 2
    end, in_table = start, False
    while end < len(lines):
        if lines[end].startswith("|"):
            in_table = True
        elif in_table:
            break
        end += 1
    return lines[start:end]


def _rows() -> dict[str, list[str]]:
    """Dotted field -> its cells (type, default, range, meaning), from the README's table."""
    rows: dict[str, list[str]] = {}
    for line in _readme_block():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip("|").replace("\\|", "\x00").split("|")]
        rows[cells[0].strip("`")] = [cell.replace("\x00", "|") for cell in cells[1:]]
    return rows


def _load(document: dict[str, Any]):
    return parse_tenant(yaml.safe_dump(document), "tenants/acme.yaml")


def _value_at(tenant: Any, path: str) -> Any:
    value = tenant
    for part in path.split("."):
        value = getattr(value, "schema_" if part == "schema" else part)
    return value


def _with(path: str, value: Any) -> dict[str, Any]:
    document = yaml.safe_load(yaml.safe_dump(MINIMAL))
    *sections, key = path.split(".")
    target = document
    for section in sections:
        target = target.setdefault(section, {})
    target[key] = value
    if path == "stream.shards":
        target["mode"] = "provisioned"
    if path == "archive.buffer_mb":
        target["format"] = "json"  # parquet's own minimum is a rule between fields, not the range
    if path == "stream.retention_hours":  # the record age stays within the shortest retention
        document.setdefault("processing", {})["max_record_age_seconds"] = 60
    if path == "processing.max_record_age_seconds":  # the longest retention holds the oldest record age
        longest = _rows()["stream.retention_hours"][2].split("..")[1]
        document["stream"] = {"retention_hours": int(longest)}
    return document


def test_readme_reference_table_is_the_schema_rendering():
    expected = reference_block().splitlines()
    found = _readme_block()
    diff = "\n".join(difflib.unified_diff(found, expected, "README.md", "schema", lineterm=""))
    assert found == expected, (
        "README.md's tenant file reference differs from the schema; replace it with the output of "
        f"`python -m components.tenant_fields`:\n{diff}"
    )


def test_readme_reference_table_states_the_defaults_a_minimal_file_loads_with():
    tenant = _load(MINIMAL)
    for path, (_, default, _, _) in _rows().items():
        if default == "—" or path.startswith("account."):  # required, or in a section that is off by default
            continue
        loaded = _value_at(tenant, path)
        stated = None if default == "none" else yaml.safe_load(default.strip("`"))
        assert loaded == stated, f"README says {path} defaults to {default}, the loader gives {loaded!r}"


@pytest.mark.parametrize(
    "path", [path for path, cells in _rows().items() if ".." in cells[2] and "char" not in cells[2]]
)
def test_readme_reference_table_states_each_range_the_loader_enforces(path):
    low, high = (int(end) for end in _rows()[path][2].split(".."))
    for inside in (low, high):
        assert _value_at(_load(_with(path, inside)), path) == inside
    for outside in (low - 1, high + 1):
        with pytest.raises(TenantFileError) as refused:
            _load(_with(path, outside))
        assert any(line.startswith(f"tenants/acme.yaml: {path}: ") for line in refused.value.problems), (
            path,
            outside,
            refused.value.problems,
        )


def test_readme_reference_table_names_exactly_the_required_fields():
    required = [path for path, cells in _rows().items() if cells[1] == "—" and not path.startswith("account.")]
    for path in required:
        document = yaml.safe_load(yaml.safe_dump(MINIMAL))
        *sections, key = path.split(".")
        target = document
        for section in sections:
            target = target[section]
        del target[key]
        with pytest.raises(TenantFileError) as refused:
            _load(document)
        assert f"tenants/acme.yaml: {path}: required" in refused.value.problems, refused.value.problems
