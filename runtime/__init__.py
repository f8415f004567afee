"""Tributary's shared Lambda handler: Kinesis -> DynamoDB with exactly-once effects.

The entry point is ``runtime.handler.handler``; its business logic is ``runtime.batch.process_batch``. The
contract the infrastructure imports is ``runtime.settings`` and ``runtime.templates``: both are pure, so this
package imports nothing itself and ``import runtime.settings`` loads neither boto3 nor powertools.
"""
