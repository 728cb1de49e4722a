"""The `WorkQueue` contract."""

import datetime as dt
from collections.abc import Callable

from loc_core.ports import QueueMessage, WorkQueue

VISIBILITY = dt.timedelta(seconds=1)


def message(number: int) -> QueueMessage:
    return QueueMessage(
        kind="collect_installment",
        body={"installment_id": f"inst-{number}", "amount": 100 * number},
        deduplication_id=f"inst-{number}:2026-01-05",
    )


class QueueContract:
    def test_messages_come_out_whole_and_in_order(self, queue: WorkQueue) -> None:
        queue.send([message(n) for n in range(1, 13)])
        received = []
        while batch := queue.receive(max_messages=10, visibility=VISIBILITY):
            received += batch
        assert [r.message for r in received] == [message(n) for n in range(1, 13)]
        assert all(r.receive_count == 1 for r in received)

    def test_receive_hands_out_at_most_the_number_asked(self, queue: WorkQueue) -> None:
        queue.send([message(n) for n in range(1, 4)])
        assert len(queue.receive(max_messages=2, visibility=VISIBILITY)) == 2

    def test_a_message_not_acked_is_delivered_again(
        self, queue: WorkQueue, advance: Callable[[dt.timedelta], None]
    ) -> None:
        queue.send([message(1)])
        first = queue.receive(max_messages=10, visibility=VISIBILITY)
        assert queue.receive(max_messages=10, visibility=VISIBILITY) == []
        advance(VISIBILITY * 2)
        again = queue.receive(max_messages=10, visibility=VISIBILITY)
        assert [r.message for r in again] == [r.message for r in first]
        assert again[0].receive_count == 2

    def test_an_acked_message_is_gone_and_acking_twice_is_harmless(
        self, queue: WorkQueue, advance: Callable[[dt.timedelta], None]
    ) -> None:
        queue.send([message(1)])
        (received,) = queue.receive(max_messages=10, visibility=VISIBILITY)
        queue.ack(received)
        queue.ack(received)
        advance(VISIBILITY * 2)
        assert queue.receive(max_messages=10, visibility=VISIBILITY) == []
