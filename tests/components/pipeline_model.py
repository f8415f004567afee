"""The program evaluated once, with the engine's view of each resource, and split into one pipeline per tenant.

`evaluate_recorded` runs the program through `components.offline.evaluate` (fresh event loop, fresh mocks) and
also records what the mock engine receives but the mocks do not see: each resource's parent and its
`retain_on_delete` option. Resources are assigned to tenants by their parent chain up to the `TenantPipeline`
component, not by their names. `pipeline_spec` holds the checks over what this module evaluates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from pulumi.runtime.mocks import MockMonitor

from components import naming
from components.config import TenantFile, load_tenant, tenant_files
from components.offline import ACCOUNT_ID, Evaluation, RegisteredResource, evaluate
from components.stack import StackSettings
from policy.rules import types as tokens

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_TENANTS = sorted(path.stem for path in (PROJECT_ROOT / "tenants").glob("*.yaml"))
DEV = StackSettings()  # Pulumi.dev.yaml: us-east-1, every tenant, no extra notify addresses


@dataclass(frozen=True)
class Registration:
    type: str
    name: str
    parent: str  # the parent's URN
    retain_on_delete: bool


@dataclass
class Recorded:
    """One evaluation and, per URN, what the engine was asked to do with each resource."""

    evaluation: Evaluation
    registrations: dict[str, Registration]

    def registration(self, resource: RegisteredResource) -> Registration:
        found = [r for r in self.registrations.values() if (r.type, r.name) == (resource.type, resource.name)]
        assert len(found) == 1, f"{resource.type} {resource.name}: registered {len(found)} times"
        return found[0]

    def owner(self, resource: RegisteredResource) -> str | None:
        """The tenant whose TenantPipeline component is this resource's ancestor (or itself)."""
        current: Registration | None = self.registration(resource)
        while current is not None and current.type != tokens.TENANT_PIPELINE:
            current = self.registrations.get(current.parent)
        return current.name if current else None


def evaluate_recorded(project_dir: Path, stack: str, settings: StackSettings) -> Recorded:
    registrations: dict[str, Registration] = {}
    original = MockMonitor.RegisterResource

    def register(monitor: MockMonitor, request: Any) -> Any:
        response = original(monitor, request)
        retain = bool(request.retainOnDelete)
        registrations[response.urn] = Registration(request.type, request.name, request.parent, retain)
        return response

    with mock.patch.object(MockMonitor, "RegisterResource", register):
        evaluation = evaluate(project_dir, stack, settings)
    return Recorded(evaluation, registrations)


# ---------------------------------------------------------------------------------------------------------
# One tenant's pipeline


@dataclass
class Pipeline:
    tenant: TenantFile
    stack: str
    settings: StackSettings
    resources: list[RegisteredResource]
    retained: dict[tuple[str, str], bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        account = self.tenant.account
        self.name = self.tenant.tenant
        self.region = (account.region if account and account.region else None) or self.settings.region
        self.account_id = account.role_arn.split(":")[4] if account else ACCOUNT_ID
        self.names = naming.tenant_names(self.name, self.stack, self.account_id)

    def all(self, type_: str) -> list[RegisteredResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, **inputs: Any) -> RegisteredResource:
        found = [r for r in self.all(type_) if all(r.inputs.get(k) == v for k, v in inputs.items())]
        assert len(found) == 1, f"tenant {self.name}: expected one {type_} with {inputs}, found {len(found)}"
        return found[0]

    def arns(self) -> set[str]:
        """Every ARN of this tenant's resources."""
        return {r.state["arn"] for r in self.resources if isinstance(r.state.get("arn"), str)}

    def where(self, resource: RegisteredResource) -> str:
        return f"tenant {self.name}, {resource.type} {resource.name}"

    @property
    def key_arn(self) -> str:
        return self.one(tokens.KEY).state["arn"]

    def role_arn(self, name: str) -> str:
        return self.one(tokens.ROLE, name=name).state["arn"]


class Evaluated:
    """One evaluation of a project: its pipelines by tenant (resources grouped by component), and the recording."""

    def __init__(self, project_dir: Path, stack: str, settings: StackSettings):
        self.project_dir = project_dir
        self.recorded = evaluate_recorded(project_dir, stack, settings)
        paths = tenant_files(project_dir / settings.tenants_dir)
        files = {tenant.tenant: tenant for tenant in (load_tenant(path, stack) for path in paths)}
        owned: dict[str, list[RegisteredResource]] = {}
        for resource in self.recorded.evaluation.resources:
            owner = self.recorded.owner(resource)
            assert owner is not None, f"{resource.type} {resource.name} is not inside any TenantPipeline"
            owned.setdefault(owner, []).append(resource)
        self.pipelines = {
            name: Pipeline(files[name], stack, settings, resources, self._retained(resources))
            for name, resources in owned.items()
        }

    def _retained(self, resources: list[RegisteredResource]) -> dict[tuple[str, str], bool]:
        return {(r.type, r.name): self.recorded.registration(r).retain_on_delete for r in resources}

    def __getitem__(self, tenant: str) -> Pipeline:
        return self.pipelines[tenant]
