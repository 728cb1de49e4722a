"""Contention on SQS: a message that lost a race comes back in seconds, not half an hour.

A queue message whose command met another process (its lease held: `LockNotAcquired`;
its commit beaten: `ConcurrencyConflict`, once the bus's own retries are spent) failed
for a reason that lasts milliseconds. Reported failed, SQS would deliver it again only
after the queue's visibility timeout (``QUEUE_VISIBILITY_TIMEOUT``, 30 minutes). So
`delay_redelivery` hides it for `contention_backoff` instead, through the registered
`MessageVisibility`, and the record is still reported failed: redelivered, never lost.

The rule (``docs/lambdas.md``): each failed receive burns one of the queue's
``maxReceiveCount`` (``MAX_RECEIVES``, 5), so the waits grow threefold from 5 seconds
(5, 15, 45, 135 s, plus up to half again of jitter; at most 5 minutes) and the waits
before the last receive add up to at least `contention_window` = 200 s, longer than
any lease a command holds (`LONGEST_LEASE`, a loan payment's 2 minutes): a healthy
message reaches the dead-letter queue on contention only if its lock stayed taken
through every retry, longer than a crashed holder could keep it.

The jitter comes from the message id and the receive count (a hash, no random state),
so the messages of one contended loan spread out and a retried test waits as long.
If the change itself fails (SQS down, an expired receipt handle, no adapter), a warning
says so and the message waits the queue's visibility timeout, as before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from loc_core.services.messagebus import MessageBus

__all__ = [
    "CONTENTION_CAP",
    "CONTENTION_FIRST",
    "CONTENTION_GROWTH",
    "LONGEST_LEASE",
    "MAX_RECEIVES",
    "QUEUE_VISIBILITY_TIMEOUT",
    "contention_backoff",
    "contention_window",
    "delay_redelivery",
    "is_contention",
]

_log = structlog.get_logger(__name__)

CONTENTION_FIRST = dt.timedelta(seconds=5)
"""The wait after a message's first contended receive (before jitter)."""
CONTENTION_GROWTH = 3
"""Each further contended receive waits this many times longer."""
CONTENTION_CAP = dt.timedelta(minutes=5)
"""The longest wait, jitter included: well under the queue's visibility timeout."""
QUEUE_VISIBILITY_TIMEOUT = dt.timedelta(seconds=1800)
"""``template.yaml``'s collections queue: what any other failure waits."""
MAX_RECEIVES = 5
"""``template.yaml``'s ``maxReceiveCount``: the receive after the fifth failure is the DLQ."""
LONGEST_LEASE = dt.timedelta(minutes=2)
"""The longest lease a queue message's command waits on (``PAYMENT_LEASE``)."""
_JITTER = 0.5
"""Jitter adds up to this fraction of the wait, never takes any away."""


def contention_backoff(message_id: str, receive_count: int) -> dt.timedelta:
    """How long a message contended on its `receive_count`-th receive waits (whole seconds)."""
    attempt = max(1, receive_count)
    base = CONTENTION_FIRST.total_seconds() * CONTENTION_GROWTH ** min(attempt - 1, 16)
    digest = hashlib.sha256(f"{message_id}:{attempt}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64 * _JITTER
    seconds = min(int(base * (1 + fraction)), int(CONTENTION_CAP.total_seconds()))
    return dt.timedelta(seconds=seconds)


def contention_window() -> dt.timedelta:
    """The least a message contended on every receive waits before its last one."""
    least = (
        min(CONTENTION_FIRST * CONTENTION_GROWTH ** (n - 1), CONTENTION_CAP)
        for n in range(1, MAX_RECEIVES)
    )
    return sum(least, dt.timedelta())  # jitter only adds


def is_contention(exc: BaseException) -> bool:
    """A failure another process caused that goes away in moments: a lease or a race lost."""
    from loc_core.errors import ConcurrencyConflict, LockNotAcquired  # noqa: PLC0415 - cold starts stay cheap

    return isinstance(exc, LockNotAcquired | ConcurrencyConflict)


def delay_redelivery(bus: MessageBus, record: Mapping[str, Any], names: Mapping[str, str]) -> None:
    """Have SQS deliver a contended `record` again after its backoff; never raises.

    `names` is what names the record in log lines. A failure to change the visibility is
    a warning: the message is still failed, so it comes back at the queue's timeout.
    """
    attributes = record.get("attributes") or {}
    try:
        receive_count = int(str(attributes.get("ApproximateReceiveCount", "1")))
    except ValueError:
        receive_count = 1
    wait = contention_backoff(str(record.get("messageId", "")), receive_count)
    try:
        from loc_core.ports import MessageVisibility  # noqa: PLC0415 - cold starts stay cheap

        visibility: MessageVisibility = bus.get(MessageVisibility)
        visibility.change_visibility(
            str(record.get("eventSourceARN", "")), str(record.get("receiptHandle", "")), wait
        )
    except Exception as exc:  # noqa: BLE001 - the record fails anyway; only its wait is longer
        _log.warning(
            "redelivery not brought forward: the message waits the visibility timeout",
            error=type(exc).__name__,
            reason=str(exc),
            visibility_timeout_s=int(QUEUE_VISIBILITY_TIMEOUT.total_seconds()),
            **names,
        )
        return
    _log.info(
        "redelivery brought forward after contention",
        receive_count=receive_count,
        redelivery_in_s=int(wait.total_seconds()),
        **names,
    )
