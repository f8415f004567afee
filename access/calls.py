"""What one AWS API call asks IAM for: each (action, resource) it is authorized on, as a `Call`.

    calls_for("dynamodb", "BatchWriteItem", params, principal=role_arn, region="us-east-1", account="123456789012")

Pure: a call is read from its API parameters alone, before it is sent. `OPERATIONS` holds one small resolver
per (service, operation); one API call can need several actions or resources (a transaction, a batch across
tables, a Glue table read). What the table cannot interpret raises `UnknownOperation` or `UnresolvedResource`:
the access proof must never skip a call silently.

Every action and resource type comes from the operation's row in the Service Authorization Reference page named
in `SOURCES`, unless a comment next to the resolver cites a more specific page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlparse

SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference"
SOURCES = {
    "dynamodb": f"{SAR}/list_amazondynamodb.html",
    "kinesis": f"{SAR}/list_amazonkinesisdatastreams.html",
    "sqs": f"{SAR}/list_amazonsqs.html",
    "s3": f"{SAR}/list_amazons3.html",
    "logs": f"{SAR}/list_amazoncloudwatchlogs.html",
    "sns": f"{SAR}/list_amazonsns.html",
    "glue": f"{SAR}/list_awsglue.html",
    "cloudwatch": f"{SAR}/list_amazoncloudwatch.html",
    "xray": f"{SAR}/list_awsx-ray.html",
    "kms": f"{SAR}/list_awskeymanagementservice.html",
    "lambda": f"{SAR}/list_awslambda.html",
}

# boto3 always talks HTTPS to AWS; the sandbox's plain-http endpoint is the emulator's, not the principal's.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-securetransport
SECURE_TRANSPORT = "aws:SecureTransport"
EVERYTHING = "*"  # the Resource of an action with no resource-level permissions


@dataclass(frozen=True)
class Call:
    """One authorization request: `principal` asks for `action` on `resource`, with the condition keys known
    when the call is made. `operation` is the API operation it came from."""

    principal: str  # role ARN, or "service:<name>" for a service principal
    action: str  # IAM action, e.g. "dynamodb:BatchWriteItem"
    resource: str  # resource ARN ("*" for actions without resource-level permissions)
    context: dict[str, str]  # condition keys, e.g. {"aws:SecureTransport": "true"}
    operation: str = ""  # e.g. "TransactWriteItems"


class UnrecordableCall(Exception):
    """Base of the errors `calls_for` raises for a call it cannot turn into authorization requests."""

    def __init__(self, service: str, operation: str, reason: str) -> None:
        super().__init__(f"{service}:{operation}: {reason}")
        self.service = service
        self.operation = operation
        self.reason = reason


class UnknownOperation(UnrecordableCall):
    """Raised by `calls_for` when (service, operation) has no resolver in `OPERATIONS`: add one, citing the
    operation's row in the Service Authorization Reference, rather than let the proof skip the call."""

    def __init__(self, service: str, operation: str) -> None:
        super().__init__(service, operation, f"not in the access table; add it from {SOURCES.get(service, SAR)}")


class UnresolvedResource(UnrecordableCall):
    """Raised by `calls_for` when the operation is known but its parameters do not name the resource IAM checks:
    a GetRecords iterator this process never obtained, a KMS alias, a missing parameter."""


@dataclass(frozen=True)
class Need:
    """One (action, resource) a resolver finds, with any condition keys the call's own parameters fix."""

    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Where:
    """Where the call goes: what a resolver needs besides the parameters to write full ARNs."""

    service: str
    operation: str
    region: str
    account: str
    partition: str
    iterator_streams: Mapping[str, str]

    def arn(self, service: str, resource: str, *, region: str | None = None, account: str | None = None) -> str:
        region = self.region if region is None else region
        account = self.account if account is None else account
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"

    def unresolved(self, reason: str) -> UnresolvedResource:
        return UnresolvedResource(self.service, self.operation, reason)


Resolver = Callable[[Mapping, Where], list[Need]]


def calls_for(
    service: str,
    operation: str,
    params: Mapping,
    *,
    principal: str,
    region: str,
    account: str,
    partition: str = "aws",
    iterator_streams: Mapping[str, str] | None = None,
    context: Mapping[str, str] | None = None,
) -> list[Call]:
    """The authorization requests one API call makes, in the order IAM would meet them.

    `service` is botocore's service name ("dynamodb", "logs", ...), `params` the call's API parameters.
    `iterator_streams` maps shard iterators (and ListShards page tokens) to their stream ARN, for the Kinesis
    calls that carry only those. `context` adds condition keys the caller knows, such as "aws:SourceArn" or
    "aws:SourceAccount" for a service principal acting for a resource; nothing else is assumed.
    Raises `UnknownOperation` or `UnresolvedResource` rather than guess.
    """
    resolver = OPERATIONS.get((service, operation)) or SERVICE_WIDE.get(service)
    if resolver is None:
        raise UnknownOperation(service, operation)
    where = Where(service, operation, region, account, partition, iterator_streams or {})
    try:
        needs = resolver(params, where)
    except KeyError as missing:
        raise where.unresolved(f"parameter {missing} is missing") from None
    base = {SECURE_TRANSPORT: "true", **(context or {})}
    return [Call(principal, need.action, need.resource, {**base, **need.context}, operation) for need in needs]


def _on(action: str, resource: Callable[[Mapping, Where], str]) -> Resolver:
    """A resolver for an operation that needs one action on one resource."""
    return lambda params, where: [Need(action, resource(params, where))]


def _everywhere(action: str) -> Resolver:
    """A resolver for an action without resource-level permissions."""
    return lambda params, where: [Need(action, EVERYTHING)]


# --------------------------------------------------------------------------- DynamoDB


def _table(name: str, where: Where) -> str:
    """TableName (and a RequestItems key) is the table's name or its ARN: "You can also provide the Amazon
    Resource Name (ARN) of the table in this parameter." https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html
    """
    return name if name.startswith("arn:") else where.arn("dynamodb", f"table/{name}")


def _table_of(params: Mapping, where: Where) -> str:
    return _table(params["TableName"], where)


def _table_or_index(action: str) -> Resolver:
    """Query and Scan name the index resource type when they read a secondary index."""

    def resolve(params: Mapping, where: Where) -> list[Need]:
        table = _table_of(params, where)
        index = params.get("IndexName")
        return [Need(action, f"{table}/index/{index}" if index else table)]

    return resolve


def _per_table(action: str) -> Resolver:
    """BatchWriteItem and BatchGetItem: the batch's one action, once on every table in RequestItems."""
    return lambda params, where: [Need(action, _table(name, where)) for name in params["RequestItems"]]


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
            needs.append(Need(actions[kind], _table(item[kind]["TableName"], where)))
        return needs

    return resolve


# --------------------------------------------------------------------------- Kinesis


def _stream_name(name: str, where: Where) -> str:
    return where.arn("kinesis", f"stream/{name}")


def _stream(params: Mapping, where: Where) -> str:
    if "StreamARN" in params:
        return params["StreamARN"]
    if "StreamName" in params:
        return _stream_name(params["StreamName"], where)
    raise where.unresolved("neither StreamARN nor StreamName is given")


def _stream_by_token(token_parameter: str) -> Callable[[Mapping, Where], str]:
    """GetRecords carries a shard iterator and a later ListShards page a NextToken instead of the stream: the
    stream is the one the token was obtained for."""

    def resolve(params: Mapping, where: Where) -> str:
        if "StreamARN" in params or "StreamName" in params:
            return _stream(params, where)
        token = params.get(token_parameter)
        stream = where.iterator_streams.get(token) if token else None
        if stream is None:
            raise where.unresolved(f"{token_parameter} was not obtained through a recorded call")
        return stream

    return resolve


def _consumer(params: Mapping, where: Where) -> str:
    # A consumer ARN ends in its creation timestamp, which only the ConsumerARN parameter carries.
    if "ConsumerARN" not in params:
        raise where.unresolved("only a ConsumerARN names the consumer resource")
    return params["ConsumerARN"]


# --------------------------------------------------------------------------- SQS


def _queue_from_url(url: str, where: Where) -> str:
    """https://sqs.<region>.amazonaws.com/<account>/<name> -> the queue's ARN.
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html
    """
    parts = urlparse(url).path.strip("/").split("/")
    if len(parts) != 2:
        raise where.unresolved(f"queue URL {url!r} is not <endpoint>/<account>/<name>")
    account, name = parts
    return where.arn("sqs", name, account=account)


def _queue(params: Mapping, where: Where) -> str:
    return _queue_from_url(params["QueueUrl"], where)


def _queue_by_name(params: Mapping, where: Where) -> str:
    return where.arn("sqs", params["QueueName"], account=params.get("QueueOwnerAWSAccountId", where.account))


# --------------------------------------------------------------------------- S3


def _bucket(params: Mapping, where: Where) -> str:
    bucket = params["Bucket"]
    if bucket.startswith("arn:"):
        raise where.unresolved("access point and Outposts bucket ARNs are not modelled")
    return f"arn:{where.partition}:s3:::{bucket}"


def _object(params: Mapping, where: Where) -> str:
    return f"{_bucket(params, where)}/{params['Key']}"


ACL_PARAMETERS = ("ACL", "GrantFullControl", "GrantRead", "GrantReadACP", "GrantWriteACP")


def _object_write(params: Mapping, where: Where) -> list[Need]:
    """PutObject always needs s3:PutObject, and s3:PutObjectAcl or s3:PutObjectTagging when the request sets an
    ACL or tags. https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html (Permissions); the
    Reference lists the same actions for CreateMultipartUpload."""
    resource = _object(params, where)
    needs = [Need("s3:PutObject", resource)]
    if any(name in params for name in ACL_PARAMETERS):
        needs.append(Need("s3:PutObjectAcl", resource))
    if "Tagging" in params:
        needs.append(Need("s3:PutObjectTagging", resource))
    return needs


def _object_read(params: Mapping, where: Where) -> list[Need]:
    """A versionId read needs s3:GetObjectVersion and not s3:GetObject.
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (Permissions)"""
    return [Need("s3:GetObjectVersion" if "VersionId" in params else "s3:GetObject", _object(params, where))]


def _object_delete(params: Mapping, where: Where) -> list[Need]:
    """Deleting always needs s3:DeleteObject, a specific version s3:DeleteObjectVersion too.
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html and API_DeleteObjects.html (Permissions)
    """
    resource = _object(params, where)
    needs = [Need("s3:DeleteObject", resource)]
    if "VersionId" in params:
        needs.append(Need("s3:DeleteObjectVersion", resource))
    return needs


def _objects_delete(params: Mapping, where: Where) -> list[Need]:
    bucket = params["Bucket"]
    return [need for key in params["Delete"]["Objects"] for need in _object_delete({"Bucket": bucket, **key}, where)]


# --------------------------------------------------------------------------- CloudWatch Logs


def _log_group_name(params: Mapping) -> str:
    if "logGroupName" in params:
        return params["logGroupName"]
    identifier = params["logGroupIdentifier"]  # a name, or the group's ARN with or without ":*"
    return identifier.split(":log-group:", 1)[1].removesuffix(":*") if identifier.startswith("arn:") else identifier


def _log_group(params: Mapping, where: Where) -> str:
    """IAM policies name a log group by its ARN with a trailing ":*" for every action but tagging ones, so the
    request is written in that form.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html"""
    return where.arn("logs", f"log-group:{_log_group_name(params)}:*")


def _log_stream(params: Mapping, where: Where) -> str:
    return where.arn("logs", f"log-group:{_log_group_name(params)}:log-stream:{params['logStreamName']}")


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


def _alarm(name: str, where: Where) -> str:
    return where.arn("cloudwatch", f"alarm:{name}")


def _named_alarm(params: Mapping, where: Where) -> str:
    return _alarm(params["AlarmName"], where)


def _describe_alarms(params: Mapping, where: Where) -> list[Need]:
    """Named alarms are each a resource; a prefix or no filter asks for every alarm it could return."""
    if params.get("AlarmNames"):
        return [Need("cloudwatch:DescribeAlarms", _alarm(name, where)) for name in params["AlarmNames"]]
    return [Need("cloudwatch:DescribeAlarms", _alarm(f"{params.get('AlarmNamePrefix', '')}*", where))]


def _put_metric_data(params: Mapping, where: Where) -> list[Need]:
    # cloudwatch:namespace is the request's Namespace (condition keys table of the Reference page).
    return [Need("cloudwatch:PutMetricData", EVERYTHING, {"cloudwatch:namespace": params["Namespace"]})]


# --------------------------------------------------------------------------- KMS


def _key(key_id: str, where: Where) -> str:
    """An IAM policy names a KMS key only by its key ARN, never by alias, so an alias cannot be resolved here.
    https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html"""
    if key_id.startswith("alias/") or ":alias/" in key_id:
        raise where.unresolved(f"{key_id!r} is an alias; IAM authorizes the key it points to")
    return key_id if key_id.startswith("arn:") else where.arn("kms", f"key/{key_id}")


# Operations that use no particular KMS key: their Resource is "*" (cmks-in-iam-policies.html, above).
KEYLESS_KMS_OPERATIONS = ("CreateKey", "GenerateRandom", "ListAliases", "ListKeys")


def _kms_key_operation(params: Mapping, where: Where) -> list[Need]:
    """Any KMS operation that names its key in KeyId: the action is the operation's name."""
    if "KeyId" not in params:
        raise where.unresolved("no KeyId names the key (a Decrypt of symmetric ciphertext carries it inside)")
    return [Need(f"kms:{where.operation}", _key(params["KeyId"], where))]


# --------------------------------------------------------------------------- Lambda


def _function(params: Mapping, where: Where) -> str:
    """FunctionName is a name, name:qualifier, a partial ARN (<account>:function:<name>) or a full ARN; with a
    qualifier the resource is the function version or alias ARN."""
    name = params["FunctionName"]
    if name.startswith("arn:"):
        arn = name
    elif ":function:" in name:
        account, rest = name.split(":", 1)
        arn = where.arn("lambda", rest, account=account)
    else:
        arn = where.arn("lambda", f"function:{name}")
    qualified = arn.count(":") == 7  # arn:partition:lambda:region:account:function:name:qualifier
    return f"{arn}:{params['Qualifier']}" if "Qualifier" in params and not qualified else arn


def _topic(params: Mapping, where: Where) -> str:
    topic = params.get("TopicArn") or params.get("TargetArn")
    if not topic:
        raise where.unresolved("only a TopicArn or TargetArn names a topic resource")
    return topic


# --------------------------------------------------------------------------- the table


def _same_name(service: str, operations: Iterable[str], resource: Callable[[Mapping, Where], str]) -> dict:
    """Resolvers for operations whose IAM action has the operation's own name, each on one resource."""
    return {(service, operation): _on(f"{service}:{operation}", resource) for operation in operations}


OPERATIONS: dict[tuple[str, str], Resolver] = {
    # DynamoDB: SOURCES["dynamodb"]
    **_same_name("dynamodb", ("PutItem", "UpdateItem", "DeleteItem", "GetItem", "DescribeTable"), _table_of),
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
        _stream,
    ),
    ("kinesis", "ListShards"): _on("kinesis:ListShards", _stream_by_token("NextToken")),
    ("kinesis", "GetRecords"): _on("kinesis:GetRecords", _stream_by_token("ShardIterator")),
    **_same_name("kinesis", ("SubscribeToShard", "DescribeStreamConsumer"), _consumer),
    # SQS: SOURCES["sqs"]; batch operations are authorized by their single-message action.
    ("sqs", "SendMessage"): _on("sqs:SendMessage", _queue),
    ("sqs", "SendMessageBatch"): _on("sqs:SendMessage", _queue),
    ("sqs", "ReceiveMessage"): _on("sqs:ReceiveMessage", _queue),
    ("sqs", "DeleteMessage"): _on("sqs:DeleteMessage", _queue),
    ("sqs", "DeleteMessageBatch"): _on("sqs:DeleteMessage", _queue),
    ("sqs", "ChangeMessageVisibility"): _on("sqs:ChangeMessageVisibility", _queue),
    ("sqs", "ChangeMessageVisibilityBatch"): _on("sqs:ChangeMessageVisibility", _queue),
    ("sqs", "GetQueueAttributes"): _on("sqs:GetQueueAttributes", _queue),
    ("sqs", "GetQueueUrl"): _on("sqs:GetQueueUrl", _queue_by_name),
    # S3: SOURCES["s3"]; multipart parts and completion are object writes, HEAD is a read.
    ("s3", "PutObject"): _object_write,
    ("s3", "CreateMultipartUpload"): _object_write,
    ("s3", "UploadPart"): _on("s3:PutObject", _object),
    ("s3", "CompleteMultipartUpload"): _on("s3:PutObject", _object),
    ("s3", "AbortMultipartUpload"): _on("s3:AbortMultipartUpload", _object),
    ("s3", "GetObject"): _object_read,
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html: "you must have the s3:GetObject
    # permission".
    ("s3", "HeadObject"): _on("s3:GetObject", _object),
    ("s3", "DeleteObject"): _object_delete,
    ("s3", "DeleteObjects"): _objects_delete,
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html: "permission to perform the
    # s3:ListBucket action".
    ("s3", "ListObjects"): _on("s3:ListBucket", _bucket),
    ("s3", "ListObjectsV2"): _on("s3:ListBucket", _bucket),
    ("s3", "HeadBucket"): _on("s3:ListBucket", _bucket),
    ("s3", "ListMultipartUploads"): _on("s3:ListBucketMultipartUploads", _bucket),
    ("s3", "GetBucketLocation"): _on("s3:GetBucketLocation", _bucket),
    # CloudWatch Logs: SOURCES["logs"]; CreateLogStream and PutLogEvents are on the log-stream resource type.
    ("logs", "CreateLogStream"): _on("logs:CreateLogStream", _log_stream),
    ("logs", "PutLogEvents"): _on("logs:PutLogEvents", _log_stream),
    ("logs", "DescribeLogStreams"): _on("logs:DescribeLogStreams", _log_group),
    # SNS: SOURCES["sns"]
    ("sns", "Publish"): _on("sns:Publish", _topic),
    # Glue: SOURCES["glue"]
    ("glue", "GetTable"): _glue_table_read("glue:GetTable"),
    ("glue", "GetTableVersion"): _glue_table_read("glue:GetTableVersion"),
    ("glue", "GetTableVersions"): _glue_table_read("glue:GetTableVersions"),
    # CloudWatch: SOURCES["cloudwatch"]; metric data actions have no required resource type, alarms do.
    ("cloudwatch", "PutMetricData"): _put_metric_data,
    ("cloudwatch", "GetMetricData"): _everywhere("cloudwatch:GetMetricData"),
    ("cloudwatch", "GetMetricStatistics"): _everywhere("cloudwatch:GetMetricStatistics"),
    ("cloudwatch", "DescribeAlarms"): _describe_alarms,
    ("cloudwatch", "SetAlarmState"): _on("cloudwatch:SetAlarmState", _named_alarm),
    # X-Ray: SOURCES["xray"]; neither action has a resource type.
    ("xray", "PutTraceSegments"): _everywhere("xray:PutTraceSegments"),
    ("xray", "PutTelemetryRecords"): _everywhere("xray:PutTelemetryRecords"),
    # KMS: SOURCES["kms"]; keyless operations take "*", the others are resolved by SERVICE_WIDE.
    **{("kms", operation): _everywhere(f"kms:{operation}") for operation in KEYLESS_KMS_OPERATIONS},
    # Lambda: SOURCES["lambda"]; the Invoke operation is authorized by lambda:InvokeFunction.
    ("lambda", "Invoke"): _on("lambda:InvokeFunction", _function),
}

# Services whose every operation follows one rule, for operations not listed above.
SERVICE_WIDE: dict[str, Resolver] = {"kms": _kms_key_operation}
