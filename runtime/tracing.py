"""X-Ray tracing through Powertools' Tracer, built on the first invocation instead of at import.

Building a Tracer imports the X-Ray SDK, whose global recorder starts a sampler that, outside Lambda, builds a
botocore client of its own; with tracing on, the Tracer also patches every library the SDK supports that it can
import. At import that was most of what importing the handler cost beyond boto3's own import, and outside Lambda
the sampler's client doubled it, all of it waste when tracing is off. So the handler's module builds nothing:
the first invocation builds the Tracer when tracing is on, and never when it is off.

Powertools' rules decide (https://docs.aws.amazon.com/powertools/python/latest/core/tracer/): tracing is off when
POWERTOOLS_TRACE_DISABLED is true or outside Lambda; on AWS, with the function's tracing Active, it is on. The
Tracer patches only botocore (``patch_modules``, the same page): every AWS call the handler makes goes through it,
and each becomes a subsegment in the invocation's trace, beside the ``## handler`` subsegment, as before.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Tracer

# The libraries whose calls become subsegments: the handler talks to DynamoDB and SQS through botocore only.
PATCHED_MODULES = ("botocore",)


class LazyTracer:
    """Powertools' Tracer for ``service``, built when the first invocation is traced; a no-op when tracing is off."""

    def __init__(self, service: str, patch_modules: tuple[str, ...] = PATCHED_MODULES):
        self.service = service
        self.patch_modules = patch_modules
        self._tracer: Tracer | None = None
        self._enabled: bool | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Powertools' own decision, read from the environment once, on first use."""
        if self._enabled is None:
            self._enabled = not Tracer._is_tracer_disabled()
        return self._enabled

    @property
    def tracer(self) -> Tracer:
        with self._lock:
            if self._tracer is None:
                self._tracer = Tracer(service=self.service, patch_modules=list(self.patch_modules))
            return self._tracer

    def capture_lambda_handler(self, handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """``handler`` in a ``## <name>`` subsegment with the ColdStart and Service annotations (Powertools'
        ``capture_lambda_handler``, its response not captured: it lists sequence numbers, nothing to search by)."""
        traced: Callable[[Any, Any], Any] | None = None

        @functools.wraps(handler)
        def entry(event: Any, context: Any) -> Any:
            nonlocal traced
            if not self.enabled:
                return handler(event, context)
            if traced is None:
                traced = self.tracer.capture_lambda_handler(handler, capture_response=False)
            return traced(event, context)

        return entry

    def put_annotation(self, key: str, value: str) -> None:
        if self.enabled:
            self.tracer.put_annotation(key=key, value=value)
