"""The environment the processor gives the shared handler: the handler's only configuration.

The variable names are the handler's own (runtime/settings.py), imported rather than restated. Kept pure so
the tenant-file validator can size it before deploying.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from components import defaults, naming
from runtime import settings

if TYPE_CHECKING:
    # The schema, not the loader (components/config.py): the loader imports this module to size the environment.
    from components.tenant_schema import TenantFile


def dedupe_ttl_seconds(tenant: TenantFile) -> int:
    """How long a counters dedupe marker must live: longer than any record can be redelivered.

    A record can come back while it is in the stream (retention) and, replayed by hand, while its
    failure message is in the failure queue (14 days). A day of margin on top of the longer one.
    """
    horizon = max(tenant.stream.retention_hours * 3600, defaults.FAILURE_QUEUE_RETENTION_SECONDS)
    return horizon + 86400


def handler_environment(tenant: TenantFile, table_name: str, failure_queue_url: str) -> dict[str, str]:
    """The function's environment variables: one per setting of the tenant's handler, then Powertools'."""
    records = tenant.records
    environment = {
        settings.TENANT: tenant.tenant,
        settings.TABLE_NAME: table_name,
        settings.WRITE_MODE: records.write,
        settings.PARTITION_KEY: records.partition_key,
        settings.SORT_KEY: records.sort_key or "",
        settings.EVENT_ID_FIELD: records.event_id or "",
        settings.TIMESTAMP_FIELD: records.timestamp or "",
        settings.VERSION_FIELD: records.version or "",
        settings.COUNTER_FIELDS: settings.COUNTER_FIELDS_SEPARATOR.join(records.counters or []),
        settings.SCHEMA: json.dumps(records.schema_, separators=(",", ":"), sort_keys=True),
        settings.FAILURE_QUEUE_URL: failure_queue_url,
        settings.TTL_DAYS: str(records.ttl_days or ""),
        settings.DEDUPE_TTL_SECONDS: str(dedupe_ttl_seconds(tenant)),
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
