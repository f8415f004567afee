"""Any valid tenant file, alone or among others, gets the complete pipeline the design describes.

Each hypothesis example writes fresh tenant files and evaluates the whole program once, under fresh mocks
and a fresh event loop; the same checks as for the example tenants apply, and the policy pack flags exactly the
safety defaults a file turns off.
"""

from __future__ import annotations

import pipeline_spec as spec
from hypothesis import HealthCheck, given, settings
from strategies import tenant_document_sets, tenant_documents

from components.stack import StackSettings

# Whole-program evaluations take about 0.3 s per tenant: few examples, more in the ci profile.
EVALUATIONS = settings(max_examples=min(25, settings().max_examples))


@EVALUATIONS
@given(document=tenant_documents())
def test_pipeline_meets_every_requirement_for_any_valid_tenant_file(evaluate_tenants, document):
    evaluated = evaluate_tenants([document])
    assert set(evaluated.pipelines) == {document["tenant"]}
    spec.check_stack(evaluated)


@settings(EVALUATIONS, suppress_health_check=[HealthCheck.large_base_example])
@given(documents=tenant_document_sets())
def test_isolation_no_policy_names_another_tenant_for_any_set_of_tenants(evaluate_tenants, documents):
    evaluated = evaluate_tenants(documents)
    assert set(evaluated.pipelines) == {d["tenant"] for d in documents}
    spec.check_stack(evaluated)  # the pack's tenant-isolation rule among the rest


@EVALUATIONS
@given(document=tenant_documents())
def test_pipeline_uses_the_stack_settings_for_layer_and_notify(evaluate_tenants, document):
    stack_settings = StackSettings(
        region="eu-west-1",
        notify=["platform@example.com"],
        powertools_layer_version=31,
    )
    pipeline = evaluate_tenants([document], settings=stack_settings)[document["tenant"]]
    spec.check_function(pipeline)
    spec.check_alarms(pipeline)
    assert spec.expected_layer_arn(pipeline).endswith(":31")


def test_offline_assigns_each_resource_to_its_component_when_tenant_names_share_a_prefix(evaluate_tenants):
    documents = [_sensors_like("ab"), _sensors_like("ab-catalog")]
    evaluated = evaluate_tenants(documents)
    recorded = evaluated.recorded
    wrong = [
        (r.type, r.name, r.tenant, recorded.owner(r))
        for r in recorded.evaluation.resources
        if r.tenant != recorded.owner(r)
    ]
    assert not wrong, f"plan --json reports these resources under another tenant: {wrong}"


def _sensors_like(name: str) -> dict:
    return {
        "tenant": name,
        "owner": "iot@example.com",
        "records": {
            "schema": {"type": "object", "properties": {"device_id": {"type": "string"}}},
            "partition_key": "device#{device_id}",
        },
    }
