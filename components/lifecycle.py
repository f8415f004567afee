"""A tenant's lifecycle: what each state of the tenant file's `lifecycle` keeps, removes and lets go.

Removing a tenant never loses data in one step (DESIGN.md: "removing a tenant keeps its key, table and buckets
until a second explicit step"):

- `active`: the whole pipeline.
- `offboarded`: only what holds data, each part as the pipeline had it: the key (and its alias), the table, the
  failure queue and bucket, the archive bucket with its Glue table (Athena and `tributary query` still read it).
  The next `pulumi up` removes the stream, function, mapping, Firehose, alarms and dashboard.
- `delete-data`: the second explicit step, confirmed by `delete_data_confirm: <tenant>`. The same data parts,
  let go: no deletion protection, not retained, buckets emptied on delete, and tagged `lifecycle=delete-data`
  so that the policy pack lets them be deleted. Removing the file afterwards deletes them; the key is scheduled
  for deletion after its deletion window.

Pure data: the schema, the pipeline, `tributary plan`, the sandbox and the tests read it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from components import defaults

if TYPE_CHECKING:  # the schema imports this module for the field's values
    from components.tenant_schema import TenantFile

Lifecycle = Literal["active", "offboarded", "delete-data"]
ACTIVE: Lifecycle = "active"
OFFBOARDED: Lifecycle = "offboarded"
DELETE_DATA: Lifecycle = "delete-data"
# Set to DELETE_DATA on every resource of a tenant whose data is let go: the policy pack's data-protection rules
# accept a resource so tagged (policy/rules/table_deletion_protection.py). A tenant file may not set it.
LIFECYCLE_TAG = "lifecycle"


def runs_pipeline(lifecycle: Lifecycle) -> bool:
    """Whether the tenant has its stream, function, mapping, Firehose and alarms."""
    return lifecycle == ACTIVE


def lets_data_go(lifecycle: Lifecycle) -> bool:
    """Whether removing the tenant deletes what holds data, whatever `retain_on_delete` says."""
    return lifecycle == DELETE_DATA


def data_parts(tenant: TenantFile) -> list[str]:
    """What holds the tenant's data, in the words the plan uses."""
    parts = ["key", "table", "failure queue"]
    if tenant.processing.on_failure == "s3":
        parts.append("failure bucket")
    if tenant.archive.enabled:
        parts.append("archive")
    return parts


def pipeline_parts(tenant: TenantFile) -> list[str]:
    """What runs the tenant's pipeline and holds no data of its own, in the words the plan uses."""
    return ["stream", "function", "mapping", *(["Firehose"] if tenant.archive.enabled else []), "alarms", "dashboard"]


def _listed(parts: list[str]) -> str:
    return ", ".join(parts)


def plan_line(tenant: TenantFile) -> str:
    """One line for `tributary plan`: the tenant's state, what it runs, keeps and removes, and what removing the
    tenant's file does to its data."""
    data, pipeline = _listed(data_parts(tenant)), _listed(pipeline_parts(tenant))
    if runs_pipeline(tenant.lifecycle):
        on_removal = (
            f"keeps {data}" if tenant.retain_on_delete else f"lets `pulumi up` delete {data} (retain_on_delete: false)"
        )
        return f"lifecycle {ACTIVE}: runs {pipeline}; removing the file {on_removal}"
    if lets_data_go(tenant.lifecycle):
        window = defaults.KMS_DELETION_WINDOW_DAYS
        kept = (
            "until the file is removed, then `pulumi up` deletes them "
            f"(buckets emptied, key after its {window}-day deletion window)"
        )
    elif tenant.retain_on_delete:
        kept = "(removing the file keeps them too)"
    else:
        kept = "until the file is removed (retain_on_delete: false)"
    return f"lifecycle {tenant.lifecycle}: keeps {data} {kept}; removes {pipeline}"
