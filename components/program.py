"""The Pulumi program: load every tenant file, keep the ones this stack selects, one pipeline each.

`__main__.py` runs `run` under `pulumi up`; the offline engine (components/offline.py) runs the very same steps
under Pulumi's mocks for `tributary plan`, the sandbox and the tests: `run`, or `build` tenant by tenant.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pulumi

from components import naming
from components.config import TenantFileError, load_tenants, tenant_files
from components.pipeline import TenantPipeline, TenantPipelineArgs
from components.stack import StackSettings, refuse_empty_selection, select_tenants

OUTPUTS = (
    "stream_arn",
    "stream_name",
    "table_name",
    "failure_queue_url",
    "archive_bucket",
    "key_arn",
    "function_name",
    "alarm_topic_arn",
    "dashboard_url",
    "producer_policy",
    "reader_policy",
)


def build(project_dir: Path, stack: str, settings: StackSettings) -> Iterator[tuple[str, TenantPipeline]]:
    """Build every selected tenant's pipeline, one at a time, and export its outputs under the tenant's name;
    once all are built, export the list of tenants. Yields (tenant, pipeline) as each is built, so a caller may
    let the engine register one tenant's resources before the next is built (components/offline.py does)."""
    stack_problem = naming.stack_name_problem(stack)
    if stack_problem is not None:  # said once for the stack, not once per tenant file
        raise TenantFileError([f"stack {stack}: stack name {stack_problem}"])
    tenants = load_tenants(tenant_files(project_dir / settings.tenants_dir), stack)
    selected = select_tenants(tenants, settings.tenants)
    refuse_empty_selection(selected, tenants, settings, f"stack {stack}")
    built = []
    for tenant in selected:
        pipeline = TenantPipeline(tenant.tenant, TenantPipelineArgs(tenant=tenant, stack=stack, settings=settings))
        pulumi.export(tenant.tenant, {output: getattr(pipeline, output) for output in OUTPUTS})
        built.append(tenant.tenant)
        yield tenant.tenant, pipeline
    pulumi.export("tenants", sorted(built))


def run(project_dir: Path, stack: str, settings: StackSettings) -> dict[str, TenantPipeline]:
    """Build every selected tenant's pipeline and export its outputs under the tenant's name."""
    return dict(build(project_dir, stack, settings))
