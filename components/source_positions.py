"""Where each resource was declared in the program: recorded by the SDK for the engine, never read by the mocks.

For every resource it registers, Pulumi's SDK walks the Python stack (`traceback.extract_stack`, which reads
each frame's source line through linecache) and turns every frame into a file URI, so that the engine can show
where the resource was declared. The mock monitor never reads them (`pulumi.runtime.mocks.MockMonitor.
RegisterResource` uses the type, name, parent, inputs and provider only): under the offline engine, that walk was
a tenth of a plan's CPU for nothing. `pulumi up` is untouched: only the offline engine enters `not_recorded`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import source_pb2


def _no_stack_trace() -> source_pb2.StackTrace:
    # What the SDK sends when it finds no frame of the program: no frames, hence no source position either.
    return source_pb2.StackTrace()


@contextmanager
def not_recorded() -> Iterator[None]:
    """Within the block, resources are registered without their stack trace and source position.

    The SDK's `_get_stack_trace` is replaced, and put back on the way out; should a release of the SDK rename
    it, entering the block fails (AttributeError) rather than silently walking the stack again."""
    original = sdk_resource._get_stack_trace
    sdk_resource._get_stack_trace = _no_stack_trace
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = original
