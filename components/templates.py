"""The starting tenant file `tributary new NAME` writes: valid as is, every field commented."""

TEMPLATE = """\
# Tenant file for {name}. Reference: README.md, "Tenant file reference". Check it: tributary validate
tenant: {name}                 # must match the file name
description: ""                # free text, shown in resource descriptions
owner: owner@example.com       # alarms notify this address unless alarms.notify is set
labels: {{}}                     # stacks select tenants by label, e.g. cell: "1"
tags: {{}}                       # added to every AWS resource of this tenant
# account: {{role_arn: "arn:aws:iam::123456789012:role/tributary-deploy", region: eu-west-1}}
retain_on_delete: true         # removing this file keeps the table, buckets and key

stream:
  mode: on_demand              # on_demand | provisioned (then set shards: 1..500)
  retention_hours: 24          # 24..8760
  enhanced_fan_out: false      # a dedicated 2 MB/s per shard for the processor
  producers: []                # IAM role ARNs allowed to use this stream's key

processing:
  batch_size: 100              # 1..10000 records per invocation
  batch_window_seconds: 5      # 0..300: wait this long to fill a batch
  parallelization_factor: 1    # 1..10 concurrent batches per shard (order kept per partition key)
  starting_position: TRIM_HORIZON
  max_retries: 3               # 0..10000; never infinite
  max_record_age_seconds: 3600 # 60..604800, at most the stream's retention
  memory_mb: 256
  timeout_seconds: 60
  on_failure: sqs              # sqs | s3: where batches that run out of retries are recorded

records:
  write: events                # events (append) | latest (newest version) | counters (sums)
  schema:                      # JSON Schema of one payload; invalid records go to the failure queue
    type: object
    required: [id, at]
    properties:
      id: {{type: string}}
      at: {{type: string, format: date-time}}
      value: {{type: number}}
  partition_key: "item#{{id}}"    # templates over payload fields, plus {{hour}} and {{day}} of the event time
  sort_key: "{{day}}"
  event_id: id                 # the producer's event id; without it, shard + sequence number
  timestamp: at                # event time for {{hour}}/{{day}}; without it, arrival time
  # ttl_days: 30

archive:
  enabled: true
  format: parquet              # parquet | json
  buffer_mb: 64                # at least 64 with parquet
  buffer_seconds: 300          # 60..900

table:
  point_in_time_recovery: true
  deletion_protection: true

alarms:
  iterator_age_seconds: 60
  error_rate_percent: 1
  duration_percent_of_timeout: 50
"""


def new_tenant_file(name: str) -> str:
    return TEMPLATE.format(name=name)
