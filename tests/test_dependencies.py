"""Each part imports only what its extra in pyproject.toml installs.

The handler is deployed with the `handler` extra only (less what Lambda provides), so a new import in
runtime/ that the extra does not cover would fail at the function's first cold start, not here. The
sandbox runs with the core dependencies plus the `sandbox` extra. Imports are read from the source with
`ast` (module- and function-level alike); a distribution covers the modules it and its own dependencies
install, as the installed metadata says.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

from components.packaging import PROVIDED_IN_LAMBDA, VENDORED

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = {"components", "runtime", "sandbox", "access", "cli", "policy", "ops"}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def run_without(blocked: list[str], code: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter at the project root where none of the `blocked` top-level modules can be
    imported: what a machine without those packages would do."""
    script = (
        "import sys\n"
        f"blocked = set({sorted(blocked)!r})\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in blocked:\n"
        "            raise ImportError(f'{name} is not installed with the core dependencies', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
    ) + code
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)


def distribution_name(requirement: str) -> str:
    return re.split(r"[\[=<>!~ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def extra_requirements(extra: str) -> list[str]:
    """An extra's requirements, with `tributary[other]` references expanded."""
    found = []
    for requirement in PYPROJECT["optional-dependencies"][extra]:
        nested = re.fullmatch(r"tributary\[(\w+)\]", requirement)
        found += extra_requirements(nested.group(1)) if nested else [requirement]
    return found


@cache
def _modules_by_distribution() -> dict[str, set[str]]:
    by_distribution: dict[str, set[str]] = {}
    for module, distributions in metadata.packages_distributions().items():
        for distribution in distributions:
            by_distribution.setdefault(distribution.lower().replace("_", "-"), set()).add(module)
    return by_distribution


def importable_modules(requirements: list[str]) -> set[str]:
    """Top-level modules the requirements install, following each distribution's own dependencies."""
    seen: set[str] = set()
    pending = [distribution_name(r) for r in requirements]
    modules: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # a dependency for another platform (its marker excluded it here): nothing to import
        modules |= _modules_by_distribution().get(name, set())
        for requirement in requires:
            if "extra ==" not in requirement:
                pending.append(distribution_name(requirement))
    return modules


def third_party_imports(package: str) -> dict[str, str]:
    """Top-level module imported -> the first file importing it, for every .py file of the package."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in PROJECT_PACKAGES and top != "__future__":
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_handler_imports_only_what_its_extra_installs():
    allowed = importable_modules(extra_requirements("handler"))
    outside = {module: where for module, where in third_party_imports("runtime").items() if module not in allowed}
    assert outside == {}, f"runtime/ imports modules the `handler` extra does not install: {outside}"


def test_sandbox_imports_only_the_core_and_its_extra():
    allowed = importable_modules(PYPROJECT["dependencies"] + extra_requirements("sandbox"))
    outside = {module: where for module, where in third_party_imports("sandbox").items() if module not in allowed}
    assert outside == {}, f"sandbox/ imports modules neither the core nor the `sandbox` extra installs: {outside}"


def test_the_program_and_cli_need_no_extra_at_import():
    """`make plan` installs the core only: the program's and the command's own modules import nothing more."""
    allowed = importable_modules(PYPROJECT["dependencies"])
    for package in ("components", "cli"):
        outside = {module: where for module, where in third_party_imports(package).items() if module not in allowed}
        assert outside == {}, f"{package}/ imports modules the core dependencies do not install: {outside}"


def test_package_vendors_the_handler_extra_less_what_lambda_provides():
    handler = extra_requirements("handler")
    assert {distribution_name(r) for r in VENDORED} == {
        distribution_name(r) for r in handler if distribution_name(r) not in PROVIDED_IN_LAMBDA
    }
    assert set(VENDORED) <= set(handler)  # pinned exactly as the extra pins them


def test_the_command_starts_without_the_sandbox_or_handler_extras():
    """Importing the command (and so every module it loads at start) needs none of the extras' packages:
    a fresh interpreter where those packages cannot be imported still loads it."""
    core = importable_modules(PYPROJECT["dependencies"])
    extras_only = sorted(importable_modules(extra_requirements("sandbox")) - core)
    result = run_without(extras_only, "import cli.main\n")
    assert result.returncode == 0, result.stderr[-2000:]
