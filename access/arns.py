"""The resource ARN an API call's parameters name, as IAM checks it: one function per resource type.

Each takes the call's parameters (or the one parameter that names the resource) and the `Where` of the call, and
returns the ARN, or raises `UnresolvedResource` (through `where.unresolved`) when the parameters do not name it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlparse

from access.call_types import Where

# --------------------------------------------------------------------------- DynamoDB


def table(name: str, where: Where) -> str:
    """TableName (and a RequestItems key) is the table's name or its ARN: "You can also provide the Amazon
    Resource Name (ARN) of the table in this parameter." https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html
    """
    return name if name.startswith("arn:") else where.arn("dynamodb", f"table/{name}")


def table_of(params: Mapping, where: Where) -> str:
    return table(params["TableName"], where)


# --------------------------------------------------------------------------- Kinesis


def stream_named(name: str, where: Where) -> str:
    return where.arn("kinesis", f"stream/{name}")


def stream(params: Mapping, where: Where) -> str:
    if "StreamARN" in params:
        return params["StreamARN"]
    if "StreamName" in params:
        return stream_named(params["StreamName"], where)
    raise where.unresolved("neither StreamARN nor StreamName is given")


def stream_by_token(token_parameter: str) -> Callable[[Mapping, Where], str]:
    """GetRecords carries a shard iterator and a later ListShards page a NextToken instead of the stream: the
    stream is the one the token was obtained for."""

    def resolve(params: Mapping, where: Where) -> str:
        if "StreamARN" in params or "StreamName" in params:
            return stream(params, where)
        token = params.get(token_parameter)
        obtained_for = where.iterator_streams.get(token) if token else None
        if obtained_for is None:
            raise where.unresolved(f"{token_parameter} was not obtained through a recorded call")
        return obtained_for

    return resolve


def consumer(params: Mapping, where: Where) -> str:
    # A consumer ARN ends in its creation timestamp, which only the ConsumerARN parameter carries.
    if "ConsumerARN" not in params:
        raise where.unresolved("only a ConsumerARN names the consumer resource")
    return params["ConsumerARN"]


# --------------------------------------------------------------------------- SQS


def queue_from_url(url: str, where: Where) -> str:
    """https://sqs.<region>.amazonaws.com/<account>/<name> -> the queue's ARN.
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html
    """
    parts = urlparse(url).path.strip("/").split("/")
    if len(parts) != 2:
        raise where.unresolved(f"queue URL {url!r} is not <endpoint>/<account>/<name>")
    account, name = parts
    return where.arn("sqs", name, account=account)


def queue(params: Mapping, where: Where) -> str:
    return queue_from_url(params["QueueUrl"], where)


def queue_by_name(params: Mapping, where: Where) -> str:
    return where.arn("sqs", params["QueueName"], account=params.get("QueueOwnerAWSAccountId", where.account))


# --------------------------------------------------------------------------- S3


def bucket(params: Mapping, where: Where) -> str:
    name = params["Bucket"]
    if name.startswith("arn:"):
        raise where.unresolved("access point and Outposts bucket ARNs are not modelled")
    return f"arn:{where.partition}:s3:::{name}"


def object_arn(params: Mapping, where: Where) -> str:
    return f"{bucket(params, where)}/{params['Key']}"


# --------------------------------------------------------------------------- CloudWatch Logs


def log_group_name(params: Mapping) -> str:
    if "logGroupName" in params:
        return params["logGroupName"]
    identifier = params["logGroupIdentifier"]  # a name, or the group's ARN with or without ":*"
    return identifier.split(":log-group:", 1)[1].removesuffix(":*") if identifier.startswith("arn:") else identifier


def log_group(params: Mapping, where: Where) -> str:
    """IAM policies name a log group by its ARN with a trailing ":*" for every action but tagging ones, so the
    request is written in that form.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html"""
    return where.arn("logs", f"log-group:{log_group_name(params)}:*")


def log_stream(params: Mapping, where: Where) -> str:
    return where.arn("logs", f"log-group:{log_group_name(params)}:log-stream:{params['logStreamName']}")


# --------------------------------------------------------------------------- CloudWatch


def alarm(name: str, where: Where) -> str:
    return where.arn("cloudwatch", f"alarm:{name}")


def named_alarm(params: Mapping, where: Where) -> str:
    return alarm(params["AlarmName"], where)


# --------------------------------------------------------------------------- KMS


def key(key_id: str, where: Where) -> str:
    """An IAM policy names a KMS key only by its key ARN, never by alias, so an alias cannot be resolved here.
    https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html"""
    if key_id.startswith("alias/") or ":alias/" in key_id:
        raise where.unresolved(f"{key_id!r} is an alias; IAM authorizes the key it points to")
    return key_id if key_id.startswith("arn:") else where.arn("kms", f"key/{key_id}")


# --------------------------------------------------------------------------- Lambda and SNS


def function(params: Mapping, where: Where) -> str:
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


def topic(params: Mapping, where: Where) -> str:
    arn = params.get("TopicArn") or params.get("TargetArn")
    if not arn:
        raise where.unresolved("only a TopicArn or TargetArn names a topic resource")
    return arn
