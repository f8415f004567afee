"""access.calls: what each API call asks IAM for, operation by operation."""

import pytest

from access.call_types import Call, UnknownOperation, UnresolvedResource
from access.calls import calls_for
from access.operations import OPERATIONS

ROLE = "arn:aws:iam::123456789012:role/acme-dev-processor"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/acme-dev-events"
STREAM = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/acme-dev-ingest"
CONSUMER = f"{STREAM}/consumer/acme-dev-archive:1700000000"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/acme-dev-failures"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:acme-dev-failures"
BUCKET = "arn:aws:s3:::acme-dev-archive"
OBJECT = f"{BUCKET}/year=2025/part-0.parquet"
LOG_STREAM = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/acme:log-stream:2025/01/01/[$LATEST]ab"
ALARM = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:acme-dev-iterator-age"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:acme-dev-alarms"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:acme-dev-processor"
ITERATOR = "AAAAAAAAAAFiterator"

KEY_PARAMS = {"TableName": "acme-dev-events", "Key": {"pk": {"S": "1"}}}
OBJECT_PARAMS = {"Bucket": "acme-dev-archive", "Key": "year=2025/part-0.parquet"}
GROUP_PARAMS = {"logGroupName": "/aws/lambda/acme"}
STREAM_PARAMS = {**GROUP_PARAMS, "logStreamName": "2025/01/01/[$LATEST]ab"}

# (service, operation, params, [(action, resource), ...])
EXPECTATIONS = [
    ("dynamodb", "PutItem", {"TableName": "acme-dev-events", "Item": {}}, [("dynamodb:PutItem", TABLE)]),
    ("dynamodb", "UpdateItem", KEY_PARAMS, [("dynamodb:UpdateItem", TABLE)]),
    ("dynamodb", "DeleteItem", KEY_PARAMS, [("dynamodb:DeleteItem", TABLE)]),
    ("dynamodb", "GetItem", KEY_PARAMS, [("dynamodb:GetItem", TABLE)]),
    ("dynamodb", "Query", {"TableName": "acme-dev-events"}, [("dynamodb:Query", TABLE)]),
    (
        "dynamodb",
        "Query",
        {"TableName": "acme-dev-events", "IndexName": "by-day"},
        [("dynamodb:Query", f"{TABLE}/index/by-day")],
    ),
    ("dynamodb", "Scan", {"TableName": "acme-dev-events"}, [("dynamodb:Scan", TABLE)]),
    ("dynamodb", "DescribeTable", {"TableName": "acme-dev-events"}, [("dynamodb:DescribeTable", TABLE)]),
    ("dynamodb", "PutItem", {"TableName": TABLE, "Item": {}}, [("dynamodb:PutItem", TABLE)]),
    ("dynamodb", "BatchWriteItem", {"RequestItems": {"acme-dev-events": []}}, [("dynamodb:BatchWriteItem", TABLE)]),
    ("dynamodb", "BatchGetItem", {"RequestItems": {"acme-dev-events": {}}}, [("dynamodb:BatchGetItem", TABLE)]),
    (
        "dynamodb",
        "TransactGetItems",
        {"TransactItems": [{"Get": KEY_PARAMS}, {"Get": KEY_PARAMS}]},
        [("dynamodb:GetItem", TABLE), ("dynamodb:GetItem", TABLE)],
    ),
    (
        "dynamodb",
        "TransactWriteItems",
        {"TransactItems": [{"Put": {"TableName": "acme-dev-events", "Item": {}}}]},
        [("dynamodb:PutItem", TABLE)],
    ),
    ("kinesis", "DescribeStream", {"StreamName": "acme-dev-ingest"}, [("kinesis:DescribeStream", STREAM)]),
    ("kinesis", "DescribeStreamSummary", {"StreamARN": STREAM}, [("kinesis:DescribeStreamSummary", STREAM)]),
    ("kinesis", "ListShards", {"StreamName": "acme-dev-ingest"}, [("kinesis:ListShards", STREAM)]),
    ("kinesis", "ListShards", {"NextToken": "page-2"}, [("kinesis:ListShards", STREAM)]),
    (
        "kinesis",
        "GetShardIterator",
        {"StreamName": "acme-dev-ingest", "ShardId": "shardId-000000000000", "ShardIteratorType": "LATEST"},
        [("kinesis:GetShardIterator", STREAM)],
    ),
    ("kinesis", "GetRecords", {"ShardIterator": ITERATOR}, [("kinesis:GetRecords", STREAM)]),
    ("kinesis", "PutRecord", {"StreamName": "acme-dev-ingest", "Data": b"{}"}, [("kinesis:PutRecord", STREAM)]),
    ("kinesis", "PutRecords", {"StreamARN": STREAM, "Records": []}, [("kinesis:PutRecords", STREAM)]),
    ("kinesis", "SubscribeToShard", {"ConsumerARN": CONSUMER}, [("kinesis:SubscribeToShard", CONSUMER)]),
    ("kinesis", "DescribeStreamConsumer", {"ConsumerARN": CONSUMER}, [("kinesis:DescribeStreamConsumer", CONSUMER)]),
    (
        "kinesis",
        "RegisterStreamConsumer",
        {"StreamARN": STREAM, "ConsumerName": "acme-dev-archive"},
        [("kinesis:RegisterStreamConsumer", STREAM)],
    ),
    ("kinesis", "ListStreamConsumers", {"StreamARN": STREAM}, [("kinesis:ListStreamConsumers", STREAM)]),
    ("sqs", "SendMessage", {"QueueUrl": QUEUE_URL}, [("sqs:SendMessage", QUEUE)]),
    ("sqs", "SendMessageBatch", {"QueueUrl": QUEUE_URL}, [("sqs:SendMessage", QUEUE)]),
    ("sqs", "ReceiveMessage", {"QueueUrl": QUEUE_URL}, [("sqs:ReceiveMessage", QUEUE)]),
    ("sqs", "DeleteMessage", {"QueueUrl": QUEUE_URL}, [("sqs:DeleteMessage", QUEUE)]),
    ("sqs", "DeleteMessageBatch", {"QueueUrl": QUEUE_URL}, [("sqs:DeleteMessage", QUEUE)]),
    ("sqs", "ChangeMessageVisibility", {"QueueUrl": QUEUE_URL}, [("sqs:ChangeMessageVisibility", QUEUE)]),
    ("sqs", "ChangeMessageVisibilityBatch", {"QueueUrl": QUEUE_URL}, [("sqs:ChangeMessageVisibility", QUEUE)]),
    ("sqs", "GetQueueAttributes", {"QueueUrl": QUEUE_URL}, [("sqs:GetQueueAttributes", QUEUE)]),
    ("sqs", "GetQueueUrl", {"QueueName": "acme-dev-failures"}, [("sqs:GetQueueUrl", QUEUE)]),
    ("s3", "PutObject", OBJECT_PARAMS, [("s3:PutObject", OBJECT)]),
    (
        "s3",
        "PutObject",
        {**OBJECT_PARAMS, "Tagging": "a=b"},
        [("s3:PutObject", OBJECT), ("s3:PutObjectTagging", OBJECT)],
    ),
    ("s3", "PutObject", {**OBJECT_PARAMS, "ACL": "private"}, [("s3:PutObject", OBJECT), ("s3:PutObjectAcl", OBJECT)]),
    ("s3", "GetObject", OBJECT_PARAMS, [("s3:GetObject", OBJECT)]),
    ("s3", "GetObject", {**OBJECT_PARAMS, "VersionId": "v1"}, [("s3:GetObjectVersion", OBJECT)]),
    ("s3", "HeadObject", OBJECT_PARAMS, [("s3:GetObject", OBJECT)]),
    ("s3", "DeleteObject", OBJECT_PARAMS, [("s3:DeleteObject", OBJECT)]),
    (
        "s3",
        "DeleteObject",
        {**OBJECT_PARAMS, "VersionId": "v1"},
        [("s3:DeleteObject", OBJECT), ("s3:DeleteObjectVersion", OBJECT)],
    ),
    (
        "s3",
        "DeleteObjects",
        {"Bucket": "acme-dev-archive", "Delete": {"Objects": [{"Key": "a"}, {"Key": "b"}]}},
        [("s3:DeleteObject", f"{BUCKET}/a"), ("s3:DeleteObject", f"{BUCKET}/b")],
    ),
    ("s3", "ListObjects", {"Bucket": "acme-dev-archive"}, [("s3:ListBucket", BUCKET)]),
    ("s3", "ListObjectsV2", {"Bucket": "acme-dev-archive", "Prefix": "year="}, [("s3:ListBucket", BUCKET)]),
    ("s3", "HeadBucket", {"Bucket": "acme-dev-archive"}, [("s3:ListBucket", BUCKET)]),
    ("s3", "CreateMultipartUpload", OBJECT_PARAMS, [("s3:PutObject", OBJECT)]),
    ("s3", "UploadPart", {**OBJECT_PARAMS, "UploadId": "u", "PartNumber": 1}, [("s3:PutObject", OBJECT)]),
    ("s3", "CompleteMultipartUpload", {**OBJECT_PARAMS, "UploadId": "u"}, [("s3:PutObject", OBJECT)]),
    ("s3", "AbortMultipartUpload", {**OBJECT_PARAMS, "UploadId": "u"}, [("s3:AbortMultipartUpload", OBJECT)]),
    ("s3", "ListMultipartUploads", {"Bucket": "acme-dev-archive"}, [("s3:ListBucketMultipartUploads", BUCKET)]),
    ("s3", "GetBucketLocation", {"Bucket": "acme-dev-archive"}, [("s3:GetBucketLocation", BUCKET)]),
    ("logs", "CreateLogStream", STREAM_PARAMS, [("logs:CreateLogStream", LOG_STREAM)]),
    ("logs", "PutLogEvents", {**STREAM_PARAMS, "logEvents": []}, [("logs:PutLogEvents", LOG_STREAM)]),
    (
        "logs",
        "DescribeLogStreams",
        GROUP_PARAMS,
        [("logs:DescribeLogStreams", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/acme:*")],
    ),
    (
        "logs",
        "DescribeLogStreams",
        {"logGroupIdentifier": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/acme:*"},
        [("logs:DescribeLogStreams", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/acme:*")],
    ),
    ("sns", "Publish", {"TopicArn": TOPIC, "Message": "alarm"}, [("sns:Publish", TOPIC)]),
    (
        "glue",
        "GetTable",
        {"DatabaseName": "acme_dev", "Name": "events", "CatalogId": "210987654321"},
        [
            ("glue:GetTable", f"arn:aws:glue:{REGION}:210987654321:catalog"),
            ("glue:GetTable", f"arn:aws:glue:{REGION}:210987654321:database/acme_dev"),
            ("glue:GetTable", f"arn:aws:glue:{REGION}:210987654321:table/acme_dev/events"),
        ],
    ),
    ("cloudwatch", "PutMetricData", {"Namespace": "Tributary", "MetricData": []}, [("cloudwatch:PutMetricData", "*")]),
    ("cloudwatch", "GetMetricData", {"MetricDataQueries": []}, [("cloudwatch:GetMetricData", "*")]),
    ("cloudwatch", "GetMetricStatistics", {"Namespace": "AWS/Kinesis"}, [("cloudwatch:GetMetricStatistics", "*")]),
    (
        "cloudwatch",
        "DescribeAlarms",
        {"AlarmNames": ["acme-dev-iterator-age", "acme-dev-errors"]},
        [("cloudwatch:DescribeAlarms", ALARM), ("cloudwatch:DescribeAlarms", ALARM.replace("iterator-age", "errors"))],
    ),
    (
        "cloudwatch",
        "DescribeAlarms",
        {"AlarmNamePrefix": "acme-dev-"},
        [("cloudwatch:DescribeAlarms", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:acme-dev-*")],
    ),
    (
        "cloudwatch",
        "SetAlarmState",
        {"AlarmName": "acme-dev-iterator-age", "StateValue": "ALARM"},
        [("cloudwatch:SetAlarmState", ALARM)],
    ),
    ("xray", "PutTraceSegments", {"TraceSegmentDocuments": []}, [("xray:PutTraceSegments", "*")]),
    ("xray", "PutTelemetryRecords", {"TelemetryRecords": []}, [("xray:PutTelemetryRecords", "*")]),
    ("kms", "Decrypt", {"KeyId": KEY, "CiphertextBlob": b"x"}, [("kms:Decrypt", KEY)]),
    ("kms", "GenerateDataKey", {"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}, [("kms:GenerateDataKey", KEY)]),
    ("kms", "DescribeKey", {"KeyId": KEY}, [("kms:DescribeKey", KEY)]),
    ("kms", "CreateKey", {}, [("kms:CreateKey", "*")]),
    ("kms", "GenerateRandom", {"NumberOfBytes": 8}, [("kms:GenerateRandom", "*")]),
    ("kms", "ListAliases", {}, [("kms:ListAliases", "*")]),
    ("kms", "ListKeys", {}, [("kms:ListKeys", "*")]),
    ("lambda", "Invoke", {"FunctionName": "acme-dev-processor"}, [("lambda:InvokeFunction", FUNCTION)]),
    ("lambda", "Invoke", {"FunctionName": FUNCTION}, [("lambda:InvokeFunction", FUNCTION)]),
    (
        "lambda",
        "Invoke",
        {"FunctionName": f"{ACCOUNT}:function:acme-dev-processor", "Qualifier": "live"},
        [("lambda:InvokeFunction", f"{FUNCTION}:live")],
    ),
    ("lambda", "Invoke", {"FunctionName": "acme-dev-processor:7"}, [("lambda:InvokeFunction", f"{FUNCTION}:7")]),
]

GLUE_TABLE_READS = [
    ("GetTable", {"DatabaseName": "acme_dev", "Name": "events"}),
    ("GetTableVersion", {"DatabaseName": "acme_dev", "TableName": "events", "VersionId": "1"}),
    ("GetTableVersions", {"DatabaseName": "acme_dev", "TableName": "events"}),
]


def requests(service, operation, params, **options):
    calls = calls_for(
        service,
        operation,
        params,
        principal=ROLE,
        region=REGION,
        account=ACCOUNT,
        iterator_streams={ITERATOR: STREAM, "page-2": STREAM},
        **options,
    )
    return [(call.action, call.resource) for call in calls]


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    EXPECTATIONS,
    ids=[f"{service}:{operation}:{'/'.join(sorted(params))}" for service, operation, params, _ in EXPECTATIONS],
)
def test_calls_name_the_action_and_resource_for_each_operation(service, operation, params, expected):
    assert requests(service, operation, params) == expected


def test_calls_expectations_cover_every_operation_in_the_table():
    covered = {(service, operation) for service, operation, _, _ in EXPECTATIONS}
    covered |= {("glue", operation) for operation, _ in GLUE_TABLE_READS}
    assert set(OPERATIONS) - covered == set()


def test_calls_transact_write_items_one_call_per_item_with_its_own_action():
    other = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/acme-dev-dedupe"
    params = {
        "TransactItems": [
            {"ConditionCheck": {"TableName": "acme-dev-dedupe", "Key": {}, "ConditionExpression": "x"}},
            {"Put": {"TableName": "acme-dev-events", "Item": {}}},
            {"Update": {"TableName": "acme-dev-events", "Key": {}, "UpdateExpression": "SET a = :a"}},
            {"Delete": {"TableName": other, "Key": {}}},
        ]
    }
    assert requests("dynamodb", "TransactWriteItems", params) == [
        ("dynamodb:ConditionCheckItem", other),
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:DeleteItem", other),
    ]


def test_calls_batch_write_item_one_call_per_table_across_two_tables():
    params = {"RequestItems": {"acme-dev-events": [{"PutRequest": {}}], "acme-dev-dedupe": [{"DeleteRequest": {}}]}}
    assert requests("dynamodb", "BatchWriteItem", params) == [
        ("dynamodb:BatchWriteItem", TABLE),
        ("dynamodb:BatchWriteItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/acme-dev-dedupe"),
    ]


def test_calls_queue_url_becomes_the_arn_of_the_queue_owner_in_the_url():
    url = "http://127.0.0.1:5000/210987654321/acme-dev-failures"
    assert requests("sqs", "SendMessage", {"QueueUrl": url}) == [
        ("sqs:SendMessage", f"arn:aws:sqs:{REGION}:210987654321:acme-dev-failures")
    ]


def test_calls_get_queue_url_names_the_owner_account_when_given():
    params = {"QueueName": "shared", "QueueOwnerAWSAccountId": "210987654321"}
    assert requests("sqs", "GetQueueUrl", params) == [("sqs:GetQueueUrl", f"arn:aws:sqs:{REGION}:210987654321:shared")]


@pytest.mark.parametrize(("operation", "params"), GLUE_TABLE_READS)
def test_calls_glue_table_reads_need_the_catalog_database_and_table(operation, params):
    action = f"glue:{operation}"
    assert requests("glue", operation, params) == [
        (action, f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog"),
        (action, f"arn:aws:glue:{REGION}:{ACCOUNT}:database/acme_dev"),
        (action, f"arn:aws:glue:{REGION}:{ACCOUNT}:table/acme_dev/events"),
    ]


def test_calls_unknown_operation_raises_naming_service_and_operation():
    with pytest.raises(UnknownOperation) as raised:
        requests("dynamodb", "CreateTable", {"TableName": "t"})
    assert (raised.value.service, raised.value.operation) == ("dynamodb", "CreateTable")
    assert "list_amazondynamodb.html" in str(raised.value)


def test_calls_unknown_service_raises_unknown_operation():
    with pytest.raises(UnknownOperation):
        requests("firehose", "PutRecordBatch", {})


@pytest.mark.parametrize(
    ("service", "operation", "params"),
    [
        ("kinesis", "GetRecords", {"ShardIterator": "never-seen"}),
        ("kinesis", "ListShards", {"NextToken": "never-seen"}),
        ("kinesis", "DescribeStreamConsumer", {"StreamARN": STREAM, "ConsumerName": "acme-dev-archive"}),
        ("kms", "Decrypt", {"KeyId": "alias/acme-dev", "CiphertextBlob": b"x"}),
        ("kms", "Decrypt", {"CiphertextBlob": b"x"}),
        ("dynamodb", "PutItem", {"Item": {}}),
        ("sqs", "SendMessage", {"QueueUrl": "https://sqs.eu-west-1.amazonaws.com/acme-dev-failures"}),
        ("s3", "GetObject", {"Bucket": "arn:aws:s3:eu-west-1:123456789012:accesspoint/ap", "Key": "k"}),
    ],
)
def test_calls_unresolvable_resource_raises_rather_than_guessing(service, operation, params):
    with pytest.raises(UnresolvedResource) as raised:
        requests(service, operation, params)
    assert raised.value.operation == operation


def test_calls_carry_principal_operation_and_secure_transport():
    (call,) = calls_for("sqs", "SendMessage", {"QueueUrl": QUEUE_URL}, principal=ROLE, region=REGION, account=ACCOUNT)
    assert call == Call(ROLE, "sqs:SendMessage", QUEUE, {"aws:SecureTransport": "true"}, "SendMessage")


def test_calls_source_keys_only_when_the_caller_passes_them():
    source = {"aws:SourceArn": FUNCTION, "aws:SourceAccount": ACCOUNT}
    (call,) = calls_for(
        "sqs",
        "SendMessage",
        {"QueueUrl": QUEUE_URL},
        principal="service:lambda.amazonaws.com",
        region=REGION,
        account=ACCOUNT,
        context=source,
    )
    assert call.context == {"aws:SecureTransport": "true", **source}


def test_calls_put_metric_data_carries_its_namespace_condition_key():
    (call,) = calls_for(
        "cloudwatch", "PutMetricData", {"Namespace": "Tributary"}, principal=ROLE, region=REGION, account=ACCOUNT
    )
    assert call.context == {"aws:SecureTransport": "true", "cloudwatch:namespace": "Tributary"}


def test_calls_use_the_given_partition():
    (call,) = calls_for(
        "dynamodb", "GetItem", KEY_PARAMS, principal=ROLE, region="cn-north-1", account=ACCOUNT, partition="aws-cn"
    )
    assert call.resource == f"arn:aws-cn:dynamodb:cn-north-1:{ACCOUNT}:table/acme-dev-events"
