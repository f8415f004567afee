"""The program's resources, created in the emulator: one creator per resource type, Pulumi inputs -> AWS API.

Each creator receives a resource's inputs exactly as the program registered them (camelCase, numbers as floats),
makes the AWS API calls that create it in the emulator and answers with the emulator's own id and outputs.
What the emulator cannot run (the event source mapping) is not created here but described (`described.py`).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

from components.packaging import RUNTIME_DIR
from sandbox.engines.emulator import DUMMY_ACCOUNT as EMULATOR_ACCOUNT
from sandbox.engines.emulator import EmulatorClients

# AWS API spellings that a plain camelCase -> PascalCase change gets wrong.
_PASCAL_EXCEPTIONS = {
    "id": "ID",
    "sseAlgorithm": "SSEAlgorithm",
    "kmsMasterKeyId": "KMSMasterKeyID",
    "roleArn": "RoleARN",
}


def pascal(value: Any) -> Any:
    """Pulumi's camelCase inputs as AWS API PascalCase parameters, whole floats as ints."""
    if isinstance(value, dict):
        return {_PASCAL_EXCEPTIONS.get(k, k[:1].upper() + k[1:]): pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pascal(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _tag_list(tags: dict | None, key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in (tags or {}).items()]


Creator = Callable[[EmulatorClients, str, dict[str, Any]], tuple[str, dict[str, Any]]]


def _key(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    meta = c.kms.create_key(
        Description=i.get("description", ""), Policy=i["policy"], Tags=_tag_list(i.get("tags"), "TagKey", "TagValue")
    )["KeyMetadata"]
    if i.get("enableKeyRotation"):
        c.kms.enable_key_rotation(KeyId=meta["KeyId"])
    return meta["KeyId"], {"arn": meta["Arn"], "keyId": meta["KeyId"]}


def _alias(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    c.kms.create_alias(AliasName=i["name"], TargetKeyId=i["targetKeyId"])
    return i["name"], {"arn": f"arn:aws:kms:{c.region}:{EMULATOR_ACCOUNT}:{i['name']}"}


def _stream(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    mode = i["streamModeDetails"]["streamMode"]
    kwargs: dict[str, Any] = {"StreamName": i["name"], "StreamModeDetails": {"StreamMode": mode}}
    if mode == "PROVISIONED":
        kwargs["ShardCount"] = int(i["shardCount"])
    c.kinesis.create_stream(**kwargs)
    if int(i.get("retentionPeriod", 24)) > 24:
        c.kinesis.increase_stream_retention_period(StreamName=i["name"], RetentionPeriodHours=int(i["retentionPeriod"]))
    c.kinesis.start_stream_encryption(StreamName=i["name"], EncryptionType="KMS", KeyId=i["kmsKeyId"])
    if i.get("tags"):
        c.kinesis.add_tags_to_stream(StreamName=i["name"], Tags=i["tags"])
    arn = c.kinesis.describe_stream_summary(StreamName=i["name"])["StreamDescriptionSummary"]["StreamARN"]
    return arn, {"arn": arn, "name": i["name"]}


def _consumer(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    arn = c.kinesis.register_stream_consumer(StreamARN=i["streamArn"], ConsumerName=i["name"])["Consumer"][
        "ConsumerARN"
    ]
    return arn, {"arn": arn, "name": i["name"]}


def _table(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    keys = [("hashKey", "HASH"), ("rangeKey", "RANGE")]
    c.dynamodb.create_table(
        TableName=i["name"],
        BillingMode=i["billingMode"],
        KeySchema=[{"AttributeName": i[field], "KeyType": kind} for field, kind in keys if i.get(field)],
        AttributeDefinitions=[{"AttributeName": a["name"], "AttributeType": a["type"]} for a in i["attributes"]],
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": i["serverSideEncryption"]["kmsKeyArn"]},
        DeletionProtectionEnabled=bool(i.get("deletionProtectionEnabled")),
        Tags=_tag_list(i.get("tags")),
    )
    if i.get("ttl"):
        c.dynamodb.update_time_to_live(
            TableName=i["name"],
            TimeToLiveSpecification={"Enabled": True, "AttributeName": i["ttl"]["attributeName"]},
        )
    if (i.get("pointInTimeRecovery") or {}).get("enabled"):
        c.dynamodb.update_continuous_backups(
            TableName=i["name"], PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    arn = c.dynamodb.describe_table(TableName=i["name"])["Table"]["TableArn"]
    return i["name"], {"arn": arn, "name": i["name"]}


def _queue(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    attributes = {
        "KmsMasterKeyId": i["kmsMasterKeyId"],
        "KmsDataKeyReusePeriodSeconds": str(int(i.get("kmsDataKeyReusePeriodSeconds", 300))),
        "MessageRetentionPeriod": str(int(i["messageRetentionSeconds"])),
        "VisibilityTimeout": str(int(i.get("visibilityTimeoutSeconds", 30))),
    }
    url = c.sqs.create_queue(QueueName=i["name"], Attributes=attributes, tags=i.get("tags") or {})["QueueUrl"]
    arn = c.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, {"arn": arn, "url": url, "name": i["name"]}


def _queue_policy(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    c.sqs.set_queue_attributes(QueueUrl=i["queueUrl"], Attributes={"Policy": i["policy"]})
    return i["queueUrl"], {}


def _bucket(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    kwargs: dict[str, Any] = {"Bucket": i["bucket"]}
    if c.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": c.region}
    c.s3.create_bucket(**kwargs)
    if i.get("tags"):
        c.s3.put_bucket_tagging(Bucket=i["bucket"], Tagging={"TagSet": _tag_list(i["tags"])})
    return i["bucket"], {"arn": f"arn:aws:s3:::{i['bucket']}", "bucket": i["bucket"], "region": c.region}


def _bucket_setting(call: str, parameter: str, field: str, wrap: Callable[[Any], Any] = pascal) -> Creator:
    def create(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
        getattr(c.s3, call)(Bucket=i["bucket"], **{parameter: wrap(i[field])})
        return i["bucket"], {}

    return create


def _bucket_policy(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    """Only the statements the emulator can evaluate as AWS would.

    moto applies bucket-policy statements but ignores their conditions: the TLS-only Deny (a Deny on
    `aws:SecureTransport: false`) would deny every request. Conditional statements are left out and
    counted in the resource's `omittedStatements`; the full document is checked by the tests on the plan.
    """
    document = json.loads(i["policy"])
    kept = [s for s in document.get("Statement", []) if "Condition" not in s]
    if kept:
        c.s3.put_bucket_policy(Bucket=i["bucket"], Policy=json.dumps({**document, "Statement": kept}))
    return i["bucket"], {"omittedStatements": len(document.get("Statement", [])) - len(kept)}


def _public_access(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    block = {k[:1].upper() + k[1:]: bool(v) for k, v in i.items() if k.startswith(("block", "ignore", "restrict"))}
    c.s3.put_public_access_block(Bucket=i["bucket"], PublicAccessBlockConfiguration=block)
    return i["bucket"], {}


def _lifecycle_rules(rules: list[dict]) -> dict:
    converted = pascal(rules)
    for rule in converted:
        if not rule.get("Filter"):
            rule["Filter"] = {"Prefix": ""}
    return {"Rules": converted}


def _role(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    role = c.iam.create_role(
        RoleName=i["name"],
        AssumeRolePolicyDocument=i["assumeRolePolicy"],
        Description=i.get("description", ""),
        Tags=_tag_list(i.get("tags")),
    )["Role"]
    return i["name"], {"arn": role["Arn"], "name": i["name"], "uniqueId": role["RoleId"]}


def _role_policy(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    c.iam.put_role_policy(RoleName=i["role"], PolicyName=i["name"], PolicyDocument=i["policy"])
    return f"{i['role']}:{i['name']}", {}


def _log_group(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    c.logs.create_log_group(logGroupName=i["name"], kmsKeyId=i["kmsKeyId"], tags=i.get("tags") or {})
    c.logs.put_retention_policy(logGroupName=i["name"], retentionInDays=int(i["retentionInDays"]))
    return i["name"], {"arn": f"arn:aws:logs:{c.region}:{EMULATOR_ACCOUNT}:log-group:{i['name']}", "name": i["name"]}


def _log_stream(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    c.logs.create_log_stream(logGroupName=i["logGroupName"], logStreamName=i["name"])
    return i["name"], {}


def _runtime_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(RUNTIME_DIR.rglob("*.py")):
            archive.write(path, f"runtime/{path.relative_to(RUNTIME_DIR)}")
    return buffer.getvalue()


def _function(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    # The emulator stores the function (so it can be listed and described); the sandbox runs it.
    function = c.awslambda.create_function(
        FunctionName=i["name"],
        Runtime=i["runtime"],
        Role=i["role"],
        Handler=i["handler"],
        Code={"ZipFile": _runtime_zip()},
        Description=i.get("description", ""),
        Timeout=int(i["timeout"]),
        MemorySize=int(i["memorySize"]),
        Environment={"Variables": i["environment"]["variables"]},
        KMSKeyArn=i.get("kmsKeyArn", ""),
        TracingConfig={"Mode": i["tracingConfig"]["mode"]},
        Architectures=i["architectures"],
        Tags=i.get("tags") or {},
    )
    if i.get("reservedConcurrentExecutions") is not None:
        c.awslambda.put_function_concurrency(
            FunctionName=i["name"], ReservedConcurrentExecutions=int(i["reservedConcurrentExecutions"])
        )
    arn = function["FunctionArn"]
    return i["name"], {"arn": arn, "name": i["name"], "qualifiedArn": f"{arn}:$LATEST", "version": "$LATEST"}


def _topic(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    arn = c.sns.create_topic(
        Name=i["name"], Attributes={"KmsMasterKeyId": i["kmsMasterKeyId"]}, Tags=_tag_list(i.get("tags"))
    )["TopicArn"]
    return arn, {"arn": arn, "name": i["name"]}


def _topic_policy(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    c.sns.set_topic_attributes(TopicArn=i["arn"], AttributeName="Policy", AttributeValue=i["policy"])
    return i["arn"], {}


def _subscription(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    arn = c.sns.subscribe(TopicArn=i["topic"], Protocol=i["protocol"], Endpoint=i["endpoint"])["SubscriptionArn"]
    return arn, {"arn": arn}


def _metric_query(query: dict) -> dict:
    if "expression" in query:
        return {
            "Id": query["id"],
            "Expression": query["expression"],
            "Label": query.get("label", query["id"]),
            "ReturnData": bool(query.get("returnData")),
        }
    metric = query["metric"]
    return {
        "Id": query["id"],
        "ReturnData": bool(query.get("returnData")),
        "MetricStat": {
            "Metric": {
                "Namespace": metric["namespace"],
                "MetricName": metric["metricName"],
                "Dimensions": [{"Name": k, "Value": v} for k, v in metric.get("dimensions", {}).items()],
            },
            "Period": int(metric["period"]),
            "Stat": metric["stat"],
        },
    }


def _alarm(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    kwargs: dict[str, Any] = {
        "AlarmName": i["name"],
        "AlarmDescription": i.get("alarmDescription", ""),
        "ComparisonOperator": i["comparisonOperator"],
        "Threshold": float(i["threshold"]),
        "EvaluationPeriods": int(i["evaluationPeriods"]),
        "DatapointsToAlarm": int(i.get("datapointsToAlarm", i["evaluationPeriods"])),
        "TreatMissingData": i["treatMissingData"],
        "AlarmActions": i.get("alarmActions", []),
        "OKActions": i.get("okActions", []),
        "Tags": _tag_list(i.get("tags")),
    }
    if i.get("metricQueries"):
        kwargs["Metrics"] = [_metric_query(query) for query in i["metricQueries"]]
    else:
        kwargs.update(
            Namespace=i["namespace"],
            MetricName=i["metricName"],
            Dimensions=[{"Name": k, "Value": v} for k, v in i.get("dimensions", {}).items()],
            Statistic=i["statistic"],
            Period=int(i["period"]),
        )
    c.cloudwatch.put_metric_alarm(**kwargs)
    arn = c.cloudwatch.describe_alarms(AlarmNames=[i["name"]])["MetricAlarms"][0]["AlarmArn"]
    return i["name"], {"arn": arn}


def _dashboard(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    c.cloudwatch.put_dashboard(DashboardName=i["dashboardName"], DashboardBody=i["dashboardBody"])
    return i["dashboardName"], {
        "dashboardArn": f"arn:aws:cloudwatch::{EMULATOR_ACCOUNT}:dashboard/{i['dashboardName']}"
    }


def _glue_database(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    c.glue.create_database(DatabaseInput={"Name": i["name"], "Description": i.get("description", "")})
    return f"{EMULATOR_ACCOUNT}:{i['name']}", {
        "arn": f"arn:aws:glue:{c.region}:{EMULATOR_ACCOUNT}:database/{i['name']}",
        "name": i["name"],
    }


def _glue_table(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    descriptor = i["storageDescriptor"]
    c.glue.create_table(
        DatabaseName=i["databaseName"],
        TableInput={
            "Name": i["name"],
            "TableType": i["tableType"],
            "Parameters": i.get("parameters", {}),
            "PartitionKeys": pascal(i.get("partitionKeys", [])),
            "StorageDescriptor": {
                "Location": descriptor["location"],
                "InputFormat": descriptor["inputFormat"],
                "OutputFormat": descriptor["outputFormat"],
                "SerdeInfo": {"SerializationLibrary": descriptor["serDeInfo"]["serializationLibrary"]},
                "Columns": pascal(descriptor["columns"]),
            },
        },
    )
    return f"{EMULATOR_ACCOUNT}:{i['databaseName']}:{i['name']}", {
        "arn": f"arn:aws:glue:{c.region}:{EMULATOR_ACCOUNT}:table/{i['databaseName']}/{i['name']}",
        "name": i["name"],
    }


def _delivery_stream(c: EmulatorClients, name: str, i: dict) -> tuple[str, dict]:
    s3 = i["extendedS3Configuration"]
    destination = {
        "RoleARN": s3["roleArn"],
        "BucketARN": s3["bucketArn"],
        "Prefix": s3["prefix"],
        "ErrorOutputPrefix": s3["errorOutputPrefix"],
        "BufferingHints": {"SizeInMBs": int(s3["bufferingSize"]), "IntervalInSeconds": int(s3["bufferingInterval"])},
        "CompressionFormat": s3["compressionFormat"],
        "EncryptionConfiguration": {"KMSEncryptionConfig": {"AWSKMSKeyARN": s3["kmsKeyArn"]}},
        "CloudWatchLoggingOptions": pascal(s3["cloudwatchLoggingOptions"]),
    }
    if s3.get("dataFormatConversionConfiguration"):
        # Stored as given, so DescribeDeliveryStream tells the sandbox's delivery engine what to convert to.
        destination["DataFormatConversionConfiguration"] = pascal(s3["dataFormatConversionConfiguration"])
    source = i["kinesisSourceConfiguration"]
    arn = c.firehose.create_delivery_stream(
        DeliveryStreamName=i["name"],
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": source["kinesisStreamArn"], "RoleARN": source["roleArn"]},
        ExtendedS3DestinationConfiguration=destination,
        Tags=_tag_list(i.get("tags")),
    )["DeliveryStreamARN"]
    return arn, {"arn": arn, "name": i["name"]}


CREATORS: dict[str, Creator] = {
    "aws:kms/key:Key": _key,
    "aws:kms/alias:Alias": _alias,
    "aws:kinesis/stream:Stream": _stream,
    "aws:kinesis/streamConsumer:StreamConsumer": _consumer,
    "aws:dynamodb/table:Table": _table,
    "aws:sqs/queue:Queue": _queue,
    "aws:sqs/queuePolicy:QueuePolicy": _queue_policy,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _public_access,
    "aws:s3/bucketPolicy:BucketPolicy": _bucket_policy,
    "aws:s3/bucketVersioning:BucketVersioning": _bucket_setting(
        "put_bucket_versioning", "VersioningConfiguration", "versioningConfiguration"
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _bucket_setting(
        "put_bucket_encryption", "ServerSideEncryptionConfiguration", "rules", lambda rules: {"Rules": pascal(rules)}
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _bucket_setting(
        "put_bucket_lifecycle_configuration", "LifecycleConfiguration", "rules", _lifecycle_rules
    ),
    "aws:iam/role:Role": _role,
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/logStream:LogStream": _log_stream,
    "aws:lambda/function:Function": _function,
    "aws:sns/topic:Topic": _topic,
    "aws:sns/topicPolicy:TopicPolicy": _topic_policy,
    "aws:sns/topicSubscription:TopicSubscription": _subscription,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
    "aws:glue/catalogDatabase:CatalogDatabase": _glue_database,
    "aws:glue/catalogTable:CatalogTable": _glue_table,
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": _delivery_stream,
}
