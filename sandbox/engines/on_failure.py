"""A Kinesis mapping's on-failure destination, written to as Lambda writes to it.

An SQS queue receives the invocation record as a message; an S3 bucket receives it (with the invocation's
payload, which the mapping adds) as an object under Lambda's key layout. Clients are made on first use, so a
mapping that never gives up makes no call to its destination.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sandbox.engines import emulator
from sandbox.engines.lambda_records import s3_failure_key
from sandbox.engines.specs import arn_account, arn_resource, arn_service


class OnFailureDestination:
    """The destination `arn` of mapping `mapping_uuid`; `instrument(client)` is applied to its client."""

    def __init__(
        self,
        arn: str,
        mapping_uuid: str,
        endpoint_url: str,
        region: str,
        instrument: Callable[[Any], Any],
    ) -> None:
        self.arn = arn
        self._mapping_uuid = mapping_uuid
        self._endpoint_url = endpoint_url
        self._region = region
        self._instrument = instrument
        self._client: Any = None

    @property
    def is_bucket(self) -> bool:
        """An S3 destination, which also receives the invocation's payload."""
        return arn_service(self.arn) == "s3"

    def send(self, message: dict[str, Any], shard_id: str, now: float) -> None:
        if self.is_bucket:
            self._client_for("s3").put_object(
                Bucket=arn_resource(self.arn),
                Key=s3_failure_key(self._mapping_uuid, shard_id, now),
                Body=json.dumps(message).encode(),
                ContentType="application/json",
            )
        else:
            self._client_for("sqs").send_message(QueueUrl=self._queue_url(), MessageBody=json.dumps(message))

    def _client_for(self, service: str) -> Any:
        if self._client is None:
            self._client = self._instrument(emulator.client(service, self._endpoint_url, self._region))
        return self._client

    def _queue_url(self) -> str:
        # Lambda sends to the destination's ARN and never looks the queue up; the emulator's URL follows
        # from the ARN the same way, so the mapping makes no call its role would not make on AWS.
        return f"{self._endpoint_url}/{arn_account(self.arn)}/{arn_resource(self.arn)}"
