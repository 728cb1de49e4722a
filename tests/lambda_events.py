"""Lambda events as AWS documents them: SQS, Kinesis and DynamoDB Streams records.

Every documented key is present (Lambda's developer guide, "Using Lambda with Amazon
SQS / Kinesis / DynamoDB"), so a handler reading a key the real event has is tested the
way it runs. Identifiers are made up per call; sequence numbers increase.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import json
import uuid
from collections.abc import Mapping
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"
_sequence = itertools.count(49590338271490256608559692538361571095921575989136588898)
_stream_sequence = itertools.count(111_000_000_000_000_000_000)

TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
"""The ``userIdentity`` of a delete made by DynamoDB's time to live."""


def batch(*records: Mapping[str, Any]) -> dict[str, Any]:
    """The event Lambda passes: the records under ``Records``."""
    return {"Records": list(records)}


def sqs_record(
    body: str, *, queue_name: str = "collections", receive_count: int = 1
) -> dict[str, Any]:
    """One SQS message as Lambda delivers it."""
    sent = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": base64.b64encode(uuid.uuid4().bytes * 4).decode(),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": str(sent),
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": str(sent + 2),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_name}",
        "awsRegion": REGION,
    }


def kinesis_record(
    data: bytes,
    *,
    partition_key: str,
    arrived_at: dt.datetime | None = None,
    stream: str = "payengine-webhooks",
) -> dict[str, Any]:
    """One Kinesis record as Lambda delivers it (``data`` base64-encoded), put at `arrived_at`."""
    sequence = str(next(_sequence))
    arrived = arrived_at or dt.datetime.now(dt.UTC)
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": sequence,
            "data": base64.b64encode(data).decode(),
            "approximateArrivalTimestamp": arrived.timestamp(),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000006:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/lambda-role",
        "awsRegion": REGION,
        "eventSourceARN": f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}",
    }


def stream_record(
    event_name: str,
    *,
    keys: Mapping[str, Any],
    new: Mapping[str, Any] | None = None,
    old: Mapping[str, Any] | None = None,
    user_identity: Mapping[str, str] | None = None,
    table: str = "test-loc-service",
) -> dict[str, Any]:
    """One DynamoDB Streams record (NEW_AND_OLD_IMAGES) as Lambda delivers it.

    `keys`, `new` and `old` are in DynamoDB's attribute-value format. ``userIdentity``
    is present only when given: AWS sets it on deletes made by the TTL.
    """
    images: dict[str, Any] = {}
    if new is not None:
        images["NewImage"] = dict(new)
    if old is not None:
        images["OldImage"] = dict(old)
    record: dict[str, Any] = {
        "eventID": uuid.uuid4().hex,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": {
            "ApproximateCreationDateTime": int(dt.datetime.now(dt.UTC).timestamp()),
            "Keys": dict(keys),
            **images,
            "SequenceNumber": str(next(_stream_sequence)),
            "SizeBytes": len(json.dumps(images)),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": (
            f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}/stream/2026-01-01T00:00:00.000"
        ),
    }
    if user_identity is not None:
        record["userIdentity"] = dict(user_identity)
    return record


def keys_of(item: Mapping[str, Any]) -> dict[str, Any]:
    """The table keys of an item in attribute-value format."""
    return {"PK": item["PK"], "SK": item["SK"]}


def sqs_ids(*records: Mapping[str, Any]) -> list[dict[str, str]]:
    """The ``batchItemFailures`` that name these SQS records."""
    return [{"itemIdentifier": record["messageId"]} for record in records]


def kinesis_ids(*records: Mapping[str, Any]) -> list[dict[str, str]]:
    """The ``batchItemFailures`` that name these Kinesis records."""
    return [{"itemIdentifier": record["kinesis"]["sequenceNumber"]} for record in records]


def stream_ids(*records: Mapping[str, Any]) -> list[dict[str, str]]:
    """The ``batchItemFailures`` that name these Streams records."""
    return [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]} for record in records]
