"""Where a tenant lives: its deployed names, and AWS clients for the account (or the sandbox) that holds them.

    target = resolve(project, "sensors", stack="prod", sandbox=False)
    target.client("sqs").receive_message(QueueUrl=target.names.failure_queue_url, ...)

Both answers come from the program's own evaluation, so the names are the ones `pulumi up` (or
`tributary sandbox deploy`) created:

- the sandbox: the deployment record `tributary sandbox deploy --endpoint-url URL` wrote, with the emulator's
  own ids; clients at its endpoint with dummy credentials;
- AWS: the program evaluated offline with the caller's account (STS GetCallerIdentity), so names that embed the
  account (bucket names) are the real ones; the tenant's region and account follow its `account` block as the
  program's provider does, and a tenant in another account is reached by assuming the role its file names.
  Credentials come from boto3's default chain (environment, profile, SSO, instance role).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from components.config import TenantFileError, load_tenant, tenant_files
from components.naming import DEFAULT_STACK, tenant_names
from components.stack import read_named_stack, stack_file

if TYPE_CHECKING:  # the engine imports Pulumi: only once a tenant is resolved, not when the command starts
    from components.offline import Evaluation

GLUE_TABLE = "aws:glue/catalogTable:CatalogTable"
BUCKET = "aws:s3/bucket:Bucket"
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})


class TargetError(Exception):
    """Raised when a tenant cannot be located: an unknown tenant, one the stack does not select, nothing deployed
    in the sandbox, no usable AWS credentials. The message is one line that says what to do."""


@dataclass(frozen=True)
class ArchiveLocation:
    """The tenant's archive, as the Glue table Athena reads it describes it."""

    location: str  # s3://bucket/data/
    glue_database: str
    glue_table: str
    columns: tuple[tuple[str, str], ...]  # (name, Glue type), in the table's order
    partition_keys: tuple[str, ...]
    parquet: bool

    @property
    def bucket(self) -> str:
        return urlsplit(self.location).netloc

    @property
    def prefix(self) -> str:
        return urlsplit(self.location).path.lstrip("/")

    @property
    def athena_table(self) -> str:
        return f"{self.glue_database}.{self.glue_table}"


@dataclass(frozen=True)
class DeployedTenant:
    """One tenant's deployed names, on one stack."""

    tenant: str
    stack: str
    region: str
    account: str
    stream: str
    function: str
    table: str
    failure_queue_url: str
    failure_bucket: str | None  # where the mapping records given-up batches, with `on_failure: s3`
    archive: ArchiveLocation | None  # None when the tenant's archive is disabled


@dataclass(frozen=True)
class Target:
    """A deployed tenant and a session that reaches it."""

    names: DeployedTenant
    session: boto3.session.Session
    endpoint_url: str | None  # the sandbox's emulator; None on AWS

    @property
    def where(self) -> str:
        if self.endpoint_url:
            return f"the sandbox at {self.endpoint_url}"
        return f"AWS account {self.names.account} in {self.names.region}"

    def client(self, service: str) -> Any:
        return self.session.client(
            service, region_name=self.names.region, endpoint_url=self.endpoint_url, config=CLIENT_CONFIG
        )


def resolve(project: Path, tenant: str, stack: str | None, sandbox: bool) -> Target:
    """The tenant on `stack` (default: dev on AWS, the recorded stack in the sandbox). Raises TargetError."""
    try:
        return sandbox_target(project, tenant, stack) if sandbox else aws_target(project, tenant, stack)
    except TenantFileError as error:  # a bad stack or tenant file: its own lines, joined
        raise TargetError("; ".join(error.problems)) from None


# --------------------------------------------------------------------------------- names from an evaluation


def deployed_tenant(evaluation: Evaluation, tenant: str) -> DeployedTenant:
    """The tenant's names as the program registered them (outputs, the Glue table, the mapping's destination)."""
    outputs = evaluation.outputs[tenant]
    resources = evaluation.by_tenant().get(tenant, [])
    # arn:aws:kms:<region>:<account>:key/<id>: where the tenant's provider placed its resources. The key is kept in
    # every lifecycle state, while an offboarded tenant's stream is gone (its outputs are "").
    _, _, _, region, account, _ = outputs["key_arn"].split(":", 5)
    return DeployedTenant(
        tenant=tenant,
        stack=evaluation.stack,
        region=region,
        account=account,
        stream=outputs["stream_name"],
        function=outputs["function_name"],
        table=outputs["table_name"],
        # On AWS the offline engine builds it from the caller's real account in SQS's documented form,
        # https://sqs.<region>.amazonaws.com/<account>/<name>, so no GetQueueUrl call (the reader policy grants none):
        # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html
        failure_queue_url=outputs["failure_queue_url"],
        failure_bucket=_failure_bucket(resources, tenant_names(tenant, evaluation.stack, account).failure_bucket),
        archive=_archive(resources),
    )


def _failure_bucket(resources: list, name: str) -> str | None:
    """The failure bucket (a tenant with `on_failure: s3`), by the name the program gives it: an offboarded tenant
    keeps it though its mapping, which names it as a destination, is gone."""
    for resource in resources:
        if resource.type == BUCKET and resource.inputs.get("bucket") == name:
            return name
    return None


def _archive(resources: list) -> ArchiveLocation | None:
    from components.archive import PARQUET_INPUT  # pulumi_aws is slow to import: not when the command starts

    for resource in resources:
        if resource.type == GLUE_TABLE:
            inputs = resource.inputs
            descriptor = inputs["storageDescriptor"]
            return ArchiveLocation(
                location=descriptor["location"],
                glue_database=inputs["databaseName"],
                glue_table=inputs["name"],
                columns=tuple((column["name"], column["type"]) for column in descriptor.get("columns", [])),
                partition_keys=tuple(key["name"] for key in inputs.get("partitionKeys", [])),
                parquet=descriptor.get("inputFormat") == PARQUET_INPUT,
            )
    return None


# --------------------------------------------------------------------------------- the sandbox


def sandbox_target(project: Path, tenant: str, stack: str | None) -> Target:
    from sandbox.engines.emulator import DUMMY_CREDENTIALS
    from sandbox.session.deploy import DeployError, Deployment
    from sandbox.session.paths import SandboxPaths

    path = SandboxPaths.for_project(project).deployment_record
    try:
        deployment = Deployment.load(path)
        recorded = deployment.evaluation.stack
        if stack is not None and stack != recorded:
            raise TargetError(
                f"--stack {stack}: the sandbox holds stack {recorded!r} ({path}); leave out --stack, "
                f"or deploy that stack with `tributary sandbox deploy --stack {stack} --endpoint-url URL`"
            )
        if tenant not in deployment.tenants():
            deployed = ", ".join(deployment.tenants()) or "none"
            raise TargetError(f"{tenant}: not deployed in the sandbox (stack {recorded!r} deployed: {deployed})")
        deployment.check_live(path)
    except DeployError as error:
        raise TargetError(str(error)) from None
    session = boto3.session.Session(region_name=deployment.region, **DUMMY_CREDENTIALS)
    return Target(deployed_tenant(deployment.evaluation, tenant), session, deployment.endpoint_url)


# --------------------------------------------------------------------------------- AWS


def aws_target(project: Path, tenant: str, stack: str | None) -> Target:
    from components.offline import FabricatingMocks, evaluate

    stack = stack or DEFAULT_STACK
    settings = read_named_stack(project, stack)
    session = boto3.session.Session(region_name=settings.region)
    account = caller_account(session)
    # The program's names with the caller's account: the same names `pulumi up` created in it.
    evaluation = evaluate(project, stack, settings, mocks=FabricatingMocks(region=settings.region, account_id=account))
    if tenant not in evaluation.by_tenant():
        raise TargetError(_not_selected(project, tenant, stack, settings.tenants_dir, settings.tenants))
    names = deployed_tenant(evaluation, tenant)
    role_arn = _tenant_role(project / settings.tenants_dir / f"{tenant}.yaml", stack)
    if role_arn:
        session = assumed_session(session, role_arn, tenant, names.region)
    return Target(names, session, None)


def caller_account(session: boto3.session.Session) -> str:
    """The account of the caller's credentials (GetCallerIdentity needs no permission)."""
    try:
        return session.client("sts", config=CLIENT_CONFIG).get_caller_identity()["Account"]
    except NoCredentialsError:
        raise TargetError(
            "no AWS credentials found (environment, ~/.aws, SSO, instance role): configure them, "
            "or pass --sandbox to use the sandbox"
        ) from None
    except (ClientError, BotoCoreError) as error:
        raise TargetError(f"AWS refused the caller's credentials: {one_line(error)}") from None


def assumed_session(session: boto3.session.Session, role_arn: str, tenant: str, region: str) -> boto3.session.Session:
    """A session in the tenant's own account, through the role its file names (as the program's provider)."""
    try:
        credentials = session.client("sts", config=CLIENT_CONFIG).assume_role(
            RoleArn=role_arn, RoleSessionName=f"tributary-{tenant}-ops"
        )["Credentials"]
    except (ClientError, BotoCoreError) as error:
        raise TargetError(f"{tenant}: cannot assume {role_arn} (account.role_arn): {one_line(error)}") from None
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def _tenant_role(path: Path, stack: str) -> str | None:
    account = load_tenant(path, stack).account
    return account.role_arn if account is not None else None


def _not_selected(project: Path, tenant: str, stack: str, tenants_dir: str, selectors: list[str]) -> str:
    known = sorted(path.stem for path in tenant_files(project / tenants_dir))
    if tenant not in known:
        path = project / tenants_dir / f"{tenant}.yaml"
        return f"{tenant}: no such tenant ({path} does not exist; tenants: {', '.join(known) or 'none'})"
    return (
        f"{tenant}: stack {stack!r} does not deploy this tenant "
        f"(tributary:tenants: {selectors} in {stack_file(project, stack)})"
    )


def one_line(error: BaseException) -> str:
    """An AWS or library error as one line."""
    return " ".join(str(error).split())
