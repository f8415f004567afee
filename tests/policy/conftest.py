"""The example tenants on the dev stack, evaluated once per session: the real resources every rule is tried on."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.offline import Evaluation, evaluate
from components.stack import read_named_stack

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def plan() -> Evaluation:
    return evaluate(PROJECT_ROOT, "dev", read_named_stack(PROJECT_ROOT, "dev"))
