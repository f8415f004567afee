"""The production checklist as CrossGuard rules, one per module, in the order the pack reports them.

Import `RULES` from here (tests, `tributary plan`); only `policy/__main__.py` builds the `PolicyPack`, because
constructing one starts the analyzer's gRPC server and blocks forever. Modules here import each other
relatively, so the package loads both as `policy.rules` and as `rules` (how Pulumi runs the pack folder).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

from . import (
    alarm_has_action,
    alarm_has_dimensions,
    bucket_public_access_blocked,
    bucket_versioning,
    firehose_parquet_buffer,
    function_xray_active,
    iam_no_aws_managed_policies,
    iam_no_wildcards,
    kms_key_rotation,
    log_group_retention,
    mapping_bisect_on_error,
    mapping_finite_retries,
    mapping_max_record_age,
    mapping_on_failure_destination,
    mapping_reports_batch_item_failures,
    table_deletion_protection,
    table_point_in_time_recovery,
    tenant_isolation,
    tenant_key_encryption,
    tls_only_access,
)

PACK_NAME = "tributary-production-checklist"
# Every rule blocks `pulumi preview` and `pulumi up` (and `tributary plan`) when it is violated.
ENFORCEMENT = EnforcementLevel.MANDATORY

RULES: list[Policy] = [
    module.RULE
    for module in (
        mapping_bisect_on_error,
        mapping_finite_retries,
        mapping_max_record_age,
        mapping_on_failure_destination,
        mapping_reports_batch_item_failures,
        function_xray_active,
        log_group_retention,
        kms_key_rotation,
        tenant_key_encryption,
        table_point_in_time_recovery,
        table_deletion_protection,
        bucket_public_access_blocked,
        tls_only_access,
        bucket_versioning,
        iam_no_wildcards,
        iam_no_aws_managed_policies,
        tenant_isolation,
        alarm_has_action,
        alarm_has_dimensions,
        firehose_parquet_buffer,
    )
]
