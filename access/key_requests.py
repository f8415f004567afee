"""The KMS requests AWS makes because of a call on a resource encrypted with a tenant key (`access.aws_rules`):
the service's requests with the caller's permissions, through kms:ViaService, and a service principal's requests
as itself.
"""

from __future__ import annotations

from access.aws_rules import (
    DATA_PLANE_KEY_USE,
    DYNAMODB_KEYS,
    KMS_CONDITION_KEYS,
    LOGS_KEYS,
    S3_MULTIPART_KEY_USE,
    SAR_KMS,
    SERVICE_PRINCIPAL_KEY_USE,
    KeyUse,
)
from access.call_types import Call
from access.policy_types import SERVICE_PREFIX, Request
from access.program_policies import Policies, owner

# The concrete KMS action AWS authorizes for each wildcard the rules list. kms:ReEncrypt* and kms:GenerateDataKey*:
# "kms:ReEncrypt* (for kms:ReEncryptFrom and kms:ReEncryptTo)", "kms:GenerateDataKey* (for kms:GenerateDataKey and
# kms:GenerateDataKeyWithoutPlaintext)" (DYNAMODB_KEYS): services generate plaintext data keys, so GenerateDataKey.
# The others name one action each in the KMS actions table (SAR_KMS): DescribeKey, Decrypt, Encrypt.
CONCRETE_KMS_ACTIONS: dict[str, tuple[str, ...]] = {
    "kms:Decrypt*": ("kms:Decrypt",),
    "kms:Describe*": ("kms:DescribeKey",),
    "kms:Encrypt*": ("kms:Encrypt",),
    "kms:GenerateDataKey*": ("kms:GenerateDataKey",),
    "kms:ReEncrypt*": ("kms:ReEncryptFrom", "kms:ReEncryptTo"),
}
CONCRETE_KMS_SOURCES = (DYNAMODB_KEYS, SAR_KMS)

# Calls whose data a service encrypts with its own service principal, whoever the caller is: CloudWatch Logs
# encrypts a log group's events as logs.<region>.amazonaws.com (LOGS_KEYS; SERVICE_PRINCIPAL_KEY_USE).
ENCRYPTED_BY_SERVICE_PRINCIPAL: dict[str, str] = {"logs:PutLogEvents": "logs.{region}.amazonaws.com"}
ENCRYPTED_BY_SERVICE_PRINCIPAL_SOURCE = LOGS_KEYS

# A multipart upload is authorized as s3:PutObject but needs kms:Decrypt too (S3_MULTIPART_KEY_USE's page).
OPERATION_KEY_USE: dict[tuple[str, str], tuple[KeyUse, ...]] = {
    ("s3:PutObject", operation): (S3_MULTIPART_KEY_USE,)
    for operation in ("CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload")
}

# kms:ViaService is "<service>.<region>.amazonaws.com" (its table of ViaService names) and kms:CallerAccount the
# caller's account ID (KMS_CONDITION_KEYS, #conditions-kms-via-service and #conditions-kms-caller-account).
VIA_SERVICE = "kms:ViaService"
CALLER_ACCOUNT = "kms:CallerAccount"
CONTEXT_KEYS_SOURCE = KMS_CONDITION_KEYS
# DynamoDB's encryption context names the table by name, not ARN (DYNAMODB_KEYS, quoted in aws_rules).
_TABLE_NAME_CONTEXT = "aws:dynamodb:tableName"


def concrete_actions(action: str) -> tuple[str, ...]:
    """The KMS actions a rule's action pattern is requested as; an unlisted wildcard is refused, not guessed."""
    if "*" not in action and "?" not in action:
        return (action,)
    if action not in CONCRETE_KMS_ACTIONS:
        raise ValueError(f"{action}: no concrete KMS action is listed for this wildcard in CONCRETE_KMS_ACTIONS")
    return CONCRETE_KMS_ACTIONS[action]


def expand(call: Call, policies: Policies) -> list[Request]:
    """The call's own request, then the KMS requests AWS makes because of it when its resource is encrypted by a
    tenant key: the service's requests with the caller's permissions (`DATA_PLANE_KEY_USE`, through
    kms:ViaService) and a service principal's requests as itself (`SERVICE_PRINCIPAL_KEY_USE`)."""
    requests = [Request(call.principal, call.action, call.resource, dict(call.context))]
    key = policies.key_of(call.resource)
    if key is None:
        return requests
    target = owner(call.resource)
    region = _arn_field(target, 3) or _arn_field(key, 3)
    for principal, use in _key_uses(call, region):
        context = _key_context(principal, use, target, region)
        requests += [
            Request(principal, action, key, context) for pattern in use.actions for action in concrete_actions(pattern)
        ]
    return requests


def _key_uses(call: Call, region: str) -> list[tuple[str, KeyUse]]:
    own_uses = {name.format(region=region): uses for name, uses in SERVICE_PRINCIPAL_KEY_USE.items()}
    caller_service = call.principal.removeprefix(SERVICE_PREFIX) if call.principal.startswith(SERVICE_PREFIX) else None
    if caller_service in own_uses:
        # A service principal calling for itself uses the key as itself (cloudwatch.amazonaws.com publishing an
        # alarm to an encrypted topic), not through the service it calls.
        uses = [(call.principal, use) for use in own_uses[caller_service]]
    else:
        caller_uses = OPERATION_KEY_USE.get((call.action, call.operation)) or DATA_PLANE_KEY_USE.get(call.action, ())
        uses = [(call.principal, use) for use in caller_uses]
    service = ENCRYPTED_BY_SERVICE_PRINCIPAL.get(call.action)
    if service is not None:
        name = service.format(region=region)
        uses += [(f"{SERVICE_PREFIX}{name}", use) for use in own_uses[name]]
    return uses


def _key_context(principal: str, use: KeyUse, target: str, region: str) -> dict[str, str]:
    context: dict[str, str] = {}
    if use.via_service:
        context[VIA_SERVICE] = f"{use.via_service}.{region}.amazonaws.com"
    account = _arn_field(principal, 4)
    if account:
        context[CALLER_ACCOUNT] = account
    if use.encryption_context_key:
        value = target.rpartition(":table/")[2] if use.encryption_context_key == _TABLE_NAME_CONTEXT else target
        context[f"kms:EncryptionContext:{use.encryption_context_key}"] = value
    return context


def _arn_field(arn: str, position: int) -> str:
    parts = arn.split(":", 5)
    return parts[position] if arn.startswith("arn:") and len(parts) == 6 else ""
