"""Kinesis's PutRecords limits, stated once with their sources: what the producers split and refuse by.

500 records and 5 MiB per call; a record's data (before base64) plus its partition key at most the stream's
maximum record size, 1 MiB unless the stream was raised to more (the program never does); partition keys of
1 to 256 characters. Sources:
https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html (quotas and limits),
https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecordsRequestEntry.html (data + key <= 1 MiB),
https://docs.aws.amazon.com/streams/latest/dev/large-records.html (1 MiB is every stream's default maximum).
"""

KINESIS_QUOTAS_PAGE = "https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html"
MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024
MAX_BYTES_PER_RECORD = 1024 * 1024
MAX_PARTITION_KEY_LENGTH = 256
