"""What the emulator cannot run, described the way AWS describes it, for the sandbox's own engines to run.

moto stores a Kinesis event source mapping but never polls the stream, so the sandbox runs the mapping
itself (sandbox/engines/event_source.py). The deploy step records each mapping in the shape Lambda's
GetEventSourceMapping returns, converted once from the program's inputs here; the session builds the engine's
settings from that description and from the emulator's own description of the function.
"""

from __future__ import annotations

from typing import Any

from sandbox.engines.emulator import EmulatorClients
from sandbox.session.creators import pascal

# Run by the sandbox, not the emulator: its UUID is fabricated, and the mapping is described here.
EVENT_SOURCE_MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
# What Lambda gives a Kinesis mapping's optional settings when CreateEventSourceMapping leaves them out
# (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html): Pulumi input -> API name, default.
MAPPING_SETTINGS = {
    "batchSize": ("BatchSize", 100),
    "maximumBatchingWindowInSeconds": ("MaximumBatchingWindowInSeconds", 0),
    "parallelizationFactor": ("ParallelizationFactor", 1),
    "bisectBatchOnFunctionError": ("BisectBatchOnFunctionError", False),
    "maximumRetryAttempts": ("MaximumRetryAttempts", -1),
    "maximumRecordAgeInSeconds": ("MaximumRecordAgeInSeconds", -1),
    "functionResponseTypes": ("FunctionResponseTypes", []),
}


def describe_event_source_mapping(c: EmulatorClients, uuid: str, arn: str, i: dict) -> dict[str, Any]:
    """The mapping as GetEventSourceMapping would describe it
    (https://docs.aws.amazon.com/lambda/latest/api/API_GetEventSourceMapping.html): its function by ARN, as the
    emulator stores the function, and every setting Lambda reports, with Lambda's defaults where the program
    sets none."""
    function_arn = c.awslambda.get_function_configuration(FunctionName=i["functionName"])["FunctionArn"]
    on_failure = ((i.get("destinationConfig") or {}).get("onFailure") or {}).get("destinationArn")
    settings = {name: pascal(i.get(key, default)) for key, (name, default) in MAPPING_SETTINGS.items()}
    return {
        "UUID": uuid,
        "EventSourceMappingArn": arn,
        "EventSourceArn": i["eventSourceArn"],
        "FunctionArn": function_arn,
        "StartingPosition": i["startingPosition"],
        "State": "Enabled",
        **settings,
        "DestinationConfig": {"OnFailure": {"Destination": on_failure} if on_failure else {}, "OnSuccess": {}},
    }
