"""Problems with a tenant file (or a stack file), as the one-line messages people read.

Every line is `<file>: <dotted.field>: <message>` (or `<file>: <message>` for the file as a whole). This
module turns pydantic's errors into such lines, in words rather than pydantic's own text, and carries
several problems found by one rule in a single pydantic error so that none of them is lost.
"""

from __future__ import annotations

import difflib
import json
import math
import unicodedata
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

# The error type of `several`: one pydantic error that carries a list of (field, message) pairs.
SEVERAL = "tributary_problems"
# A value quoted in a message is cut to this many characters: a line names the value, never dumps it.
QUOTE_LIMIT = 60
# A field path longer than this is cut in a problem line.
FIELD_LIMIT = 160
# Unicode categories that would break a line or hide text: controls, line and paragraph separators, surrogates.
_UNPRINTABLE = frozenset({"Cc", "Zl", "Zp", "Cs"})


class TenantFileError(Exception):
    """Raised when one or more tenant files (or a stack file) are invalid; `problems` holds one line each."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def format_line(source: str, field: str, message: str) -> str:
    """`source: field: message` (or `source: message`) on one line, whatever characters the parts hold.

    A field path comes from the file's own keys: control characters are escaped and a very long path is cut,
    so that every problem stays one readable line.
    """
    field = _printable(field)
    if len(field) > FIELD_LIMIT:
        field = field[: FIELD_LIMIT - 3] + "..."
    text = f"{field}: {message}" if field else message
    return f"{_printable(source)}: {_printable(text)}"


def _printable(text: str) -> str:
    return "".join(
        char.encode("unicode_escape").decode("ascii") if unicodedata.category(char) in _UNPRINTABLE else char
        for char in text
    )


def several(problems: Iterable[tuple[str, str]]) -> PydanticCustomError:
    """One pydantic error carrying every (field relative to the model, message) pair a rule found.

    A model validator can raise only one error; this one keeps every problem, and `field_messages` splits
    it back into one pair per problem.
    """
    pairs = tuple(problems)
    summary = "; ".join(f"{field}: {message}" if field else message for field, message in pairs)
    return PydanticCustomError(SEVERAL, "{summary}", {"summary": summary, "problems": pairs})


def refuse(problems: Iterable[tuple[str, str]]) -> None:
    """Raise `several(problems)` if there is any problem; for model validators."""
    pairs = tuple(problems)
    if pairs:
        raise several(pairs)


def quote(value: Any) -> str:
    """A short, one-line rendering of a value for a message."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * QUOTE_LIMIT:
        text = f"a number of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    elif isinstance(value, float) and not math.isfinite(value):
        text = str(value)
    elif isinstance(value, str):
        text = repr(value)
    else:
        try:
            text = json.dumps(value, default=str)
        except (TypeError, ValueError, RecursionError):  # keys JSON lacks, cycles, depth: described instead
            text = f"a value of type {type(value).__name__}"
    text = text.replace("\n", " ")
    return text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 3] + "..."


# pydantic error type -> message; {got} is the quoted input, the other names come from the error's ctx.
MESSAGES = {
    "missing": "required",
    "int_type": "must be a whole number (got {got})",
    "int_from_float": "must be a whole number (got {got})",
    "bool_type": "must be true or false (got {got})",
    "string_type": "must be a string (got {got})",
    "dict_type": "must be a mapping (got {got})",
    "model_type": "must be a mapping (got {got})",
    "model_attributes_type": "must be a mapping (got {got})",
    "list_type": "must be a list (got {got})",
    "float_type": "must be a number (got {got})",
    "finite_number": "must be a finite number (got {got})",
    "greater_than": "must be greater than {gt} (got {got})",
    "greater_than_equal": "must be at least {ge} (got {got})",
    "less_than": "must be less than {lt} (got {got})",
    "less_than_equal": "must be at most {le} (got {got})",
    "string_too_short": "must be at least {min_length} characters (got {length})",
    "string_too_long": "must be at most {max_length} characters (got {length})",
    "too_short": "must have at least {min_length} items (got {actual_length})",
    "too_long": "must have at most {max_length} items (got {actual_length})",
    "literal_error": "must be one of {expected} (got {got})",
    "string_pattern_mismatch": "does not match {pattern} (got {got})",
    "value_error": "{reason} (got {got})",
}


def _is_branch_name(part: Any) -> bool:
    """pydantic names a validator chain in an error's loc (`function-after[check(), int]`): not a field."""
    return isinstance(part, str) and part.startswith(("function-after[", "function-before[", "function-wrap["))


def _dotted(loc: Iterable[Any]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            if parts:
                parts[-1] = f"{parts[-1]}[{part}]"
            else:
                parts.append(f"[{part}]")
        elif not _is_branch_name(part):
            parts.append(str(part))
    return ".".join(parts)


def _join(prefix: str, field: str) -> str:
    if not field:
        return prefix
    if not prefix or field.startswith("["):
        return prefix + field
    return f"{prefix}.{field}"


def model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The section model under `root` that owns the field at `loc`, to suggest names for a mistyped key."""
    model: type[BaseModel] | None = root
    for part in loc[:-1]:
        if model is None or not isinstance(part, str):
            return None
        field = model.model_fields.get(part) or next((f for f in model.model_fields.values() if f.alias == part), None)
        annotation = getattr(field, "annotation", None)
        candidates = [a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type)]
        model = next((c for c in candidates if issubclass(c, BaseModel)), None)
    return model


def _did_you_mean(field: str, model: type[BaseModel] | None) -> str:
    if model is None:
        return ""
    known = [info.alias or name for name, info in model.model_fields.items()]
    close = difflib.get_close_matches(field, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (expected one of: {', '.join(known)})"


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _lines_of(error: dict[str, Any], root: type[BaseModel] | None, pattern_words: dict[str, str]):
    loc = tuple(error["loc"])
    kind = error["type"]
    # Bounds as the file writes them: `gt=0` of a float field is 0, not 0.0.
    ctx = {key: _plain(value) for key, value in (error.get("ctx") or {}).items()}
    if kind == SEVERAL:
        prefix = _dotted(loc)
        for field, message in ctx["problems"]:
            yield _join(prefix, field), message
        return
    got = quote(error.get("input"))
    if loc and loc[-1] == "[key]":  # a mapping's key of the wrong type: the loc ends with the key itself
        yield _dotted(loc[:-2]), f"the key {got} must be text; quote it"
        return
    if kind == "invalid_key":  # a model's key that is not a string: the loc is the key
        yield _dotted(loc[:-1]), f"the key {quote(loc[-1]) if loc else got} must be text; quote it"
        return
    if kind == "extra_forbidden":
        yield _dotted(loc), "unknown field" + (_did_you_mean(str(loc[-1]), model_at(root, loc)) if root else "")
        return
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in pattern_words:
        yield _dotted(loc), f"{pattern_words[ctx['pattern']]} (got {got})"
        return
    if kind == "value_error" and "reason" not in ctx:  # a validator's own ValueError: its text, not pydantic's
        ctx["reason"] = str(ctx.get("error") or "is not valid")
    if kind in ("string_too_short", "string_too_long"):
        ctx["length"] = len(error["input"]) if isinstance(error.get("input"), str) else "?"
    template = MESSAGES.get(kind)
    if template is not None:
        try:
            yield _dotted(loc), template.format(got=got, **ctx)
            return
        except (KeyError, IndexError):
            pass  # a ctx without the names the template needs: fall back to pydantic's own sentence
    yield _dotted(loc), error["msg"]


def field_messages(
    error: ValidationError, root: type[BaseModel] | None = None, pattern_words: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """(dotted field, message) for every problem in `error`, in order, without repeats.

    `root` is the validated model, used to suggest the intended name of an unknown key; `pattern_words`
    says in words what a regular expression of the schema means.
    """
    seen: dict[tuple[str, str], None] = {}  # ordered and without repeats
    for item in error.errors(include_url=False):
        seen.update(dict.fromkeys(_lines_of(item, root, pattern_words or {})))
    return list(seen)
