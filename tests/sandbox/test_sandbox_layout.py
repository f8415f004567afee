"""The sandbox's AWS engines know no tenant: nothing under sandbox/engines/ imports the program
(`components`), the access proof (`access`) or the session (`sandbox.session`), at module level or inside a
function. What a session needs from them (call recording, tenant settings) is handed to the engines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINES = Path(__file__).resolve().parents[2] / "sandbox" / "engines"
FORBIDDEN = ("components", "access", "sandbox.session")


def imported_modules(source: str) -> set[str]:
    """Every module an `import` or `from ... import` statement names, anywhere in the source."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def forbidden(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f"{f}.") for f in FORBIDDEN))


@pytest.mark.parametrize("path", sorted(ENGINES.glob("*.py")), ids=lambda path: path.name)
def test_sandbox_engine_imports_nothing_of_the_program_the_access_proof_or_the_session(path):
    assert forbidden(imported_modules(path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize(
    "source",
    [
        "from access.recorder import record_process",
        "def f():\n    import components.config",
        "from sandbox.session import traffic",
        "import sandbox.session.runner as runner",
        "from sandbox import session",
    ],
)
def test_sandbox_layout_check_finds_a_forbidden_import_wherever_it_is(source):
    assert forbidden(imported_modules(source)) != []
