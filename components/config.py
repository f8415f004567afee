"""Loading tenant files: the one place where a tenant file is read and validated.

Every problem in a file is reported as one line,
`tenants/acme.yaml: processing.batch_size: must be between 1 and 10000 (got 20000)`, and loading never
raises anything but `TenantFileError` (which carries those lines). Reading the file and its YAML safely
is `tenant_yaml.py`'s part; the fields are `tenant_schema.py`'s, the rules between them `tenant_rules.py`'s;
turning pydantic's errors into lines is `problems.py`'s. The names other modules import from here
(`TenantFile`, `TenantFileError`, ...) are re-exported so that this stays their one entry point.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from components import handler_env, naming
from components.problems import TenantFileError, field_messages, format_line, model_at
from components.tenant_rules import CROSS_SECTION_RULES
from components.tenant_schema import PATTERN_WORDS, TENANT_NAME_PATTERN, TenantFile
from components.tenant_yaml import load_tenant_document, read_tenant_file

__all__ = [
    "TenantFile",
    "TenantFileError",
    "expand_tenant_paths",
    "load_tenant",
    "load_tenants",
    "parse_tenant",
    "problems_from_validation",
    "tenant_files",
    "tenant_level_problems",
]


def problems_from_validation(error: ValidationError, root: type[BaseModel] | None = None) -> list[tuple[str, str]]:
    """(dotted field, message) for each problem in `error`; `root` (the validated model) suggests names."""
    return field_messages(error, root, PATTERN_WORDS)


# ---------------------------------------------------------------------------------------------------------
# A refused file: the rules across sections still run on the sections that are valid on their own.


def refused_cross_section_problems(data: dict[str, Any]) -> Iterable[tuple[str, str]]:
    """The rules across sections on a file pydantic refused: each rule that can read valid values of its fields."""
    for rule in CROSS_SECTION_RULES:
        sections = [_section_for(data, name, fields) for name, fields in rule.reads.items()]
        if all(section is not None for section in sections):
            yield from rule.check(*sections)


def _section_for(data: dict[str, Any], name: str, fields: tuple[str, ...]) -> BaseModel | None:
    """Section `name` of a refused file: as written if valid, else only `fields` if those are valid alone
    (absent fields and sections take their defaults); None when the fields cannot be read."""
    model = model_at(TenantFile, (name, ""))
    assert model is not None, f"{name} is not a section of the tenant file"
    if name not in data and not TenantFile.model_fields[name].is_required():
        return model()
    value = data.get(name)
    if not isinstance(value, dict):
        return None
    for candidate in (value, {key: value[key] for key in fields if key in value}):
        try:
            return model.model_validate(candidate)
        except ValidationError:
            continue  # its problems are already among the file's
    return None


# ---------------------------------------------------------------------------------------------------------
# Loading.


def parse_tenant(text: str, source: str, stack: str = naming.DEFAULT_STACK) -> TenantFile:
    """Parse and validate one tenant file's text; raise TenantFileError with one line per problem."""
    data = load_tenant_document(text, source)
    if data is None:
        raise TenantFileError([f"{source}: the file is empty; `tributary new NAME` writes a starting file"])
    if not isinstance(data, dict):
        raise TenantFileError([f"{source}: must be a mapping of fields (got a {_kind(data)})"])
    # No RecursionError to catch here: the YAML reader refuses nesting before validation could recurse that
    # deep (a schema's depth is bounded by the file's, and the file's by `tenant_yaml`).
    try:
        tenant = TenantFile.model_validate(data)
    except ValidationError as error:
        problems = [*problems_from_validation(error, TenantFile), *_refused_file_problems(data, source, stack)]
        raise TenantFileError(_lines(source, problems)) from None
    problems = list(tenant_level_problems(tenant, source, stack))
    if problems:
        raise TenantFileError(_lines(source, problems))
    return tenant


def _kind(value: Any) -> str:
    return {list: "list", str: "text", int: "number", float: "number", bool: "boolean"}.get(type(value), "value")


def _lines(source: str, problems: Iterable[tuple[str, str]]) -> list[str]:
    """`source: field: message` lines in order, each once (a rule may run twice on a refused file)."""
    return list(dict.fromkeys(format_line(source, field, message) for field, message in problems))


def _refused_file_problems(data: dict[str, Any], source: str, stack: str) -> list[tuple[str, str]]:
    """The checks pydantic did not reach in a refused file: rules across the sections that are valid on
    their own, and the names a well-formed tenant name derives."""
    problems = list(refused_cross_section_problems(data))
    name = data.get("tenant")
    problems += _file_name_problems(name, source)
    if isinstance(name, str) and re.match(TENANT_NAME_PATTERN, name):
        problems += naming.name_problems(name, stack)
    return problems


def _file_name_problems(name: Any, source: str) -> list[tuple[str, str]]:
    stem = Path(source).stem
    if isinstance(name, str) and Path(source).suffix in (".yaml", ".yml") and stem != name:
        return [("tenant", f"must match the file name ({stem!r}, got {name!r})")]
    return []


def tenant_level_problems(tenant: TenantFile, source: str, stack: str) -> Iterable[tuple[str, str]]:
    """Checks that need more than the file itself: its name on disk and the AWS names it derives."""
    yield from _file_name_problems(tenant.tenant, source)
    yield from naming.name_problems(tenant.tenant, stack)
    size = handler_env.estimated_size(tenant, stack)
    if size > naming.LAMBDA_ENVIRONMENT_LIMIT:
        yield (
            "records.schema",
            f"the function's environment would be about {size} bytes, above Lambda's "
            f"{naming.LAMBDA_ENVIRONMENT_LIMIT}-byte limit; shorten the schema (descriptions, titles)",
        )


def load_tenant(path: Path, stack: str = naming.DEFAULT_STACK) -> TenantFile:
    """Read and validate the tenant file at `path` (only a regular file, of bounded size)."""
    return parse_tenant(read_tenant_file(path), str(path), stack)


def tenant_files(directory: Path) -> list[Path]:
    """The tenant files in `directory`: its `*.yaml` and `*.yml` entries, sorted."""
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


def expand_tenant_paths(paths: Iterable[Path]) -> list[Path]:
    """The files named, with each directory replaced by its tenant files; an empty directory is a problem."""
    expanded: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            found = tenant_files(path)
            if not found:
                problems.append(f"{path}: no tenant files (*.yaml) in this directory; `tributary new NAME` writes one")
            expanded.extend(found)
        else:
            expanded.append(path)
    if problems:
        raise TenantFileError(problems)
    return expanded


def load_tenants(paths: Iterable[Path], stack: str = naming.DEFAULT_STACK) -> list[TenantFile]:
    """Load every file, collecting every problem of every file before failing."""
    tenants: list[TenantFile] = []
    problems: list[str] = []
    defined_in: dict[str, Path] = {}
    for path in paths:
        try:
            tenant = load_tenant(path, stack)
        except TenantFileError as error:
            problems.extend(error.problems)
            continue
        if tenant.tenant in defined_in:
            problems.append(f"{path}: tenant: {tenant.tenant!r} is already defined in {defined_in[tenant.tenant]}")
            continue
        defined_in[tenant.tenant] = path
        tenants.append(tenant)
    if problems:
        raise TenantFileError(problems)
    return tenants
