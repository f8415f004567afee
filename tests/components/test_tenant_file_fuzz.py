"""The example tenant files, mutated: whatever `validate` makes of them, it never crashes, and what it
accepts the handler accepts and the program plans.

Mutations are the ones people make: a deleted field, a value of another type, a renamed key, a number at
or just past its bounds, braces in a key template, and lines of the YAML text deleted, repeated or
re-indented.
"""

from __future__ import annotations

import copy
import datetime
import math
from pathlib import Path
from typing import Any

import annotated_types
import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from strategies import to_yaml
from tenant_mutations import RANGES

from components import handler_env, naming
from components.config import TenantFile, TenantFileError, parse_tenant, tenant_files
from components.offline import evaluate
from components.stack import StackSettings
from components.tenant_fields import field_at
from components.tenant_rules import MAX_USER_TAGS, TAG_KEY_LENGTH, TAG_VALUE_LENGTH
from runtime.config import HandlerConfig
from runtime.templates import BUCKETS

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = {path.stem: path.read_text(encoding="utf-8") for path in tenant_files(PROJECT_ROOT / "tenants")}
DOCUMENTS = {stem: yaml.safe_load(text) for stem, text in EXAMPLES.items()}
# Words pydantic or Python use that a person reading a problem line should never see.
FOREIGN_WORDS = ("Input should", "String should", "Value error", "validation error", "Traceback", "Error:")
LONGEST_LINE = 500
SWAPS = (None, True, False, 0, -1, 1.5, math.nan, math.inf, "", "text", "{", [], ["x"], {}, {"a": 1}, 2**64)


def _max_length(path: str) -> int:
    """The longest text the schema accepts for the field at `path`."""
    return next(item.max_length for item in field_at(path).constraints if isinstance(item, annotated_types.MaxLen))


DESCRIPTION_LENGTH = _max_length("description")
TEMPLATE_LENGTH = _max_length("records.partition_key")
LONGEST_TAG_KEY = TAG_KEY_LENGTH[1]
# Bounds that are not integer ranges: (section or "" for the top level, field, values at and past them).
OTHER_BOUNDS = (
    ("alarms", "error_rate_percent", (0, 0.001, 1, 100, 100.001, -1.5, math.nan, math.inf, -math.inf)),
    ("", "description", ("", "x" * DESCRIPTION_LENGTH, "x" * (DESCRIPTION_LENGTH + 1))),
    ("records", "partition_key", ("{x}" + "y" * (TEMPLATE_LENGTH - 3), "{x}" + "y" * (TEMPLATE_LENGTH - 2))),
    (
        "",
        "tags",
        (
            {"k" * LONGEST_TAG_KEY: "v"},
            {"k" * (LONGEST_TAG_KEY + 1): "v"},
            {"k": "v" * (TAG_VALUE_LENGTH + 1)},
            {f"t{i}": "v" for i in range(MAX_USER_TAGS + 1)},
        ),
    ),
)
# Characters with a meaning in YAML, and some it refuses or reads as line breaks.
YAML_CHARACTERS = tuple(":{}[],&*!|>'\"%@`#-?\t") + ("\x00", "\x85", "\u2028", "\ufeff", "\ud800", "\r")
# Keys YAML allows and JSON or the schema do not: numbers, booleans, null, dates, and an empty string.
KEYS = (5, 1.5, True, None, datetime.date(2020, 1, 1), "", "aws:x")
TEMPLATE_PIECES = ("{", "}", "{{", "}}", "{}", "{x}", "{a.b}", "{0}", "{x!r}", "{x:>3}", "#", "{{x}}", "{ }")
# Parsing is cheap: many examples in every profile. Few mutated files are accepted, and planning takes about
# a second: fewer examples there.
PARSES = settings(
    max_examples=max(200, settings().max_examples),
    suppress_health_check=[HealthCheck.large_base_example, HealthCheck.filter_too_much],
)
HANDLERS = settings(max_examples=max(100, settings().max_examples), suppress_health_check=[HealthCheck.filter_too_much])
PLANS = settings(max_examples=min(10, settings().max_examples), suppress_health_check=[HealthCheck.filter_too_much])


# -------------------------------------------------------------------------------------------------------
# Mutations of a document


def node_paths(document: Any, prefix: tuple = ()) -> list[tuple]:
    """The path of every value inside `document` (keys and list indexes), outermost first."""
    paths: list[tuple] = []
    if isinstance(document, dict):
        children: Any = document.items()
    elif isinstance(document, list):
        children = enumerate(document)
    else:
        children = ()
    for key, value in children:
        paths.append((*prefix, key))
        paths.extend(node_paths(value, (*prefix, key)))
    return paths


def parent_of(document: Any, path: tuple) -> Any:
    for part in path[:-1]:
        document = document[part]
    return document


def section(document: dict[str, Any], name: str) -> dict[str, Any]:
    if not isinstance(document.get(name), dict):
        document[name] = {}
    return document[name]


def _delete(draw, document):
    if not node_paths(document):
        return "delete nothing"
    path = draw(st.sampled_from(node_paths(document)))
    del parent_of(document, path)[path[-1]]
    return f"delete {'.'.join(map(str, path))}"


def _swap(draw, document):
    if not node_paths(document):
        return "swap nothing"
    path = draw(st.sampled_from(node_paths(document)))
    parent_of(document, path)[path[-1]] = copy.deepcopy(draw(st.sampled_from(SWAPS)))
    return f"swap {'.'.join(map(str, path))}"


def _rekey(draw, document):
    paths = [path for path in node_paths(document) if isinstance(parent_of(document, path), dict)]
    if not paths:
        return "rekey nothing"
    path = draw(st.sampled_from(paths))
    parent = parent_of(document, path)
    key = draw(st.sampled_from(KEYS)) if draw(st.booleans()) else f"{path[-1]}_"
    parent[key] = parent.pop(path[-1])
    return f"rekey {'.'.join(map(str, path))}"


def _boundary(draw, document):
    if draw(st.booleans()):
        path = draw(st.sampled_from(tuple(RANGES)))
        low, high = RANGES[path].low, RANGES[path].high
        name, field = path.split(".")
        value = draw(st.sampled_from((low - 1, low, low + 1, high - 1, high, high + 1, 0, -1, 2**31, 2**63)))
    else:
        name, field, values = draw(st.sampled_from(OTHER_BOUNDS))
        value = copy.deepcopy(draw(st.sampled_from(values)))
    (section(document, name) if name else document)[field] = value
    return f"boundary {name}.{field}"


def _braces(draw, document):
    records = section(document, "records")
    key = draw(st.sampled_from(("partition_key", "sort_key")))
    text = records.get(key) if isinstance(records.get(key), str) else ""
    schema = records.get("schema")
    properties = schema.get("properties") if isinstance(schema, dict) else None
    fields = [name for name in properties if isinstance(name, str)] if isinstance(properties, dict) else []
    fields += list(BUCKETS)
    piece = draw(st.one_of(st.sampled_from(TEMPLATE_PIECES), st.sampled_from(fields).map("{{{}}}".format)))
    at = draw(st.integers(0, len(text)))
    records[key] = text[:at] + piece + text[at:]
    return f"braces {key}"


MUTATIONS = {"delete": _delete, "swap": _swap, "rekey": _rekey, "boundary": _boundary, "braces": _braces}


@st.composite
def mutated_documents(draw, most: int = 3) -> tuple[str, str, list[str]]:
    """(stem, YAML text, mutations applied) from one example file and one to `most` mutations."""
    stem = draw(st.sampled_from(sorted(DOCUMENTS)))
    document = copy.deepcopy(DOCUMENTS[stem])
    applied = []
    for _ in range(draw(st.integers(1, most))):
        applied.append(MUTATIONS[draw(st.sampled_from(sorted(MUTATIONS)))](draw, document))
    return stem, to_yaml(document), applied


@st.composite
def mutated_texts(draw) -> tuple[str, str, list[str]]:
    """(stem, text, mutations applied) from one example file with lines deleted, repeated, re-indented, cut or
    given one more character."""
    stem = draw(st.sampled_from(sorted(EXAMPLES)))
    lines = EXAMPLES[stem].splitlines()
    applied = []
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(("delete", "repeat", "indent", "dedent", "cut", "insert")))
        if kind == "delete" and len(lines) > 1:
            del lines[at]
        elif kind == "repeat":
            lines.insert(at, lines[at])
        elif kind == "indent":
            lines[at] = "  " + lines[at]
        elif kind == "dedent":
            lines[at] = lines[at].lstrip()
        elif kind == "cut":
            lines[at] = lines[at][: draw(st.integers(0, len(lines[at])))]
        else:
            cut = draw(st.integers(0, len(lines[at])))
            lines[at] = lines[at][:cut] + draw(st.sampled_from(YAML_CHARACTERS)) + lines[at][cut:]
        applied.append(f"{kind} line {at + 1}")
    return stem, "\n".join(lines) + "\n", applied


# -------------------------------------------------------------------------------------------------------
# What every outcome must be


def outcome(stem: str, text: str) -> TenantFile | None:
    """The tenant `validate` accepts, or None after checking that every problem line is for people."""
    source = f"tenants/{stem}.yaml"
    try:
        return parse_tenant(text, source)
    except TenantFileError as error:
        assert error.problems, "refused without a problem line"
        for line in error.problems:
            assert line.startswith(f"{source}: ") and line[len(source) + 2 :].strip(), line
            assert "\n" not in line and len(line) < LONGEST_LINE, line
            assert not any(word in line for word in FOREIGN_WORDS), line
        return None


def handler_config_of(tenant: TenantFile) -> HandlerConfig:
    names = naming.tenant_names(tenant.tenant, naming.DEFAULT_STACK)
    url = naming.queue_url("us-east-1", "123456789012", names.failure_queue)
    return HandlerConfig.from_env(handler_env.handler_environment(tenant, names.table, url))


def assert_handler_reads_what_validate_checked(tenant: TenantFile, config: HandlerConfig) -> None:
    records = tenant.records
    assert config.partition_template.text == records.partition_key
    assert (config.sort_template.text if config.sort_template else None) == records.sort_key
    assert config.counter_fields == tuple(records.counters or ())
    assert (config.event_id_field, config.timestamp_field, config.version_field) == (
        records.event_id,
        records.timestamp,
        records.version,
    )
    templates = [config.partition_template, *([config.sort_template] if config.sort_template else [])]
    for name in [field for template in templates for field in template.fields if field not in BUCKETS]:
        assert name.split(".")[0] in records.declared_fields(), f"{name} is read by the handler, not declared"


# -------------------------------------------------------------------------------------------------------
# Properties


@PARSES
@given(mutated=st.one_of(mutated_documents(), mutated_texts()))
def test_tenant_file_fuzz_refuses_with_lines_or_accepts_never_crashes(mutated):
    stem, text, applied = mutated
    tenant = outcome(stem, text)
    event("accepted" if tenant else "refused")
    for mutation in applied:
        event(mutation.split()[0])


@HANDLERS
@given(mutated=mutated_documents(most=1))
def test_tenant_file_fuzz_every_accepted_file_configures_the_handler(mutated):
    stem, text, applied = mutated
    tenant = outcome(stem, text)
    assume(tenant is not None)
    assert_handler_reads_what_validate_checked(tenant, handler_config_of(tenant))


@PLANS
@given(mutated=mutated_documents(most=1))
def test_tenant_file_fuzz_every_accepted_file_plans(tmp_path_factory, mutated):
    stem, text, applied = mutated
    assume(outcome(stem, text) is not None)
    project = tmp_path_factory.mktemp("fuzz")
    (project / "tenants").mkdir()
    (project / "tenants" / f"{stem}.yaml").write_text(text, encoding="utf-8")
    evaluation = evaluate(project, naming.DEFAULT_STACK, StackSettings())
    resources = evaluation.by_tenant().get(stem, [])
    assert any(r.type == "tributary:index:TenantPipeline" for r in resources), f"{applied}: no pipeline planned"
    assert evaluation.outputs["tenants"] == [stem], applied


@pytest.mark.parametrize("stem", sorted(EXAMPLES))
def test_tenant_file_fuzz_starts_from_valid_examples(stem):
    tenant = outcome(stem, to_yaml(DOCUMENTS[stem]))
    assert tenant is not None
    assert_handler_reads_what_validate_checked(tenant, handler_config_of(tenant))
