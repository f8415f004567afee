"""The handler's contract with the infrastructure, stated once: what components/ imports instead of restating.

- the environment variable names the processor component sets (components/handler_env.py),
- the item attributes the table is built around (components/table.py) and the payload field names they
  reserve (the tenant-file checks),
- the metrics the handler publishes, their namespace and dimensions (components/alarms.py's dashboard).

The key template grammar is the other half of the contract and lives in runtime/templates.py; what each write
mode needs (its settings, key layout, table actions) is declared by the mode, in runtime/modes/. This module is
pure data: importing it loads neither boto3 nor powertools, so the infrastructure code can use it.
"""

# -- environment variables: the handler's only configuration ----------------------------------------------------

TENANT = "TRIBUTARY_TENANT"
TABLE_NAME = "TRIBUTARY_TABLE_NAME"
WRITE_MODE = "TRIBUTARY_WRITE_MODE"  # one of runtime.modes.WRITE_MODES
PARTITION_KEY = "TRIBUTARY_PARTITION_KEY"  # template, e.g. "device#{device_id}"
SORT_KEY = "TRIBUTARY_SORT_KEY"  # template, optional, e.g. "{hour}"
EVENT_ID_FIELD = "TRIBUTARY_EVENT_ID_FIELD"  # optional payload field with the producer's event id
TIMESTAMP_FIELD = "TRIBUTARY_TIMESTAMP_FIELD"  # optional payload field with the event time
VERSION_FIELD = "TRIBUTARY_VERSION_FIELD"  # required for latest
COUNTER_FIELDS = "TRIBUTARY_COUNTER_FIELDS"  # comma-separated (COUNTER_FIELDS_SEPARATOR), required for counters
SCHEMA = "TRIBUTARY_SCHEMA"  # the tenant's JSON Schema, compact JSON
FAILURE_QUEUE_URL = "TRIBUTARY_FAILURE_QUEUE_URL"
TTL_DAYS = "TRIBUTARY_TTL_DAYS"  # optional; items get a TTL_ATTRIBUTE in epoch seconds
DEDUPE_TTL_SECONDS = "TRIBUTARY_DEDUPE_TTL_SECONDS"  # lifetime of counters' dedupe markers

ALL = (
    TENANT,
    TABLE_NAME,
    WRITE_MODE,
    PARTITION_KEY,
    SORT_KEY,
    EVENT_ID_FIELD,
    TIMESTAMP_FIELD,
    VERSION_FIELD,
    COUNTER_FIELDS,
    SCHEMA,
    FAILURE_QUEUE_URL,
    TTL_DAYS,
    DEDUPE_TTL_SECONDS,
)
COUNTER_FIELDS_SEPARATOR = ","

# -- item attributes -----------------------------------------------------------------------------------------------

# The table's string key attributes and its TTL attribute (epoch seconds).
PARTITION_KEY_ATTRIBUTE = "pk"
SORT_KEY_ATTRIBUTE = "sk"
TTL_ATTRIBUTE = "expires_at"
# Where each item came from, written next to the payload's own fields.
EVENT_ID_ATTRIBUTE = "_event_id"
SHARD_ATTRIBUTE = "_shard"
SEQUENCE_ATTRIBUTE = "_sequence"
SUB_SEQUENCE_ATTRIBUTE = "_sub_sequence"
ARRIVAL_ATTRIBUTE = "_arrival"
METADATA_ATTRIBUTES = (
    EVENT_ID_ATTRIBUTE,
    SHARD_ATTRIBUTE,
    SEQUENCE_ATTRIBUTE,
    SUB_SEQUENCE_ATTRIBUTE,
    ARRIVAL_ATTRIBUTE,
)
# The per-key event count the counters mode keeps next to the summed fields.
EVENTS_COUNTER = "events"
# Payload field names the handler refuses (schema_invalid), because an item attribute already has the name;
# counters also reserve their event count.
RESERVED_ATTRIBUTES = frozenset((PARTITION_KEY_ATTRIBUTE, SORT_KEY_ATTRIBUTE, TTL_ATTRIBUTE) + METADATA_ATTRIBUTES)
COUNTERS_RESERVED_ATTRIBUTES = RESERVED_ATTRIBUTES | {EVENTS_COUNTER}

# -- metrics -------------------------------------------------------------------------------------------------------

# Powertools reads these two from POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE, which the processor
# component sets to these values; the handler falls back to them when the variables are unset.
SERVICE_NAME = "tributary"
METRICS_NAMESPACE = "Tributary"
# Every handler metric carries both dimensions: the handler adds the tenant's, Powertools adds the service's.
TENANT_DIMENSION = "tenant"
SERVICE_DIMENSION = "service"

RECORDS_RECEIVED = "RecordsReceived"
RECORDS_WRITTEN = "RecordsWritten"
DUPLICATES_SKIPPED = "DuplicatesSkipped"
STALE_SKIPPED = "StaleSkipped"
RECORDS_INVALID = "RecordsInvalid"
RECORDS_RETRIED = "RecordsRetried"
WRITE_RETRIES = "WriteRetries"
BATCH_AGE_MILLISECONDS = "BatchAgeMilliseconds"
