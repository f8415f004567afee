"""Which tenant a resource of the stack belongs to, and what names and ARNs it owns.

A resource belongs to the tenant whose `TenantPipeline` component is its ancestor: the parent chain the engine
records, never the resource's name (`ab-catalog` could be tenant `ab`'s catalog or tenant `ab-catalog`). A
resource registered outside any component falls back to its `tenant` tag, which the program puts on every
resource that takes tags.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .rule import known
from .types import TENANT_PIPELINE

# Inputs that hold a resource's name in AWS (what its ARN and other resources' policies are built from).
PHYSICAL_NAME_PROPS = ("name", "bucket", "functionName", "dashboardName")


def tenant_of(resource: Any) -> str | None:
    node = resource
    while node is not None:
        if node.resource_type == TENANT_PIPELINE:
            return node.name
        node = node.parent
    tags = known(resource.props, "tags") or {}
    return known(tags, "tenant")


def by_tenant(resources: Iterable[Any]) -> dict[str, list[Any]]:
    """The stack's resources grouped by tenant; resources of no tenant are left out."""
    grouped: dict[str, list[Any]] = {}
    for resource in resources:
        tenant = tenant_of(resource)
        if tenant is not None and resource.resource_type != TENANT_PIPELINE:
            grouped.setdefault(tenant, []).append(resource)
    return grouped


def physical_names(resource: Any) -> set[str]:
    props: Mapping[str, Any] = resource.props
    return {value for key in PHYSICAL_NAME_PROPS if isinstance(value := known(props, key), str) and value}


def own_arns(resources: Iterable[Any]) -> set[str]:
    return {arn for resource in resources if isinstance(arn := known(resource.props, "arn"), str)}


def of_type(resources: Iterable[Any], *types: str) -> list[Any]:
    return [resource for resource in resources if resource.resource_type in types]
