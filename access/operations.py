"""The access table: for each (service, operation), a resolver that says which actions on which resources the call
needs, read from its API parameters.

Every action and resource type comes from the operation's row in the Service Authorization Reference page named
in `call_types.SOURCES`, unless a comment next to the resolver cites a more specific page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from access import arns
from access.call_types import EVERYTHING, Need, Resolver, Where


def _on(action: str, resource: Callable[[Mapping, Where], str]) -> Resolver:
    """A resolver for an operation that needs one action on one resource."""
    return lambda params, where: [Need(action, resource(params, where))]


def _everywhere(action: str) -> Resolver:
    """A resolver for an action without resource-level permissions."""
    return lambda params, where: [Need(action, EVERYTHING)]


# --------------------------------------------------------------------------- DynamoDB


def _table_or_index(action: str) -> Resolver:
    """Query and Scan name the index resource type when they read a secondary index."""

    def resolve(params: Mapping, where: Where) -> list[Need]:
        table = arns.table_of(params, where)
        index = params.get("IndexName")
        return [Need(action, f"{table}/index/{index}" if index else table)]

    return resolve


def _per_table(action: str) -> Resolver:
    """BatchWriteItem and BatchGetItem: the batch's one action, once on every table in RequestItems."""
    return lambda params, where: [Need(action, arns.table(name, where)) for name in params["RequestItems"]]


# TransactWriteItems is authorized per item, each with the action of its kind; ConditionCheck has its own.
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
TRANSACT_WRITE_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


def _transact_items(actions: Mapping[str, str]) -> Resolver:
    def resolve(params: Mapping, where: Where) -> list[Need]:
        needs = []
        for item in params["TransactItems"]:
            kind = next((kind for kind in actions if kind in item), None)
            if kind is None:
                raise where.unresolved(f"transaction item with none of {sorted(actions)}: {sorted(item)}")
            needs.append(Need(actions[kind], arns.table(item[kind]["TableName"], where)))
        return needs

    return resolve


# --------------------------------------------------------------------------- S3

ACL_PARAMETERS = ("ACL", "GrantFullControl", "GrantRead", "GrantReadACP", "GrantWriteACP")


def _object_write(params: Mapping, where: Where) -> list[Need]:
    """PutObject always needs s3:PutObject, and s3:PutObjectAcl or s3:PutObjectTagging when the request sets an
    ACL or tags. https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html (Permissions); the
    Reference lists the same actions for CreateMultipartUpload."""
    resource = arns.object_arn(params, where)
    needs = [Need("s3:PutObject", resource)]
    if any(name in params for name in ACL_PARAMETERS):
        needs.append(Need("s3:PutObjectAcl", resource))
    if "Tagging" in params:
        needs.append(Need("s3:PutObjectTagging", resource))
    return needs


def _object_read(params: Mapping, where: Where) -> list[Need]:
    """A versionId read needs s3:GetObjectVersion and not s3:GetObject.
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (Permissions)"""
    return [Need("s3:GetObjectVersion" if "VersionId" in params else "s3:GetObject", arns.object_arn(params, where))]


def _object_delete(params: Mapping, where: Where) -> list[Need]:
    """Deleting always needs s3:DeleteObject, a specific version s3:DeleteObjectVersion too.
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html and API_DeleteObjects.html (Permissions)
    """
    resource = arns.object_arn(params, where)
    needs = [Need("s3:DeleteObject", resource)]
    if "VersionId" in params:
        needs.append(Need("s3:DeleteObjectVersion", resource))
    return needs


def _objects_delete(params: Mapping, where: Where) -> list[Need]:
    bucket = params["Bucket"]
    return [need for key in params["Delete"]["Objects"] for need in _object_delete({"Bucket": bucket, **key}, where)]


# --------------------------------------------------------------------------- Glue


def _glue_table_read(action: str) -> Resolver:
    """A Data Catalog table read is authorized on the catalog, the database and the table.
    https://docs.aws.amazon.com/glue/latest/dg/glue-specifying-resource-arns.html; Firehose's role template for
    record format conversion grants exactly these three.
    https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html"""

    def resolve(params: Mapping, where: Where) -> list[Need]:
        database = params["DatabaseName"]
        table = params["Name"] if "Name" in params else params["TableName"]
        catalog = params.get("CatalogId", where.account)
        return [
            Need(action, where.arn("glue", "catalog", account=catalog)),
            Need(action, where.arn("glue", f"database/{database}", account=catalog)),
            Need(action, where.arn("glue", f"table/{database}/{table}", account=catalog)),
        ]

    return resolve


# --------------------------------------------------------------------------- CloudWatch


def _describe_alarms(params: Mapping, where: Where) -> list[Need]:
    """Named alarms are each a resource; a prefix or no filter asks for every alarm it could return."""
    if params.get("AlarmNames"):
        return [Need("cloudwatch:DescribeAlarms", arns.alarm(name, where)) for name in params["AlarmNames"]]
    return [Need("cloudwatch:DescribeAlarms", arns.alarm(f"{params.get('AlarmNamePrefix', '')}*", where))]


def _put_metric_data(params: Mapping, where: Where) -> list[Need]:
    # cloudwatch:namespace is the request's Namespace (condition keys table of the Reference page).
    return [Need("cloudwatch:PutMetricData", EVERYTHING, {"cloudwatch:namespace": params["Namespace"]})]


# --------------------------------------------------------------------------- KMS

# Operations that use no particular KMS key: their Resource is "*" (cmks-in-iam-policies.html, above).
KEYLESS_KMS_OPERATIONS = ("CreateKey", "GenerateRandom", "ListAliases", "ListKeys")


def _kms_key_operation(params: Mapping, where: Where) -> list[Need]:
    """Any KMS operation that names its key in KeyId: the action is the operation's name."""
    if "KeyId" not in params:
        raise where.unresolved("no KeyId names the key (a Decrypt of symmetric ciphertext carries it inside)")
    return [Need(f"kms:{where.operation}", arns.key(params["KeyId"], where))]


# --------------------------------------------------------------------------- the table


def _same_name(service: str, operations: Iterable[str], resource: Callable[[Mapping, Where], str]) -> dict:
    """Resolvers for operations whose IAM action has the operation's own name, each on one resource."""
    return {(service, operation): _on(f"{service}:{operation}", resource) for operation in operations}


OPERATIONS: dict[tuple[str, str], Resolver] = {
    # DynamoDB: SOURCES["dynamodb"]
    **_same_name("dynamodb", ("PutItem", "UpdateItem", "DeleteItem", "GetItem", "DescribeTable"), arns.table_of),
    ("dynamodb", "Query"): _table_or_index("dynamodb:Query"),
    ("dynamodb", "Scan"): _table_or_index("dynamodb:Scan"),
    ("dynamodb", "BatchWriteItem"): _per_table("dynamodb:BatchWriteItem"),
    ("dynamodb", "BatchGetItem"): _per_table("dynamodb:BatchGetItem"),
    ("dynamodb", "TransactWriteItems"): _transact_items(TRANSACT_WRITE_ACTIONS),
    ("dynamodb", "TransactGetItems"): _transact_items({"Get": "dynamodb:GetItem"}),
    # Kinesis Data Streams: SOURCES["kinesis"]; a shard iterator expires five minutes after it is returned.
    **_same_name(
        "kinesis",
        (
            "DescribeStream",
            "DescribeStreamSummary",
            "GetShardIterator",
            "PutRecord",
            "PutRecords",
            "RegisterStreamConsumer",
            "ListStreamConsumers",
        ),
        arns.stream,
    ),
    ("kinesis", "ListShards"): _on("kinesis:ListShards", arns.stream_by_token("NextToken")),
    ("kinesis", "GetRecords"): _on("kinesis:GetRecords", arns.stream_by_token("ShardIterator")),
    **_same_name("kinesis", ("SubscribeToShard", "DescribeStreamConsumer"), arns.consumer),
    # SQS: SOURCES["sqs"]; batch operations are authorized by their single-message action.
    ("sqs", "SendMessage"): _on("sqs:SendMessage", arns.queue),
    ("sqs", "SendMessageBatch"): _on("sqs:SendMessage", arns.queue),
    ("sqs", "ReceiveMessage"): _on("sqs:ReceiveMessage", arns.queue),
    ("sqs", "DeleteMessage"): _on("sqs:DeleteMessage", arns.queue),
    ("sqs", "DeleteMessageBatch"): _on("sqs:DeleteMessage", arns.queue),
    ("sqs", "ChangeMessageVisibility"): _on("sqs:ChangeMessageVisibility", arns.queue),
    ("sqs", "ChangeMessageVisibilityBatch"): _on("sqs:ChangeMessageVisibility", arns.queue),
    ("sqs", "GetQueueAttributes"): _on("sqs:GetQueueAttributes", arns.queue),
    ("sqs", "GetQueueUrl"): _on("sqs:GetQueueUrl", arns.queue_by_name),
    # S3: SOURCES["s3"]; multipart parts and completion are object writes, HEAD is a read.
    ("s3", "PutObject"): _object_write,
    ("s3", "CreateMultipartUpload"): _object_write,
    ("s3", "UploadPart"): _on("s3:PutObject", arns.object_arn),
    ("s3", "CompleteMultipartUpload"): _on("s3:PutObject", arns.object_arn),
    ("s3", "AbortMultipartUpload"): _on("s3:AbortMultipartUpload", arns.object_arn),
    ("s3", "GetObject"): _object_read,
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html: "you must have the s3:GetObject
    # permission".
    ("s3", "HeadObject"): _on("s3:GetObject", arns.object_arn),
    ("s3", "DeleteObject"): _object_delete,
    ("s3", "DeleteObjects"): _objects_delete,
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html: "permission to perform the
    # s3:ListBucket action".
    ("s3", "ListObjects"): _on("s3:ListBucket", arns.bucket),
    ("s3", "ListObjectsV2"): _on("s3:ListBucket", arns.bucket),
    ("s3", "HeadBucket"): _on("s3:ListBucket", arns.bucket),
    ("s3", "ListMultipartUploads"): _on("s3:ListBucketMultipartUploads", arns.bucket),
    ("s3", "GetBucketLocation"): _on("s3:GetBucketLocation", arns.bucket),
    # CloudWatch Logs: SOURCES["logs"]; CreateLogStream and PutLogEvents are on the log-stream resource type.
    ("logs", "CreateLogStream"): _on("logs:CreateLogStream", arns.log_stream),
    ("logs", "PutLogEvents"): _on("logs:PutLogEvents", arns.log_stream),
    ("logs", "DescribeLogStreams"): _on("logs:DescribeLogStreams", arns.log_group),
    # SNS: SOURCES["sns"]
    ("sns", "Publish"): _on("sns:Publish", arns.topic),
    # Glue: SOURCES["glue"]
    ("glue", "GetTable"): _glue_table_read("glue:GetTable"),
    ("glue", "GetTableVersion"): _glue_table_read("glue:GetTableVersion"),
    ("glue", "GetTableVersions"): _glue_table_read("glue:GetTableVersions"),
    # CloudWatch: SOURCES["cloudwatch"]; metric data actions have no required resource type, alarms do.
    ("cloudwatch", "PutMetricData"): _put_metric_data,
    ("cloudwatch", "GetMetricData"): _everywhere("cloudwatch:GetMetricData"),
    ("cloudwatch", "GetMetricStatistics"): _everywhere("cloudwatch:GetMetricStatistics"),
    ("cloudwatch", "DescribeAlarms"): _describe_alarms,
    ("cloudwatch", "SetAlarmState"): _on("cloudwatch:SetAlarmState", arns.named_alarm),
    # X-Ray: SOURCES["xray"]; neither action has a resource type.
    ("xray", "PutTraceSegments"): _everywhere("xray:PutTraceSegments"),
    ("xray", "PutTelemetryRecords"): _everywhere("xray:PutTelemetryRecords"),
    # KMS: SOURCES["kms"]; keyless operations take "*", the others are resolved by SERVICE_WIDE.
    **{("kms", operation): _everywhere(f"kms:{operation}") for operation in KEYLESS_KMS_OPERATIONS},
    # Lambda: SOURCES["lambda"]; the Invoke operation is authorized by lambda:InvokeFunction.
    ("lambda", "Invoke"): _on("lambda:InvokeFunction", arns.function),
}

# Services whose every operation follows one rule, for operations not listed above.
SERVICE_WIDE: dict[str, Resolver] = {"kms": _kms_key_operation}
