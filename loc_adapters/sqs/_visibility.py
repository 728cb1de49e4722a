"""`ChangeMessageVisibility` on the queue a Lambda record came from.

An SQS-triggered Lambda function knows a message by its queue's ARN (the record's
``eventSourceARN``) and its receipt handle. `SqsVisibility` turns the ARN into the
queue's URL and hides the message for as long as asked, so a message that failed for a
reason gone in seconds is delivered again in seconds, not at the queue's visibility
timeout. The boto3 client is built on first use: a function that never needs it pays
nothing for it at a cold start.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from loc_adapters.sqs._queue import _translated
from loc_core.errors import ExternalServiceError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

__all__ = ["MAX_VISIBILITY", "SqsVisibility", "queue_url"]

MAX_VISIBILITY = dt.timedelta(hours=12)
"""The longest visibility SQS accepts."""
_DNS_SUFFIXES = {
    "aws": "amazonaws.com",
    "aws-cn": "amazonaws.com.cn",
    "aws-us-gov": "amazonaws.com",
}
_ARN_PARTS = 6


def queue_url(queue_arn: str, *, endpoint_url: str | None = None) -> str:
    """The URL of the queue `queue_arn` names (``arn:aws:sqs:<region>:<account>:<name>``).

    With `endpoint_url` (moto, a local SQS) the queue is under it, as those serve it.

    Raises:
        ExternalServiceError: for an ARN that is not an SQS queue's.
    """
    parts = queue_arn.split(":")
    if len(parts) != _ARN_PARTS or parts[0] != "arn" or parts[2] != "sqs" or not all(parts[3:]):
        raise ExternalServiceError(f"not an SQS queue ARN: {queue_arn[:200]!r}", key="queue_arn")
    _, partition, _, region, account, name = parts
    if endpoint_url:
        return f"{endpoint_url.rstrip('/')}/{account}/{name}"
    suffix = _DNS_SUFFIXES.get(partition, "amazonaws.com")
    return f"https://sqs.{region}.{suffix}/{account}/{name}"


class SqsVisibility:
    """Changes a received message's visibility on the queue named by its ARN."""

    def __init__(self, client: Callable[[], SQSClient], *, endpoint_url: str | None = None) -> None:
        """`client` builds the SQS client (once, on the first change)."""
        self._client = functools.cache(client)
        self._endpoint = endpoint_url or None

    def change_visibility(
        self, queue_arn: str, receipt_handle: str, visibility: dt.timedelta
    ) -> None:
        """Hide the message for `visibility` from now (whole seconds, rounded up).

        Raises:
            ExternalServiceError: the ARN is not a queue's, or SQS refused the call (an
                expired receipt handle, a missing permission) or could not be reached.
        """
        seconds = min(math.ceil(visibility.total_seconds()), int(MAX_VISIBILITY.total_seconds()))
        url = queue_url(queue_arn, endpoint_url=self._endpoint)
        with _translated("ChangeMessageVisibility"):
            self._client().change_message_visibility(
                QueueUrl=url, ReceiptHandle=receipt_handle, VisibilityTimeout=max(0, seconds)
            )
