"""Deploy the Pulumi program into an AWS emulator: the offline engine with mocks that create for real.

`EmulatorMocks.new_resource` receives each resource's inputs exactly as the program registered them
(camelCase, numbers as floats), creates it in the emulator through boto3, and answers with the emulator's
own id and ARN, so dependents receive real ARNs in dependency order (key -> stream/queue -> mapping).
There is no second definition of the infrastructure: change a component and the sandbox follows.

What the emulator cannot run (the function and its event source mapping, Firehose's delivery from
Kinesis) is recorded here and run by the sandbox's own engines (event_source.py, firehose.py).
"""

from __future__ import annotations

import io
import json
import socket
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from components.offline import Evaluation, FabricatingMocks, RegisteredResource, evaluate
from components.packaging import RUNTIME_DIR
from components.stack import StackSettings
from sandbox.engines.emulator import DUMMY_CREDENTIALS

EMULATOR_ACCOUNT = "123456789012"  # moto's default account
# AWS API spellings that a plain camelCase -> PascalCase change gets wrong.
_PASCAL_EXCEPTIONS = {"id": "ID", "sseAlgorithm": "SSEAlgorithm", "kmsMasterKeyId": "KMSMasterKeyID"}


def pascal(value: Any) -> Any:
    """Pulumi's camelCase inputs as AWS API PascalCase parameters, whole floats as ints."""
    if isinstance(value, dict):
        return {_PASCAL_EXCEPTIONS.get(k, k[:1].upper() + k[1:]): pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pascal(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _int(value: Any) -> int:
    return int(value)


def _tag_list(tags: dict | None, key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in (tags or {}).items()]


class Clients:
    """One boto3 client per service, pointed at the emulator."""

    def __init__(self, endpoint_url: str, region: str):
        self.endpoint_url = endpoint_url
        self.region = region
        self._session = boto3.session.Session(region_name=region, **DUMMY_CREDENTIALS)
        self._clients: dict[str, Any] = {}
        self._config = Config(retries={"max_attempts": 3, "mode": "standard"})

    def __getattr__(self, service: str) -> Any:
        if service.startswith("_"):
            raise AttributeError(service)
        if service not in self._clients:
            api = "lambda" if service == "awslambda" else service  # `lambda` is a keyword
            self._clients[service] = self._session.client(api, endpoint_url=self.endpoint_url, config=self._config)
        return self._clients[service]


Creator = Callable[[Clients, str, dict[str, Any]], tuple[str, dict[str, Any]]]


def _key(c: Clients, name: str, i: dict) -> tuple[str, dict]:
    meta = c.kms.create_key(
        Description=i.get("description", ""), Policy=i["policy"], Tags=_tag_list(i.get("tags"), "TagKey", "TagValue")
    )["KeyMetadata"]
    if i.get("enableKeyRotation"):
        c.kms.enable_key_rotation(KeyId=meta["KeyId"])
    return meta["KeyId"], {"arn": meta["Arn"], "keyId": meta["KeyId"]}


def _alias(c: Clients, name: str, i: dict) -> tuple[str, dict]:
    c.kms.create_alias(AliasName=i["name"], TargetKeyId=i["targetKeyId"])
    return i["name"], {"arn": f"arn:aws:kms:{c.region}:{EMULATOR_ACCOUNT}:{i['name']}"}


def _stream(c: Clients, name: str, i: dict) -> tuple[str, dict]:
    mode = i["streamModeDetails"]["streamMode"]
    kwargs: dict[str, Any] = {"StreamName": i["name"], "StreamModeDetails": {"StreamMode": mode}}
    if mode == "PROVISIONED":
        kwargs["ShardCount"] = _int(i["shardCount"])
    c.kinesis.create_stream(**kwargs)
    if _int(i.get("retentionPeriod", 24)) > 24:
        c.kinesis.increase_stream_retention_period(
            StreamName=i["name"], RetentionPeriodHours=_int(i["retentionPeriod"])
        )
    c.kinesis.start_stream_encryption(StreamName=i["name"], EncryptionType="KMS", KeyId=i["kmsKeyId"])
    if i.get("tags"):
        c.kinesis.add_tags_to_stream(StreamName=i["name"], Tags=i["tags"])
    arn = c.kinesis.describe_stream_summary(StreamName=i["name"])["StreamDescriptionSummary"]["StreamARN"]
    return arn, {"arn": arn, "name": i["name"]}


def _consumer(c: Clients, name: str, i: dict) -> tuple[str, dict]:
    arn = c.kinesis.register_stream_consumer(StreamARN=i["streamArn"], ConsumerName=i["name"])["Consumer"][
        "ConsumerARN"
    ]
    return arn, {"arn": arn, "name": i["name"]}


def _table(c: Clients, name: str, i: dict) -> tuple[str, dict]:
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


def _queue(c: Clients, name: str, i: dict) -> tuple[str, dict]:
    attributes = {
        "KmsMasterKeyId": i["kmsMasterKeyId"],
        "KmsDataKeyReusePeriodSeconds": str(_int(i.get("kmsDataKeyReusePeriodSeconds", 300))),
        "MessageRetentionPeriod": str(_int(i["messageRetentionSeconds"])),
        "VisibilityTimeout": str(_int(i.get("visibilityTimeoutSeconds", 30))),
    }
    url = c.sqs.create_queue(QueueName=i["name"], Attributes=attributes, tags=i.get("tags") or {})["QueueUrl"]
    arn = c.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, {"arn": arn, "url": url, "name": i["name"]}


def _queue_policy(c: Clients, name: str, i: dict) -> tuple[str, dict]:
    c.sqs.set_queue_attributes(QueueUrl=i["queueUrl"], Attributes={"Policy": i["policy"]})
    return i["queueUrl"], {}


def _bucket(c: Clients, name: str, i: dict) -> tuple[str, dict]:
    kwargs: dict[str, Any] = {"Bucket": i["bucket"]}
    if c.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": c.region}
    c.s3.create_bucket(**kwargs)
    if i.get("tags"):
        c.s3.put_bucket_tagging(Bucket=i["bucket"], Tagging={"TagSet": _tag_list(i["tags"])})
    return i["bucket"], {"arn": f"arn:aws:s3:::{i['bucket']}", "bucket": i["bucket"], "region": c.region}


def _bucket_setting(call: str, parameter: str, field: str, wrap: Callable[[Any], Any] = pascal) -> Creator:
    def create(c: Clients, name: str, i: dict) -> tuple[str, dict]:
        getattr(c.s3, call)(Bucket=i["bucket"], **{parameter: wrap(i[field])})
        return i["bucket"], {}

    return create


def _bucket_policy(c: Clients, name: str, i: dict) -> tuple[str, dict]:
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


def _public_access(c: Clients, name: str, i: dict) -> tuple[str, dict]:
    block = {k[:1].upper() + k[1:]: bool(v) for k, v in i.items() if k.startswith(("block", "ignore", "restrict"))}
    c.s3.put_public_access_block(Bucket=i["bucket"], PublicAccessBlockConfiguration=block)
    return i["bucket"], {}


def _lifecycle_rules(rules: list[dict]) -> dict:
    converted = pascal(rules)
    for rule in converted:
        if not rule.get("Filter"):
            rule["Filter"] = {"Prefix": ""}
    return {"Rules": converted}


def _role(c: Clients, name: str, i: dict) -> tuple[str, dict]:
    role = c.iam.create_role(
        RoleName=i["name"],
        AssumeRolePolicyDocument=i["assumeRolePolicy"],
        Description=i.get("description", ""),
        Tags=_tag_list(i.get("tags")),
    )["Role"]
    return i["name"], {"arn": role["Arn"], "name": i["name"], "uniqueId": role["RoleId"]}


def _role_policy(c: Clients, name: str, i: dict) -> tuple[str, dict]:
    c.iam.put_role_policy(RoleName=i["role"], PolicyName=i["name"], PolicyDocument=i["policy"])
    return f"{i['role']}:{i['name']}", {}


def _log_group(c: Clients, name: str, i: dict) -> tuple[str, dict]:
    c.logs.create_log_group(logGroupName=i["name"], kmsKeyId=i["kmsKeyId"], tags=i.get("tags") or {})
    c.logs.put_retention_policy(logGroupName=i["name"], retentionInDays=_int(i["retentionInDays"]))
    return i["name"], {"arn": f"arn:aws:logs:{c.region}:{EMULATOR_ACCOUNT}:log-group:{i['name']}", "name": i["name"]}


def _log_stream(c: Clients, name: str, i: dict) -> tuple[str, dict]:
    c.logs.create_log_stream(logGroupName=i["logGroupName"], logStreamName=i["name"])
    return i["name"], {}


def _runtime_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(RUNTIME_DIR.rglob("*.py")):
            archive.write(path, f"runtime/{path.relative_to(RUNTIME_DIR)}")
    return buffer.getvalue()


def _function(c: Clients, name: str, i: dict) -> tuple[str, dict]:
    # The emulator stores the function (so it can be listed and described); the sandbox runs it.
    function = c.awslambda.create_function(
        FunctionName=i["name"],
        Runtime=i["runtime"],
        Role=i["role"],
        Handler=i["handler"],
        Code={"ZipFile": _runtime_zip()},
        Description=i.get("description", ""),
        Timeout=_int(i["timeout"]),
        MemorySize=_int(i["memorySize"]),
        Environment={"Variables": i["environment"]["variables"]},
        KMSKeyArn=i.get("kmsKeyArn", ""),
        TracingConfig={"Mode": i["tracingConfig"]["mode"]},
        Architectures=i["architectures"],
        Tags=i.get("tags") or {},
    )
    if i.get("reservedConcurrentExecutions") is not None:
        c.awslambda.put_function_concurrency(
            FunctionName=i["name"], ReservedConcurrentExecutions=_int(i["reservedConcurrentExecutions"])
        )
    arn = function["FunctionArn"]
    return i["name"], {"arn": arn, "name": i["name"], "qualifiedArn": f"{arn}:$LATEST", "version": "$LATEST"}


def _topic(c: Clients, name: str, i: dict) -> tuple[str, dict]:
    arn = c.sns.create_topic(
        Name=i["name"], Attributes={"KmsMasterKeyId": i["kmsMasterKeyId"]}, Tags=_tag_list(i.get("tags"))
    )["TopicArn"]
    return arn, {"arn": arn, "name": i["name"]}


def _topic_policy(c: Clients, name: str, i: dict) -> tuple[str, dict]:
    c.sns.set_topic_attributes(TopicArn=i["arn"], AttributeName="Policy", AttributeValue=i["policy"])
    return i["arn"], {}


def _subscription(c: Clients, name: str, i: dict) -> tuple[str, dict]:
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
            "Period": _int(metric["period"]),
            "Stat": metric["stat"],
        },
    }


def _alarm(c: Clients, name: str, i: dict) -> tuple[str, dict]:
    kwargs: dict[str, Any] = {
        "AlarmName": i["name"],
        "AlarmDescription": i.get("alarmDescription", ""),
        "ComparisonOperator": i["comparisonOperator"],
        "Threshold": float(i["threshold"]),
        "EvaluationPeriods": _int(i["evaluationPeriods"]),
        "DatapointsToAlarm": _int(i.get("datapointsToAlarm", i["evaluationPeriods"])),
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
            Period=_int(i["period"]),
        )
    c.cloudwatch.put_metric_alarm(**kwargs)
    arn = c.cloudwatch.describe_alarms(AlarmNames=[i["name"]])["MetricAlarms"][0]["AlarmArn"]
    return i["name"], {"arn": arn}


def _dashboard(c: Clients, name: str, i: dict) -> tuple[str, dict]:
    c.cloudwatch.put_dashboard(DashboardName=i["dashboardName"], DashboardBody=i["dashboardBody"])
    return i["dashboardName"], {
        "dashboardArn": f"arn:aws:cloudwatch::{EMULATOR_ACCOUNT}:dashboard/{i['dashboardName']}"
    }


def _glue_database(c: Clients, name: str, i: dict) -> tuple[str, dict]:
    c.glue.create_database(DatabaseInput={"Name": i["name"], "Description": i.get("description", "")})
    return f"{EMULATOR_ACCOUNT}:{i['name']}", {
        "arn": f"arn:aws:glue:{c.region}:{EMULATOR_ACCOUNT}:database/{i['name']}",
        "name": i["name"],
    }


def _glue_table(c: Clients, name: str, i: dict) -> tuple[str, dict]:
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


def _delivery_stream(c: Clients, name: str, i: dict) -> tuple[str, dict]:
    s3 = i["extendedS3Configuration"]
    destination = {
        "RoleARN": s3["roleArn"],
        "BucketARN": s3["bucketArn"],
        "Prefix": s3["prefix"],
        "ErrorOutputPrefix": s3["errorOutputPrefix"],
        "BufferingHints": {"SizeInMBs": _int(s3["bufferingSize"]), "IntervalInSeconds": _int(s3["bufferingInterval"])},
        "CompressionFormat": s3["compressionFormat"],
        "EncryptionConfiguration": {"KMSEncryptionConfig": {"AWSKMSKeyARN": s3["kmsKeyArn"]}},
        "CloudWatchLoggingOptions": pascal(s3["cloudwatchLoggingOptions"]),
    }
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
# Run by the sandbox, not the emulator: recorded with fabricated ids only.
RUN_BY_SANDBOX = ("aws:lambda/eventSourceMapping:EventSourceMapping",)


class DeployError(Exception):
    """Raised when the sandbox cannot deploy or use a deployment: the emulator refuses a resource (named,
    with the emulator's message), nothing listens at its URL, or `.sandbox/deployment.json` is unusable."""


# How long `check_endpoint` waits for a TCP connection: loopback answers at once, so a wait means nothing is there.
CONNECT_TIMEOUT_SECONDS = 3.0
START_OVER = (
    "start an emulator and run `tributary sandbox deploy --endpoint-url URL` again, or delete .sandbox/ to start over"
)


def _address(endpoint_url: str) -> tuple[str, int] | None:
    """(host, port) of an http(s) URL, or None if it is not one."""
    parts = urlsplit(endpoint_url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname, port


def _unreachable(endpoint_url: str) -> str | None:
    """Why nothing can be reached at `endpoint_url` (a malformed URL, or no TCP listener), or None."""
    address = _address(endpoint_url)
    if address is None:
        return "not an emulator URL; expected http://HOST:PORT, e.g. http://127.0.0.1:4566"
    try:
        socket.create_connection(address, timeout=CONNECT_TIMEOUT_SECONDS).close()
    except OSError as error:
        return f"nothing is listening there ({error.strerror or error})"
    return None


def check_endpoint(endpoint_url: str) -> None:
    """Raise DeployError unless something accepts connections at `endpoint_url` (checked before any AWS call,
    so an unreachable emulator is one clear line instead of one refusal per resource)."""
    problem = _unreachable(endpoint_url)
    if problem and _address(endpoint_url) is None:
        raise DeployError(f"{endpoint_url}: {problem}")
    if problem:
        raise DeployError(
            f"{endpoint_url}: {problem}; start an emulator there (`tributary sandbox serve`), "
            "or leave out --endpoint-url and the sandbox starts its own"
        )


def refused(errors: list[str]) -> DeployError:
    """One line for the emulator's refusals: the first in full, then how many more (each is in the first's shape)."""
    more = f" (and {len(errors) - 1} more resources refused)" if len(errors) > 1 else ""
    first = " ".join(errors[0].split())  # botocore's messages may span lines
    return DeployError(f"the emulator refused a resource: {first}{more}")


class EmulatorMocks(FabricatingMocks):
    """Mocks whose resources are created in the emulator; ids and ARNs are the emulator's own."""

    def __init__(self, endpoint_url: str, region: str):
        super().__init__(region=region, account_id=EMULATOR_ACCOUNT)
        self.clients = Clients(endpoint_url, region)
        self.errors: list[str] = []

    def placement(self, provider_ref: str | None) -> tuple[str, str]:
        # The emulator is one account and one region: tenants with their own account land there too.
        return self.region, self.account_id

    def fabricate(self, typ: str, name: str, inputs: dict, region: str, account: str) -> tuple[str, dict]:
        create = CREATORS.get(typ)
        if create is None:
            return super().fabricate(typ, name, inputs, region, account)
        try:
            resource_id, outputs = create(self.clients, name, inputs)
        except Exception as error:  # the emulator's refusal, whatever the service's error type
            message = f"{typ} {name}: {error}"
            self.errors.append(message)
            raise DeployError(message) from error
        return resource_id, {**inputs, **outputs}


@dataclass
class Deployment:
    """What the sandbox deployed: the program's evaluation, with the emulator's ids and ARNs."""

    endpoint_url: str
    region: str
    evaluation: Evaluation

    def tenants(self) -> list[str]:
        return sorted(self.evaluation.by_tenant())

    def save(self, path: Path) -> None:
        """Write what was deployed, so `send` and `drain` in later commands find it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "endpoint_url": self.endpoint_url,
            "region": self.region,
            "stack": self.evaluation.stack,
            "outputs": self.evaluation.outputs,
            "resources": [asdict(resource) for resource in self.evaluation.resources],
        }
        path.write_text(json.dumps(document, indent=1, default=str), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Deployment:
        """Read what `save` wrote; DeployError (saying how to start over) for a missing, foreign or damaged file."""
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DeployError(f"{path}: nothing deployed yet; run `tributary sandbox deploy` first") from None
        except (OSError, ValueError) as error:
            raise DeployError(f"{path}: not a deployment record ({error}); {START_OVER}") from None
        problem = _record_problem(document)
        if problem:
            raise DeployError(f"{path}: not a deployment record ({problem}); {START_OVER}")
        try:
            resources = [RegisteredResource(**resource) for resource in document["resources"]]
        except TypeError as error:
            raise DeployError(f"{path}: not a deployment record (a resource {error}); {START_OVER}") from None
        evaluation = Evaluation(stack=document["stack"], resources=resources, outputs=document["outputs"])
        return cls(endpoint_url=document["endpoint_url"], region=document["region"], evaluation=evaluation)

    def check_live(self, path: Path) -> None:
        """Raise DeployError unless the emulator at `endpoint_url` still holds every tenant's stream: a stopped
        emulator, or a new one at the same URL (moto keeps nothing across restarts), both need a new deploy."""
        url = self.endpoint_url
        again = f"deploy again (`tributary sandbox deploy --endpoint-url {url}`), or delete .sandbox/ to start over"
        problem = _unreachable(url)
        if problem:
            raise DeployError(
                f"{path}: records a deployment at {url}: {problem}; start the emulator there, then {again}"
            )
        kinesis = Clients(url, self.region).kinesis
        for tenant in self.tenants():
            outputs = self.evaluation.outputs.get(tenant)
            stream = outputs.get("stream_name") if isinstance(outputs, dict) else None
            if not isinstance(stream, str):
                raise DeployError(f"{path}: not a deployment record (no stream for {tenant}); {START_OVER}")
            try:
                kinesis.describe_stream_summary(StreamName=stream)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "an error")
                raise DeployError(
                    f"{path}: the emulator at {url} answers {code} for tenant {tenant}'s stream {stream}: "
                    f"it was restarted since the deploy; {again}"
                ) from None
            except BotoCoreError as error:
                raise DeployError(f"{path}: the emulator at {url} cannot be used ({error}); {again}") from None


# The fields `Deployment.save` writes, with their JSON types.
_RECORD_FIELDS = {"endpoint_url": str, "region": str, "stack": str, "outputs": dict, "resources": list}


def _record_problem(document: Any) -> str | None:
    """What makes `document` something other than a deployment record, or None."""
    if not isinstance(document, dict):
        return f"a JSON {type(document).__name__}, not an object"
    missing = [name for name in _RECORD_FIELDS if name not in document]
    if missing:
        return f"missing {', '.join(missing)}"
    for name, kind in _RECORD_FIELDS.items():
        if not isinstance(document[name], kind):
            return f"{name} is not a JSON {'string' if kind is str else 'object' if kind is dict else 'array'}"
    if not all(isinstance(resource, dict) for resource in document["resources"]):
        return "resources holds something other than objects"
    return None


def deploy(project_dir: Path, stack: str, settings: StackSettings, endpoint_url: str) -> Deployment:
    """Apply the program to the emulator at `endpoint_url`. Raises DeployError or TenantFileError."""
    check_endpoint(endpoint_url)
    mocks = EmulatorMocks(endpoint_url, settings.region)
    try:
        evaluation = evaluate(project_dir, stack, settings, mocks=mocks)
    except Exception as error:
        if mocks.errors:
            raise refused(mocks.errors) from error
        raise
    if mocks.errors:
        raise refused(mocks.errors)
    return Deployment(endpoint_url=endpoint_url, region=settings.region, evaluation=evaluation)
