"""`records.schema` is a JSON document and a JSON Schema: checked as both before it is used.

The handler receives the schema as JSON text, so the YAML it is written in may use nothing JSON lacks.
fastjsonschema compiles a schema without checking it (`required: [true]` compiles, and the validator then
refuses every record), so the tenant file's schema is first validated against the official meta-schema.
The meta-schemas in `meta_schemas/` are json-schema.org's, unchanged (http://json-schema.org/draft-07/schema,
http://json-schema.org/draft-06/schema, http://json-schema.org/draft-04/schema). The draft is chosen as the
handler's compiler chooses it (fastjsonschema: by `$schema`, else its newest); schemas for drafts newer than
07 are checked against draft 07, whose keywords they keep with the same shapes.
"""

from __future__ import annotations

import datetime
import functools
import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import fastjsonschema

from components.problems import quote

_META_SCHEMAS = Path(__file__).with_name("meta_schemas")
# (text `$schema` contains, meta-schema file), first match wins, as fastjsonschema picks its code generator.
_DRAFTS = (("draft-04", "draft-04.json"), ("draft-06", "draft-06.json"))
_DEFAULT_DRAFT = "draft-07.json"
_YAML_KINDS = {datetime.date: "date", datetime.datetime: "timestamp", bytes: "binary value", set: "set"}


@functools.cache
def _meta_validator(file_name: str) -> Callable[[Any], Any]:
    definition = json.loads((_META_SCHEMAS / file_name).read_text(encoding="utf-8"))
    # use_default=False: the meta-schema's defaults must never be written into the tenant's schema.
    return fastjsonschema.compile(definition, use_default=False)


def _draft_of(schema: Mapping[str, Any]) -> str:
    declared = schema.get("$schema")
    declared = declared if isinstance(declared, str) else ""
    return next((file_name for marker, file_name in _DRAFTS if marker in declared), _DEFAULT_DRAFT)


def json_problem(value: Any) -> tuple[str, str] | None:
    """(path, message) for the first part of `value` that JSON cannot hold, or None.

    YAML has more than JSON: keys that are numbers or dates, dates, binary values, sets, NaN. The handler
    receives the schema as JSON, so such a schema would change meaning on the way or not arrive at all.
    Walked with an explicit stack: a deep value costs no recursion here.
    """
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:
        path, node = pending.pop()
        if isinstance(node, dict):
            for key in node:
                if not isinstance(key, str):
                    return path, f"the key {quote(key)} must be text, as JSON keys are; quote it"
            pending.extend((_child(path, key), child) for key, child in reversed(node.items()))
        elif isinstance(node, list):
            pending.extend((f"{path}[{index}]", child) for index, child in reversed(list(enumerate(node))))
        elif isinstance(node, float) and not math.isfinite(node):
            return path, f"must be a finite number (got {quote(node)})"
        elif not isinstance(node, str | int | float | bool | None):
            kind = _YAML_KINDS.get(type(node), type(node).__name__)
            return path, f"is a YAML {kind}, which JSON does not have; quote it"
    return None


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def meta_schema_problem(schema: Mapping[str, Any]) -> tuple[str, str] | None:
    """(path inside the schema, message) for the first place `schema` breaks its meta-schema, or None.

    The path is dotted like the tenant file's fields (`required[0]`, `properties.id.type`); "" is the
    schema as a whole.
    """
    try:
        _meta_validator(_draft_of(schema))(schema)
    except fastjsonschema.JsonSchemaValueException as error:
        name = error.name or "data"
        path = name[len("data") :].lstrip(".") if name.startswith("data") else name
        detail = error.message[len(name) :].strip() if error.message.startswith(name) else error.message
        return path, f"is not valid JSON Schema: {_in_words(detail)}"
    return None


def _in_words(detail: str) -> str:
    # fastjsonschema's wording for a failed anyOf/oneOf says nothing to a person writing `type: strng`.
    if detail in ("cannot be validated by any definition", "must be valid exactly by one definition"):
        return "not one of the forms the meta-schema allows here"
    return detail
