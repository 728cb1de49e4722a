"""The work queue on Amazon SQS: at-least-once delivery between jobs and workers."""

from loc_adapters.sqs._queue import SqsWorkQueue, decode, encode

__all__ = ["SqsWorkQueue", "decode", "encode"]
