"""The dev plan the access proof's tests read, evaluated once per worker, and the two tenants they name."""

from __future__ import annotations

import pytest
from proof_calls import OTHER, PROJECT, TENANT, Tenant, tenant

from access.program_policies import Policies
from components.offline import Evaluation, evaluate
from components.stack import read_stack_file


@pytest.fixture(scope="session")
def evaluation() -> Evaluation:
    return evaluate(PROJECT, "dev", read_stack_file(PROJECT, "dev"))


@pytest.fixture(scope="session")
def policies(evaluation: Evaluation) -> Policies:
    return Policies.from_resources(evaluation.resources)


@pytest.fixture(scope="session")
def own(evaluation: Evaluation) -> Tenant:
    return tenant(evaluation, TENANT)


@pytest.fixture(scope="session")
def other(evaluation: Evaluation) -> Tenant:
    return tenant(evaluation, OTHER)
