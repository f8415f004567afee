"""Tributary's shared Lambda handler: Kinesis -> DynamoDB with exactly-once effects.

The entry point is ``runtime.handler.handler``; its business logic is ``runtime.batch.process_batch``. The
contract the infrastructure imports is ``runtime.settings`` (environment names, item attributes, metric names),
``runtime.templates`` (the key template grammar) and ``runtime.modes`` (each write mode's declaration: the
settings it requires, its key layout, its table actions, its writer and its model of the table). All three are
pure, so this package imports nothing itself and importing them loads neither boto3 nor powertools.
"""
