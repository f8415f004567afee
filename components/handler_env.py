"""The environment the processor gives the shared handler: the handler's only configuration.

The variable names are the handler's contract (runtime/settings.py); tests/components checks that this
module sets exactly those names. Kept pure so the tenant-file validator can size it before deploying.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from components import defaults, naming

if TYPE_CHECKING:
    from components.config import TenantFile


def dedupe_ttl_seconds(tenant: TenantFile) -> int:
    """How long a counters dedupe marker must live: longer than any record can be redelivered.

    A record can come back while it is in the stream (retention) and, replayed by hand, while its
    failure message is in the failure queue (14 days). A day of margin on top of the longer one.
    """
    horizon = max(tenant.stream.retention_hours * 3600, defaults.FAILURE_QUEUE_RETENTION_SECONDS)
    return horizon + 86400


def handler_environment(tenant: TenantFile, table_name: str, failure_queue_url: str) -> dict[str, str]:
    records = tenant.records
    environment = {
        "TRIBUTARY_TENANT": tenant.tenant,
        "TRIBUTARY_TABLE_NAME": table_name,
        "TRIBUTARY_WRITE_MODE": records.write,
        "TRIBUTARY_PARTITION_KEY": records.partition_key,
        "TRIBUTARY_SORT_KEY": records.sort_key or "",
        "TRIBUTARY_EVENT_ID_FIELD": records.event_id or "",
        "TRIBUTARY_TIMESTAMP_FIELD": records.timestamp or "",
        "TRIBUTARY_VERSION_FIELD": records.version or "",
        "TRIBUTARY_COUNTER_FIELDS": ",".join(records.counters or []),
        "TRIBUTARY_SCHEMA": json.dumps(records.schema_, separators=(",", ":"), sort_keys=True),
        "TRIBUTARY_FAILURE_QUEUE_URL": failure_queue_url,
        "TRIBUTARY_TTL_DAYS": str(records.ttl_days or ""),
        "TRIBUTARY_DEDUPE_TTL_SECONDS": str(dedupe_ttl_seconds(tenant)),
        **defaults.POWERTOOLS_ENVIRONMENT,
    }
    # Lambda refuses empty values for nothing, but unset is clearer than empty for optional settings.
    return {key: value for key, value in environment.items() if value != ""}


def estimated_size(tenant: TenantFile, stack: str) -> int:
    """Bytes the environment takes, sized with the longest region and a real account id."""
    names = naming.tenant_names(tenant.tenant, stack)
    url = naming.queue_url(naming.PLACEHOLDER_REGION, naming.PLACEHOLDER_ACCOUNT, names.failure_queue)
    environment = handler_environment(tenant, names.table, url)
    return sum(len(key.encode()) + len(value.encode()) for key, value in environment.items())
