"""The event outbox cases, unchanged, on the DynamoDB unit of work over the moto server.

The cases are imported as they are (tests/unit/services/test_event_outbox.py); only the
`storage` fixture differs (this folder's conftest): the deployment commits to a fresh table,
whose kept-event items the recovery job reads back.
"""

import pytest
from deployment import Deployment
from unit.services.test_event_outbox import (
    NEWER_TYPE,
    KeepUnknown,
    died_notifying,
    newer_release_event,
    returned,
    test_a_kept_event_of_a_type_this_release_does_not_know_holds_back_no_other,
    test_a_return_whose_process_died_notifying_is_told_by_the_recovery_job,
    test_an_event_whose_handler_fails_again_is_alerted_and_kept_for_the_next_run,
    test_published_events_leave_nothing_kept,
    test_the_recovery_job_leaves_events_a_live_process_may_still_publish,
    world,
)

from loc_adapters.dynamodb import DynamoTable
from loc_adapters.dynamodb._outbox import encode_kept_event


@pytest.fixture
def keep_unknown(table: DynamoTable) -> KeepUnknown:
    """The item a newer release's commit puts in the table: its type is all that is new."""

    def keep(world: Deployment) -> str:
        event = newer_release_event(world)
        item = encode_kept_event(event, committed_at=world.clock.now(), shards=table.shards)
        table.put(
            {**item, "loc_event_type": NEWER_TYPE},
            condition="attribute_not_exists(#PK)",
            values={},
        )
        return event.event_id

    return keep


__all__ = [
    "died_notifying",
    "returned",
    "test_a_kept_event_of_a_type_this_release_does_not_know_holds_back_no_other",
    "test_a_return_whose_process_died_notifying_is_told_by_the_recovery_job",
    "test_an_event_whose_handler_fails_again_is_alerted_and_kept_for_the_next_run",
    "test_published_events_leave_nothing_kept",
    "test_the_recovery_job_leaves_events_a_live_process_may_still_publish",
    "world",
]
