"""The tenant file's fields as documentation: read from the schema, never restated.

`documented_fields()` walks `TenantFile` and says, for every field, its dotted path, type, default, range
and description, all taken from the pydantic models in `tenant_schema.py`. The README's "Tenant file
reference" is `reference_block()` (a test holds the README to it; `python -m components.tenant_fields`
prints it), the starting file `tributary new` writes is rendered from the same records
(`components/new_tenant.py`), and the tests draw values from `integer_ranges()`.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, EmailStr
from pydantic.fields import FieldInfo

from components.tenant_schema import Kind, Range, TenantFile

_TYPE_NAMES = {bool: "bool", int: "int", float: "number", str: "string", dict: "map", EmailStr: "email"}


@dataclass(frozen=True)
class DocumentedField:
    """One field of a tenant file, as the schema declares it."""

    path: str  # dotted, as the file spells it: `records.schema`
    type_name: str
    required: bool  # within its section
    default: Any  # None when the field has no default (required) or defaults to none
    range: Range | None
    bounds: str  # the range or numeric bounds in words, "" when there are none
    limits: str  # what the reference's range column says: bounds, length or pattern
    choices: tuple[str, ...]  # the values a Literal field takes
    description: str
    example: Any  # the first of the field's `examples`, None without any
    constraints: tuple[Any, ...]  # the metadata pydantic validates with: Range, annotated_types.Gt, MaxLen, ...

    @property
    def key(self) -> str:
        """The field's own key, without its section."""
        return self.path.rsplit(".", 1)[-1]


def section_model(info: FieldInfo) -> type[BaseModel] | None:
    """The section model a field of `TenantFile` holds (`Stream` for `stream`), None for a plain field."""
    annotation, _ = _unwrap(info.annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def section_fields(model: type[BaseModel], prefix: str = "") -> Iterator[DocumentedField]:
    """The plain fields of `model` in declaration order; `prefix` is the section's dotted path."""
    for name, info in model.model_fields.items():
        if section_model(info) is None:
            yield describe(info, f"{prefix}{info.alias or name}")


def documented_fields() -> list[DocumentedField]:
    """Every field a tenant file may set, in the order the file declares them, sections' fields by path."""
    fields: list[DocumentedField] = []
    for name, info in TenantFile.model_fields.items():
        section = section_model(info)
        if section is None:
            fields.append(describe(info, info.alias or name))
        else:
            fields.extend(section_fields(section, f"{name}."))
    return fields


def required_paths() -> list[str]:
    """The fields every tenant file must set: required fields of the file and of its required sections."""
    paths: list[str] = []
    for name, info in TenantFile.model_fields.items():
        if not info.is_required():
            continue
        section = section_model(info)
        if section is None:
            paths.append(info.alias or name)
        else:
            paths += [field.path for field in section_fields(section, f"{name}.") if field.required]
    return paths


def integer_ranges() -> dict[str, Range]:
    """Dotted path -> the range of every bounded integer field."""
    return {field.path: field.range for field in documented_fields() if field.range is not None}


def field_at(path: str) -> DocumentedField:
    """The documented field at dotted `path`; KeyError if the schema has none."""
    found = {field.path: field for field in documented_fields()}
    return found[path]


def describe(info: FieldInfo, path: str) -> DocumentedField:
    """What the schema says of one field."""
    annotation, metadata = _unwrap(info.annotation)
    metadata = [*info.metadata, *metadata]
    range_ = next((item for item in metadata if isinstance(item, Range)), None)
    kind = next((item for item in metadata if isinstance(item, Kind)), None)
    bounds = str(range_) if range_ else _numeric_bounds(metadata)
    pattern = next((item.pattern for item in metadata if getattr(item, "pattern", None)), None)
    limits = bounds or _length(metadata) or (f"`{pattern}`" if pattern and kind is None else "")
    required = info.is_required()
    return DocumentedField(
        path=path,
        type_name=kind.name if kind else _type_name(annotation),
        required=required,
        default=None if required else info.get_default(call_default_factory=True),
        range=range_,
        bounds=bounds,
        limits=limits,
        choices=tuple(str(value) for value in get_args(annotation)) if get_origin(annotation) is Literal else (),
        description=info.description or "",
        example=info.examples[0] if info.examples else None,
        constraints=tuple(metadata),
    )


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The type under `Annotated[...]` and `X | None`, with the metadata met on the way (flattened)."""
    metadata: list[Any] = []
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            metadata += annotation.__metadata__
            annotation = annotation.__origin__
        elif origin in (Union, types.UnionType) and type(None) in get_args(annotation):
            (annotation,) = (arg for arg in get_args(annotation) if arg is not type(None))
        else:
            break
    flat: list[Any] = []
    for item in metadata:  # a `Field(...)` inside `Annotated` carries its own constraints
        flat.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return annotation, flat


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is Literal:
        return " | ".join(f"`{value}`" for value in get_args(annotation))
    if origin is list:
        (item,) = get_args(annotation)
        item_type, item_metadata = _unwrap(item)
        kind = next((meta for meta in item_metadata if isinstance(meta, Kind)), None)
        return f"list of {kind.name if kind else _type_name(item_type)}s"
    return _TYPE_NAMES.get(origin or annotation, getattr(annotation, "__name__", str(annotation)))


def _numeric_bounds(metadata: list[Any]) -> str:
    words = {
        annotated_types.Gt: ("above", "gt"),
        annotated_types.Ge: ("at least", "ge"),
        annotated_types.Lt: ("below", "lt"),
        annotated_types.Le: ("at most", "le"),
    }
    parts = [
        f"{words[type(item)][0]} {_plain(getattr(item, words[type(item)][1]))}"
        for item in metadata
        if type(item) in words
    ]
    return ", ".join(parts)


def _length(metadata: list[Any]) -> str:
    low = next((item.min_length for item in metadata if isinstance(item, annotated_types.MinLen)), None)
    high = next((item.max_length for item in metadata if isinstance(item, annotated_types.MaxLen)), None)
    if high is None:
        return ""
    return f"{low}..{high} characters" if low else f"at most {high} characters"


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# ---------------------------------------------------------------------------------------------------------
# The README's reference table.


def default_text(field: DocumentedField) -> str:
    """A default as the reference writes it: — when required, none when absent, YAML spelling otherwise."""
    if field.required:
        return "—"
    if field.default is None:
        return "none"
    if isinstance(field.default, bool):
        return f"`{str(field.default).lower()}`"
    if isinstance(field.default, int | float):
        return str(_plain(field.default))
    return f"`{json.dumps(field.default)}`" if field.default in ("", {}, []) else f"`{field.default}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def reference_block() -> str:
    """The README's "Tenant file reference" text: which fields are required, then one row per field."""
    required = [f"`{path}`" for path in required_paths()]
    lines = [
        f"Unknown keys are errors. Only {', '.join(required[:-1])} and {required[-1]} are required.",
        "",
        "| field | type | default | range | meaning |",
        "|---|---|---|---|---|",
    ]
    for field in documented_fields():
        cells = (f"`{field.path}`", field.type_name, default_text(field), field.limits, field.description)
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(reference_block())
