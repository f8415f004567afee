"""Tributary's shared Lambda handler: Kinesis -> DynamoDB with exactly-once effects.

The entry point is ``runtime.handler.handler``; its business logic is ``process_batch``.
Names are imported lazily so that ``import runtime.settings`` (used by the infrastructure code)
does not load boto3 or powertools.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "HandlerConfig": "runtime.config",
    "WRITE_MODES": "runtime.config",
    "process_batch": "runtime.batch",
    "build_handler": "runtime.handler",
    "Processor": "runtime.handler",
    "Clients": "runtime.writers",
    "make_writer": "runtime.writers",
    "FailureQueue": "runtime.failures",
    "Deadline": "runtime.retry",
    "Backoff": "runtime.retry",
    "decode_batch": "runtime.records",
    "DecodedRecord": "runtime.types",
    "RecordFailure": "runtime.types",
    "RecordSource": "runtime.types",
    "BatchResult": "runtime.types",
    "Outcome": "runtime.types",
    "ConfigurationError": "runtime.exceptions",
    "PermanentRecordError": "runtime.exceptions",
    "TransientWriteError": "runtime.exceptions",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'runtime' has no attribute {name!r}")
