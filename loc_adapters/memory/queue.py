"""A work queue in memory with SQS's at-least-once semantics."""

from __future__ import annotations

import collections
import datetime as dt
import threading
from collections.abc import Sequence

import attrs

from loc_core.ports import Clock, QueueMessage, ReceivedMessage


@attrs.define
class _Slot:
    message: QueueMessage
    visible_at: dt.datetime
    receive_count: int = 0
    receipt: str = ""


@attrs.define
class InMemoryQueue:
    """A `WorkQueue`: FIFO order, visibility timeouts by the injected clock, redelivery."""

    clock: Clock
    _slots: collections.OrderedDict[int, _Slot] = attrs.field(
        factory=collections.OrderedDict, init=False
    )
    _next: int = attrs.field(default=0, init=False)
    _guard: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False, eq=False)
    """Makes each call atomic (as the service it stands for does), so threads may share it."""

    def send(self, messages: Sequence[QueueMessage]) -> None:
        """Append the messages, visible at once."""
        with self._guard:
            now = self.clock.now()
            for message in messages:
                self._slots[self._next] = _Slot(message, now)
                self._next += 1

    def receive(self, *, max_messages: int, visibility: dt.timedelta) -> list[ReceivedMessage]:
        """Hand out up to `max_messages` visible messages, hiding them for `visibility`."""
        with self._guard:
            now = self.clock.now()
            handed: list[ReceivedMessage] = []
            for number, slot in self._slots.items():
                if len(handed) >= max_messages:
                    break
                if slot.visible_at > now:
                    continue
                slot.receive_count += 1
                slot.visible_at = now + visibility
                slot.receipt = f"{number}:{slot.receive_count}"
                handed.append(ReceivedMessage(slot.message, slot.receipt, slot.receive_count))
            return handed

    def ack(self, received: ReceivedMessage) -> None:
        """Delete the message if this receipt is still its latest delivery."""
        with self._guard:
            number = int(received.receipt.split(":", 1)[0])
            slot = self._slots.get(number)
            if slot is not None and slot.receipt == received.receipt:
                del self._slots[number]

    def __len__(self) -> int:
        """Messages not yet acked, visible or in flight."""
        return len(self._slots)
