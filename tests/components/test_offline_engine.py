"""How the offline engine runs the program: the collector's setting and the SDK's stack walk while it runs (both
restored after), and tenants registered one at a time."""

from __future__ import annotations

import gc
import itertools

import pytest
from pipeline_spec import DEV, PROJECT_ROOT
from pulumi.runtime import resource as sdk_resource

from components import collector
from components.offline import FabricatingMocks, TenantTrackingMonitor, evaluate


@pytest.fixture
def default_thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_collector_collects_only_the_young_generation_within_the_block(default_thresholds):
    with collector.young_collections_only():
        young, middle, old = gc.get_threshold()
        assert young == collector.YOUNG_THRESHOLD
        assert middle == old == collector.NEVER
    assert gc.get_threshold() == (700, 10, 10)


def test_collector_restores_the_thresholds_when_the_block_raises(default_thresholds):
    with pytest.raises(RuntimeError), collector.young_collections_only():
        raise RuntimeError("the program failed")
    assert gc.get_threshold() == (700, 10, 10)


class ThresholdRecordingMocks(FabricatingMocks):
    """Mocks that note the collector's thresholds as each resource is registered."""

    def __init__(self):
        super().__init__(region="us-east-1")
        self.thresholds: set[tuple[int, int, int]] = set()

    def new_resource(self, args):
        self.thresholds.add(gc.get_threshold())
        return super().new_resource(args)


def test_evaluation_collects_only_the_young_generation_and_restores_the_thresholds(default_thresholds):
    mocks = ThresholdRecordingMocks()
    evaluation = evaluate(PROJECT_ROOT, "dev", DEV, mocks=mocks)
    assert evaluation.resources
    assert mocks.thresholds == {(collector.YOUNG_THRESHOLD, collector.NEVER, collector.NEVER)}
    assert gc.get_threshold() == (700, 10, 10)


def test_evaluation_registers_each_tenant_before_building_the_next():
    # Given the example project's three tenants, evaluated by the engine's own mocks
    evaluation = evaluate(PROJECT_ROOT, "dev", DEV)
    # Then each tenant's resources were registered together, in the order the program built the tenants
    runs = [tenant for tenant, _ in itertools.groupby(resource.tenant for resource in evaluation.resources)]
    assert runs == sorted(evaluation.by_tenant()), runs


def test_evaluation_sends_no_stack_traces_to_the_mock_monitor_and_restores_the_sdk(monkeypatch):
    # Given a monitor that notes how many stack frames each registration carries
    frames = []
    register = TenantTrackingMonitor.RegisterResource

    def noting(self, request):
        frames.append(len(request.stackTrace.frames))
        return register(self, request)

    monkeypatch.setattr(TenantTrackingMonitor, "RegisterResource", noting)
    sdk_stack_trace = sdk_resource._get_stack_trace
    # When the example project is evaluated
    evaluate(PROJECT_ROOT, "dev", DEV)
    # Then no registration carried a frame, and the SDK walks the stack again once the engine is done
    assert frames and set(frames) == {0}
    assert sdk_resource._get_stack_trace is sdk_stack_trace
