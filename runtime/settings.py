"""The handler's configuration contract: environment variable names, in one place.

The processor component (components/processor.py) sets exactly these variables on every tenant's
function; tests/components checks that the two agree.
"""

TENANT = "TRIBUTARY_TENANT"
TABLE_NAME = "TRIBUTARY_TABLE_NAME"
WRITE_MODE = "TRIBUTARY_WRITE_MODE"  # events | latest | counters
PARTITION_KEY = "TRIBUTARY_PARTITION_KEY"  # template, e.g. "device#{device_id}"
SORT_KEY = "TRIBUTARY_SORT_KEY"  # template, optional, e.g. "{hour}"
EVENT_ID_FIELD = "TRIBUTARY_EVENT_ID_FIELD"  # optional payload field with the producer's event id
TIMESTAMP_FIELD = "TRIBUTARY_TIMESTAMP_FIELD"  # optional payload field with the event time
VERSION_FIELD = "TRIBUTARY_VERSION_FIELD"  # required for latest
COUNTER_FIELDS = "TRIBUTARY_COUNTER_FIELDS"  # comma-separated, required for counters
SCHEMA = "TRIBUTARY_SCHEMA"  # the tenant's JSON Schema, compact JSON
FAILURE_QUEUE_URL = "TRIBUTARY_FAILURE_QUEUE_URL"
TTL_DAYS = "TRIBUTARY_TTL_DAYS"  # optional; items get an `expires_at` epoch-seconds attribute
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

# The table's key and TTL attribute names; the table component uses the same names.
PARTITION_KEY_ATTRIBUTE = "pk"
SORT_KEY_ATTRIBUTE = "sk"
TTL_ATTRIBUTE = "expires_at"

# The IAM actions each write mode's writer needs on the table (TransactWriteItems is authorized per item
# action: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
# `events` puts an item alone (PutItem) only to find the one a BatchWriteItem's ValidationException hides.
# The processor role is granted exactly these (components/policies.py).
TABLE_ACTIONS = {
    "events": ("dynamodb:BatchWriteItem", "dynamodb:PutItem"),
    "latest": ("dynamodb:PutItem",),
    "counters": ("dynamodb:PutItem", "dynamodb:UpdateItem"),
}
