"""Fixtures for the program's tests: the example tenants evaluated once, and a factory for tenant files.

Every evaluation runs the whole program under Pulumi's mocks with a fresh event loop
(`components.offline.evaluate`), so a factory call per hypothesis example is a fresh engine.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pipeline_spec import DEV, PROJECT_ROOT, Evaluated
from strategies import to_yaml

from components.stack import StackSettings


@pytest.fixture(scope="session")
def example_project() -> Evaluated:
    """The repository's own tenants on the dev stack."""
    return Evaluated(PROJECT_ROOT, "dev", DEV)


@pytest.fixture(scope="session")
def write_project(tmp_path_factory) -> Callable[..., Path]:
    """write_project([document, ...]) -> a fresh project folder with one tenant file per document.

    Session-scoped (a new folder per call), so hypothesis examples can share it.
    """
    counter = itertools.count()

    def write(documents: list[dict[str, Any]], stack_file: str | None = None, stack: str = "dev") -> Path:
        project = tmp_path_factory.mktemp(f"project{next(counter)}")
        tenants = project / "tenants"
        tenants.mkdir()
        for document in documents:
            (tenants / f"{document['tenant']}.yaml").write_text(to_yaml(document), encoding="utf-8")
        if stack_file is not None:
            (project / f"Pulumi.{stack}.yaml").write_text(stack_file, encoding="utf-8")
        return project

    return write


@pytest.fixture(scope="session")
def evaluate_tenants(write_project) -> Callable[..., Evaluated]:
    """evaluate_tenants([document, ...], settings=StackSettings(), stack="dev") -> Evaluated."""

    def run(documents: list[dict[str, Any]], settings: StackSettings = DEV, stack: str = "dev") -> Evaluated:
        return Evaluated(write_project(documents), stack, settings)

    return run
