r"""Replay a batch a stream consumer gave up on, from its dead-letter queue's record.

When a Kinesis or DynamoDB Streams event source mapping runs out of retries (or the
records grow older than its maximum age), Lambda sends its on-failure destination a
description of the batch, never the records: the shard and the first and last sequence
numbers (``KinesisBatchInfo`` / ``DDBStreamBatchInfo``). The records stay readable in
the stream only for its retention (Kinesis: the stream's, 7 days here; DynamoDB Streams:
24 hours after the change). `replay_event` reads them back and returns the event Lambda
delivered, so the function can be invoked with it again once the cause is fixed::

    python -m loc_entrypoints.lambdas.replay failure.json > event.json
    aws lambda invoke --function-name test-loc-settlement-consumer \
        --payload fileb://event.json answer.json

Each record keeps its arrival time: a webhook is verified at the instant it first
reached the stream, so a replay is on time where putting the webhook on the stream again
would be refused as stale. Every consumer applies a record once however often it comes.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from loc_core.errors import LocError

__all__ = ["NotAStreamFailure", "main", "replay_event"]

_PAGE = 1000
"""Records asked for per ``GetRecords`` (the most DynamoDB Streams returns)."""
_EMPTY_PAGES = 10
"""Empty answers in a row, at the shard's tip, after which it holds nothing further."""


_NO_BATCH = "no KinesisBatchInfo or DDBStreamBatchInfo: not the on-failure record of a stream"


class NotAStreamFailure(ValueError):
    """The message is not an on-failure record of a Kinesis or DynamoDB Streams mapping."""


def replay_event(failure: Mapping[str, Any], *, client: Any) -> dict[str, Any]:  # noqa: ANN401 - a boto3 kinesis or dynamodbstreams client
    """The event of the batch `failure` describes, read from its stream with `client`.

    `client` is a boto3 ``kinesis`` client for a ``KinesisBatchInfo``, a
    ``dynamodbstreams`` client for a ``DDBStreamBatchInfo``.

    Raises:
        NotAStreamFailure: `failure` describes no stream batch.
    """
    if "KinesisBatchInfo" in failure:
        info = failure["KinesisBatchInfo"]
        return {"Records": list(_kinesis_records(client, info))}
    if "DDBStreamBatchInfo" in failure:
        info = failure["DDBStreamBatchInfo"]
        return {"Records": list(_stream_records(client, info))}
    raise NotAStreamFailure(_NO_BATCH)


def _pages(
    read: Callable[[str], Mapping[str, Any]],
    iterator: str | None,
    last: int,
    sequence_of: Callable[[Mapping[str, Any]], str],
) -> Iterator[Mapping[str, Any]]:
    """The shard's records from `iterator` through the sequence number `last`."""
    empty = 0
    while iterator and empty < _EMPTY_PAGES:
        page = read(iterator)
        records = page.get("Records", [])
        # Kinesis may answer nothing for a stretch of a shard it has not yet caught up
        # on (``MillisBehindLatest``); only an empty answer at the tip counts.
        empty = 0 if records or page.get("MillisBehindLatest", 0) else empty + 1
        for record in records:
            if int(sequence_of(record)) > last:
                return
            yield record
        iterator = page.get("NextShardIterator")


def _reader(client: Any) -> Callable[[str], Mapping[str, Any]]:  # noqa: ANN401 - boto3
    """A page of a shard's records from an iterator, by either stream's ``GetRecords``."""

    def read(at: str) -> Mapping[str, Any]:
        answer: Mapping[str, Any] = client.get_records(ShardIterator=at, Limit=_PAGE)
        return answer

    return read


def _kinesis_sequence(record: Mapping[str, Any]) -> str:
    return str(record["SequenceNumber"])


def _stream_sequence(record: Mapping[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def _kinesis_records(client: Any, info: Mapping[str, Any]) -> Iterator[dict[str, Any]]:  # noqa: ANN401 - boto3
    arn = str(info["streamArn"])
    region = _region(arn)
    shard = str(info["shardId"])
    iterator = client.get_shard_iterator(
        StreamName=arn.rsplit("/", 1)[-1],
        ShardId=shard,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=str(info["startSequenceNumber"]),
    )["ShardIterator"]

    last = int(info["endSequenceNumber"])
    for record in _pages(_reader(client), iterator, last, _kinesis_sequence):
        arrived: dt.datetime = record["ApproximateArrivalTimestamp"]
        yield {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": record["PartitionKey"],
                "sequenceNumber": record["SequenceNumber"],
                "data": base64.b64encode(record["Data"]).decode(),
                "approximateArrivalTimestamp": arrived.timestamp(),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard}:{record['SequenceNumber']}",
            "eventName": "aws:kinesis:record",
            "awsRegion": region,
            "eventSourceARN": arn,
        }


def _stream_records(client: Any, info: Mapping[str, Any]) -> Iterator[dict[str, Any]]:  # noqa: ANN401 - boto3
    arn = str(info["streamArn"])
    iterator = client.get_shard_iterator(
        StreamArn=arn,
        ShardId=str(info["shardId"]),
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=str(info["startSequenceNumber"]),
    )["ShardIterator"]

    last = int(info["endSequenceNumber"])
    for record in _pages(_reader(client), iterator, last, _stream_sequence):
        yield {**_as_lambda_json(record), "eventSourceARN": arn}


def _as_lambda_json(value: Any) -> Any:  # noqa: ANN401 - any part of a boto3 answer
    """A boto3 answer as Lambda's JSON: times as epoch seconds, binary values as base64."""
    if isinstance(value, Mapping):
        return {key: _as_lambda_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_lambda_json(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Write the event of the on-failure record in the file named by the one argument.

    The file holds the record itself or the SQS message that carries it (its ``Body``),
    as ``aws sqs receive-message`` prints one. Exit 2 for a wrong call, 1 with one line
    on standard error for a file that cannot be read or describes no stream batch, a
    ``LOC_*`` setting that cannot be used, or a stream that cannot be read (no region or
    credentials, records past retention, no answer within the ``LOC_AWS_*`` bounds).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        sys.stderr.write("usage: python -m loc_entrypoints.lambdas.replay FAILURE.json\n")
        return 2
    try:
        event = _replayed(args[0])
    except _Refused as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    sys.stdout.write(json.dumps(event) + "\n")
    return 0


class _Refused(Exception):
    """Why `main` cannot replay the file it was given: its one line."""


def _replayed(path: str) -> dict[str, Any]:
    """The event of the on-failure record in the file at `path`, read from its stream.

    The stream's client is `aws_client`'s, as every AWS client of the library: the
    ``LOC_AWS_*`` timeouts and attempts bound each call (botocore's own defaults let a
    stream endpoint that never answers hold the tool for minutes).
    """
    import botocore.exceptions  # noqa: PLC0415 - the aws extra, only for this tool

    from loc_entrypoints.bootstrap import Settings, aws_client  # noqa: PLC0415 - same

    try:
        with open(path, encoding="utf-8") as file:  # noqa: PTH123 - a path given on the command line
            failure = json.load(file)
        if isinstance(failure, Mapping) and isinstance(failure.get("Body"), str):
            failure = json.loads(failure["Body"])
    except (OSError, ValueError) as exc:  # unreadable, or not JSON (JSONDecodeError)
        raise _Refused(f"cannot read {path}: {exc}") from exc
    if not isinstance(failure, Mapping):
        raise _Refused(f"{path} is not an on-failure record")
    info = failure.get("KinesisBatchInfo") or failure.get("DDBStreamBatchInfo")
    if info is None:
        raise _Refused(_NO_BATCH)
    region = _region(str(info.get("streamArn", ""))) if isinstance(info, Mapping) else None
    try:
        settings = Settings.from_env(os.environ)
    except LocError as exc:  # a LOC_* variable that cannot be used
        raise _Refused(str(exc)) from exc
    try:  # a client first: its region comes from the stream's ARN
        client = (
            aws_client("kinesis", settings, region=region)
            if "KinesisBatchInfo" in failure
            else aws_client("dynamodbstreams", settings, region=region)
        )
        return replay_event(failure, client=client)
    except (KeyError, TypeError, AttributeError) as exc:  # a batch description missing a field
        raise _Refused(f"{path} is not a whole on-failure record: {exc!r}") from exc
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        # no region or credentials; records trimmed past the stream's retention; no access
        raise _Refused(f"cannot read the stream: {exc}") from exc


def _region(arn: str) -> str | None:
    """The region of an ARN (``arn:aws:kinesis:<region>:...``); None for no ARN."""
    parts = arn.split(":")
    return parts[3] if len(parts) > _REGION_AT and parts[3] else None


_REGION_AT = 3
"""The place of the region among an ARN's ``:``-separated parts."""


if __name__ == "__main__":
    sys.exit(main())
