"""The command line's tests reuse the tenant-file strategies of tests/components, and share these fixtures."""

import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "components"))

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the repository's project: stack files and the example tenants."""
    for stack_file in PROJECT_ROOT.glob("Pulumi*.yaml"):
        shutil.copy(stack_file, tmp_path)
    shutil.copytree(PROJECT_ROOT / "tenants", tmp_path / "tenants")
    return tmp_path
