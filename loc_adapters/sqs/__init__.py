"""The work queue on Amazon SQS: at-least-once delivery between jobs and workers."""

from loc_adapters.sqs._queue import SqsWorkQueue, decode, encode
from loc_adapters.sqs._visibility import SqsVisibility, queue_url

__all__ = ["SqsVisibility", "SqsWorkQueue", "decode", "encode", "queue_url"]
