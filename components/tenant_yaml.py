"""From a tenant file on disk to its YAML document, refusing hostile or mistaken input quickly.

A tenant file is small, plain YAML written by people. So only a regular file of at most
`MAX_TENANT_FILE_BYTES` is read (a FIFO would block, `/dev/zero` would never end), and the YAML may not
use anchors, aliases or merge keys (an alias bomb expands a few hundred bytes into gigabytes) nor repeat
a key in one mapping (YAML keeps the last one silently). Every refusal is a `TenantFileError` line.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from components.problems import TenantFileError, format_line, quote

# A tenant file is a few KiB: its schema shares Lambda's 4 KiB environment with the other settings, and the
# other fields take about 2 KiB. 64 KiB leaves ten times that for comments and layout, and bounds the time the
# pure-Python YAML parser (about 200 KB/s) can take on any file to a fraction of a second.
MAX_TENANT_FILE_BYTES = 64 * 1024
_MERGE_TAG = "tag:yaml.org,2002:merge"
# What a person calls the value a YAML tag asks for, in messages.
_KINDS = {
    "tag:yaml.org,2002:int": "whole number",
    "tag:yaml.org,2002:float": "number",
    "tag:yaml.org,2002:timestamp": "date or time",
    "tag:yaml.org,2002:bool": "boolean",
    "tag:yaml.org,2002:binary": "base64 value",
}


class _Refused(yaml.MarkedYAMLError):
    """Raised by the loader for YAML that parses but that tenant files do not allow."""


class TenantFileLoader(yaml.SafeLoader):
    """PyYAML's safe loader without anchors and aliases: a node is composed only from its own text."""

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                problem=f"YAML aliases (*{event.anchor}) are not allowed in tenant files; write the value out",
                problem_mark=event.start_mark,
            )
        if getattr(event, "anchor", None) is not None:
            raise _Refused(
                problem=f"YAML anchors (&{event.anchor}) are not allowed in tenant files; write the value out",
                problem_mark=event.start_mark,
            )
        return super().compose_node(parent, index)

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        # PyYAML's scalar constructors raise plain Python errors for some text their tag accepts
        # (`2020-13-45` as a date, an integer of 5000 digits): a problem with that value, at its place.
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, AttributeError, OverflowError):
            kind = _KINDS.get(node.tag, "value")
            shown = f"{quote(node.value)} " if isinstance(node, ScalarNode) else ""
            raise _Refused(problem=f"{shown}cannot be read as a {kind}", problem_mark=node.start_mark) from None


def read_tenant_file(path: Path) -> str:
    """The text of the tenant file at `path`; only a regular UTF-8 file of at most MAX_TENANT_FILE_BYTES."""
    try:
        info = os.stat(path)  # follows symbolic links: a link to a regular file is read, one to a device is not
    except OSError as error:
        raise TenantFileError([format_line(str(path), "", f"cannot be read ({error.strerror or error})")]) from None
    _refuse_unless_readable_kind(path, info)
    try:
        # O_NONBLOCK: should the path be swapped for a FIFO after the check, opening it still returns.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise TenantFileError([format_line(str(path), "", f"cannot be read ({error.strerror or error})")]) from None
    with os.fdopen(descriptor, "rb") as handle:
        _refuse_unless_readable_kind(path, os.fstat(handle.fileno()))
        data = handle.read(MAX_TENANT_FILE_BYTES + 1)
    if len(data) > MAX_TENANT_FILE_BYTES:
        raise TenantFileError([_too_large(path)])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        problem = f"is not UTF-8 text (byte {error.start + 1} is not valid UTF-8)"
        raise TenantFileError([format_line(str(path), "", problem)]) from None


def _refuse_unless_readable_kind(path: Path, info: os.stat_result) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise TenantFileError([format_line(str(path), "", "is a directory, not a tenant file")])
    if not stat.S_ISREG(info.st_mode):
        problem = "is not a regular file (a device, FIFO or socket); only regular files are read"
        raise TenantFileError([format_line(str(path), "", problem)])
    if info.st_size > MAX_TENANT_FILE_BYTES:
        raise TenantFileError([_too_large(path)])


def _too_large(source: Path | str) -> str:
    problem = f"is larger than {MAX_TENANT_FILE_BYTES // 1024} KiB; a tenant file takes a few KiB"
    return format_line(str(source), "", problem)


def load_tenant_document(text: str, source: str) -> Any:
    """The YAML document in `text` (None when empty); refuses aliases, anchors, merge keys, repeated keys."""
    if len(text) > MAX_TENANT_FILE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_TENANT_FILE_BYTES:
        raise TenantFileError([_too_large(source)])
    loader = None
    try:
        loader = TenantFileLoader(text)  # the reader checks the characters here already
        node = loader.get_single_node()
        if node is None:
            return None
        problems = [format_line(source, field, message) for field, message in repeated_key_problems(node, loader)]
        if problems:
            raise TenantFileError(problems)
        return loader.construct_document(node)
    except RecursionError:
        raise TenantFileError([format_line(source, "", "nested too deeply to be a tenant file")]) from None
    except yaml.MarkedYAMLError as error:
        raise TenantFileError([format_line(source, "", _yaml_problem(error))]) from None
    except yaml.YAMLError as error:  # the reader's errors (characters YAML forbids) carry no mark
        raise TenantFileError([format_line(source, "", f"not valid YAML: {_reader_problem(error)}")]) from None
    finally:
        if loader is not None:
            loader.dispose()


def _yaml_problem(error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = error.problem or error.context or "the YAML cannot be parsed"
    if isinstance(error, _Refused):
        return f"{where}{problem}"
    return f"not valid YAML at {where}{problem}" if where else f"not valid YAML: {problem}"


def _reader_problem(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.reader.ReaderError):
        character = error.character
        code = ord(character) if isinstance(character, str) else character
        return f"character #x{code:04x} at position {error.position + 1} is not allowed in YAML"
    return "the text cannot be parsed"


def repeated_key_problems(root: Node, loader: yaml.SafeLoader) -> list[tuple[str, str]]:
    """(field, message) for every key that a mapping repeats, and every merge key, anywhere in the document.

    Keys are compared as the loader constructs them (`1` and `01` are one key, as in the dict it builds).
    Walked with an explicit stack, so a deep document costs no recursion here.
    """
    problems: list[tuple[str, str]] = []
    pending: list[tuple[Node, str]] = [(root, "")]
    while pending:
        node, path = pending.pop()
        if isinstance(node, SequenceNode):
            pending.extend((child, f"{path}[{index}]") for index, child in reversed(list(enumerate(node.value))))
        elif isinstance(node, MappingNode):
            problems.extend(_mapping_problems(node, path, loader))
            pending.extend(
                (value, _child_path(path, key)) for key, value in reversed(node.value) if isinstance(key, ScalarNode)
            )
    return problems


def _child_path(path: str, key: ScalarNode) -> str:
    return f"{path}.{key.value}" if path else str(key.value)


def _mapping_problems(node: MappingNode, path: str, loader: yaml.SafeLoader) -> list[tuple[str, str]]:
    problems = []
    first_line: dict[Any, int] = {}
    for key, _ in node.value:
        line = key.start_mark.line + 1
        if key.tag == _MERGE_TAG:
            message = f"line {line}: YAML merge keys (<<) are not allowed in tenant files; write the fields out"
            problems.append((path, message))
            continue
        if not isinstance(key, ScalarNode):
            continue  # a mapping or list as a key: the constructor refuses it with its own line
        identity = loader.construct_object(key)
        if identity in first_line:
            lines = f"lines {first_line[identity]} and {line}"
            message = f"the key {quote(key.value)} appears twice in one mapping ({lines}); keep one"
            problems.append((_child_path(path, key), message))
        else:
            first_line[identity] = line
    return problems
