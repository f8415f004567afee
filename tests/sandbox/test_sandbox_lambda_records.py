"""What Lambda reads from a function's answer: the partial batch response, or a failure of the whole batch."""

from __future__ import annotations

import pytest

from sandbox.engines.lambda_records import first_failed_index
from sandbox.engines.shard_reader import StreamRecord


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": "no-such-sequence"}]},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"identifier": "1"}]},
        {"batchItemFailures": "1"},
        "not an object",
        ["1"],
    ],
)
def test_partial_response_malformed_fails_whole_batch(response):
    records = _records(3)
    with pytest.raises(ValueError):
        first_failed_index(response, records)


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}])
def test_partial_response_empty_is_success(response):
    assert first_failed_index(response, _records(3)) is None


def _records(count):
    return [StreamRecord("shardId-000000000000", str(i + 1), "k", b"x", 0.0) for i in range(count)]
