"""The contention backoff's schedule against the queue the template deploys.

A message failed on contention is hidden for a few seconds, then longer on each receive;
never near the queue's visibility timeout; and a message contended on every receive
reaches the dead-letter queue only after longer than any lease can be held.
"""

from __future__ import annotations

import datetime as dt
import pathlib
from typing import Any

from cfnlint.decode.cfn_yaml import load

from loc_core.services.lines._unit import LEASE_TTL
from loc_core.services.loans.applications import APPLICATION_LEASE
from loc_core.services.loans.payments import PAYMENT_LEASE
from loc_entrypoints.lambdas._backoff import (
    CONTENTION_CAP,
    LONGEST_LEASE,
    MAX_RECEIVES,
    QUEUE_VISIBILITY_TIMEOUT,
    contention_backoff,
    contention_window,
)

TEMPLATE = pathlib.Path(__file__).parents[3] / "template.yaml"


def collections_queue() -> dict[str, Any]:
    template = load(str(TEMPLATE))  # cfn-lint's loader knows the short-form tags
    properties: dict[str, Any] = template["Resources"]["CollectionsQueue"]["Properties"]
    return properties


def test_the_schedule_is_the_one_the_template_deploys() -> None:
    queue = collections_queue()
    assert int(queue["RedrivePolicy"]["maxReceiveCount"]) == MAX_RECEIVES
    assert int(queue["VisibilityTimeout"]) == QUEUE_VISIBILITY_TIMEOUT.total_seconds()


def test_the_first_retry_is_seconds_away_and_each_waits_longer_up_to_the_cap() -> None:
    for message_id in (f"m-{n}" for n in range(50)):
        waits = [contention_backoff(message_id, n) for n in range(1, 12)]
        assert dt.timedelta(seconds=5) <= waits[0] <= dt.timedelta(seconds=8)
        assert waits[: MAX_RECEIVES - 1] == sorted(waits[: MAX_RECEIVES - 1])
        assert max(waits) <= CONTENTION_CAP <= QUEUE_VISIBILITY_TIMEOUT / 6
    # the same message waits the same on a retried invocation; others spread out
    assert contention_backoff("m-1", 2) == contention_backoff("m-1", 2)
    assert len({contention_backoff(f"m-{n}", 2) for n in range(50)}) > 3


def test_a_message_reaches_the_dead_letter_queue_on_contention_only_after_every_lease_expired() -> (
    None
):
    assert max(PAYMENT_LEASE, LEASE_TTL, APPLICATION_LEASE) == LONGEST_LEASE
    for message_id in (f"m-{n}" for n in range(50)):
        before_last = sum(
            (contention_backoff(message_id, n) for n in range(1, MAX_RECEIVES)), dt.timedelta()
        )
        assert before_last >= contention_window() >= LONGEST_LEASE + dt.timedelta(seconds=60)
