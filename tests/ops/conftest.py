"""The cost tests price the example tenants and tenant files the tests/components strategies generate."""

import shutil
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "components"))

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cost_app() -> typer.Typer:
    """`tributary cost` alone, registered the way cli/main.py registers it."""
    from cli.cost import cost

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.callback()(lambda: None)
    app.command("cost")(cost)
    return app


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the repository's project: stack files and the example tenants."""
    for stack_file in PROJECT_ROOT.glob("Pulumi*.yaml"):
        shutil.copy(stack_file, tmp_path)
    shutil.copytree(PROJECT_ROOT / "tenants", tmp_path / "tenants")
    return tmp_path
