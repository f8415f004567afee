"""The pack folder as Pulumi runs it, and the rules' shape: one per module, each saying what and how to fix.

`pulumi preview --policy-pack policy` starts `python -m pulumi.policy <engine> policy`, which runs
`policy/__main__.py`; the pack then serves the engine over gRPC. These tests start it the same way and ask it
what the engine asks: its policies, and its verdict on the plan's resources.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from plan_cases import broken, find, replaced
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

import policy.rules
from policy.rules import PACK_NAME, RULES
from policy.rules.types import BUCKET, BUCKET_VERSIONING, EVENT_SOURCE_MAPPING, TENANT_PIPELINE
from policy.run import urn

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PACK = PROJECT_ROOT / "policy"
STARTUP_SECONDS = 120  # a guard against a pack that never answers, not a measurement


def test_every_rule_module_is_in_the_pack_once():
    modules = [importlib.import_module(f"policy.rules.{m.name}") for m in pkgutil.iter_modules(policy.rules.__path__)]
    defined = [module.RULE for module in modules if hasattr(module, "RULE")]
    assert sorted(rule.name for rule in defined) == sorted(rule.name for rule in RULES)
    assert len({rule.name for rule in RULES}) == len(RULES)


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_rule_has_an_id_a_description_a_fix_and_the_aws_page_it_rests_on(rule):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule.name)
    assert rule.description.endswith(".") and len(rule.description) <= 120
    assert rule.remediation_steps and rule.remediation_steps[0].islower()
    assert rule.url.startswith("https://docs.aws.amazon.com/")


def test_only_the_pack_entry_point_constructs_a_policy_pack():
    """Constructing a PolicyPack serves gRPC forever: a module that did would hang whoever imports it."""
    sources = [p for folder in ("policy", "cli", "components", "tests") for p in (PROJECT_ROOT / folder).rglob("*.py")]
    constructing = [p for p in sources if "PolicyPack(" in p.read_text(encoding="utf-8") and p != Path(__file__)]
    assert constructing == [PACK / "__main__.py"]
    files = {"PulumiPolicy.yaml", "requirements.txt", "__main__.py"}
    assert files <= {p.name for p in PACK.iterdir()}
    assert "pulumi-policy==1.21.0" in (PACK / "requirements.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The pack, started as the Pulumi CLI starts a Python policy pack."""
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(PACK)],
        cwd=PACK,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], STARTUP_SECONDS)
        line = process.stdout.readline() if ready else b""
        if not line.strip().isdigit():
            process.kill()
            pytest.fail(f"the pack did not print its port: {line!r} {process.communicate()[1].decode()}")
        with grpc.insecure_channel(f"127.0.0.1:{int(line)}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.kill()
        process.wait()


def test_pack_serves_every_rule_as_mandatory(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == PACK_NAME
    assert [policy.name for policy in info.policies] == [rule.name for rule in RULES]
    assert {policy.enforcementLevel for policy in info.policies} == {analyzer_pb2.MANDATORY}


def _struct(properties: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(json.loads(json.dumps(properties, default=str)))  # the function's code asset becomes text
    return struct


def test_pack_judges_a_resource_as_the_engine_sends_it(analyzer, plan):
    mapping = find(plan, "orders", EVENT_SOURCE_MAPPING)
    for resource, expected in ((mapping, []), (broken(mapping, "bisectBatchOnFunctionError", False), ["mapping"])):
        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type, properties=_struct(resource.inputs), urn=urn("dev", resource), name=resource.name
        )
        diagnostics = analyzer.Analyze(request).diagnostics
        assert [d.policyName for d in diagnostics] == [f"{e}-bisect-on-error" for e in expected]
        assert all(d.enforcementLevel == analyzer_pb2.MANDATORY and "Fix: " in d.message for d in diagnostics)


def _stack_request(resources) -> analyzer_pb2.AnalyzeStackRequest:
    components = {r.name: urn("dev", r) for r in resources if r.type == TENANT_PIPELINE}
    return analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                type=r.type,
                properties=_struct(r.state or r.inputs),
                urn=urn("dev", r),
                name=r.name,
                parent="" if r.type == TENANT_PIPELINE else components.get(r.tenant, ""),
            )
            for r in resources
        ]
    )


def test_pack_judges_the_stack_as_the_engine_sends_it(analyzer, plan):
    assert list(analyzer.AnalyzeStack(_stack_request(plan.resources)).diagnostics) == []
    versioning = find(plan, "orders", BUCKET_VERSIONING)
    bucket = find(plan, "orders", BUCKET, bucket=versioning.inputs["bucket"])
    diagnostics = analyzer.AnalyzeStack(_stack_request(replaced(plan.resources, versioning))).diagnostics
    assert [(d.policyName, d.urn) for d in diagnostics] == [("bucket-versioning", urn("dev", bucket))]
