"""The starting tenant file `tributary new NAME` writes: valid as is, every field with its comment.

The file is rendered from the schema: each field's value is its default, or its example when it has none
(optional fields without a default are written commented out, ready to switch on), and its comment is the
field's description with its range or choices. Only the choices a starting file makes are kept here.
"""

from __future__ import annotations

from typing import Any

import yaml

from components.tenant_fields import DocumentedField, describe, section_fields, section_model
from components.tenant_schema import TenantFile

HEADER = '# Tenant file for {name}. Reference: README.md, "Tenant file reference". Check it: tributary validate'
# Optional fields the starting file sets to their example: a new pipeline should deduplicate on the
# producer's event id and bucket its keys by event time, not arrival time.
SET_IN_STARTER = ("records.sort_key", "records.event_id", "records.timestamp")
# Comments start in this column when the setting leaves room, so they read as one column.
COMMENT_COLUMN = 31


def new_tenant_file(name: str) -> str:
    """The starting file for tenant `name`, as text."""
    lines = [HEADER.format(name=name)]
    for key, info in TenantFile.model_fields.items():
        section = section_model(info)
        if section is None:
            lines += _field_lines(describe(info, info.alias or key), "", {"tenant": name})
            continue
        fields = list(section_fields(section, f"{key}."))
        # An optional section that is off by default is written out whole, with examples, and commented out.
        off = not info.is_required() and info.default is None
        examples = {field.path: field.example for field in fields if off and field.example is not None}
        lines += ["", f"# {section.__doc__}" if section.__doc__ else "", _commented(f"{key}:", off)]
        for field in fields:
            lines += _field_lines(field, "  ", examples, off)
        lines.append("")
    text = "\n".join(line for index, line in enumerate(lines) if line or lines[index - 1])
    return text.rstrip("\n") + "\n"


def _field_lines(field: DocumentedField, indent: str, given: dict[str, Any], off: bool = False) -> list[str]:
    """`key: value  # comment` for one field, and a block value's lines under it; all commented out if `off`."""
    if field.path in given:
        value, commented = given[field.path], False
    elif field.required or field.default is not None:
        value, commented = (field.example if field.required else field.default), False
    else:
        value, commented = field.example, field.path not in SET_IN_STARTER
    commented = commented or off
    text = _yaml(value)
    block = "\n" in text
    setting = _commented(f"{indent}{field.key}:" + ("" if block else f" {text}"), commented)
    comment = _comment(field)
    lines = [f"{setting:<{COMMENT_COLUMN - 1}} # {comment}" if comment else setting]
    if block:
        lines += [_commented(f"{indent}  {item}", commented) for item in text.splitlines()]
    return lines


def _comment(field: DocumentedField) -> str:
    """The field's range or choices, then its description."""
    constraint = field.bounds or " | ".join(field.choices)
    if field.description and constraint:
        return f"{constraint}: {field.description}"
    return field.description or constraint


def _yaml(value: Any) -> str:
    """`value` as YAML: a scalar or a flow collection on one line, a nested mapping as a block."""
    text = yaml.safe_dump(value, default_flow_style=None, sort_keys=False, allow_unicode=True, width=1000)
    return text.removesuffix("...\n").rstrip("\n")


def _commented(line: str, commented: bool) -> str:
    """`line` commented out at its own indentation, so that removing `# ` switches it on."""
    if not commented or not line:
        return line
    setting = line.lstrip(" ")
    return f"{line[: len(line) - len(setting)]}# {setting}"
