"""The event outbox cases, unchanged, on the DynamoDB unit of work over the moto server.

The cases are imported as they are (tests/unit/services/test_event_outbox.py); only the
`storage` fixture differs (this folder's conftest): the deployment commits to a fresh table,
whose kept-event items the recovery job reads back.
"""

from unit.services.test_event_outbox import (
    died_notifying,
    returned,
    test_a_return_whose_process_died_notifying_is_told_by_the_recovery_job,
    test_an_event_whose_handler_fails_again_is_alerted_and_kept_for_the_next_run,
    test_published_events_leave_nothing_kept,
    test_the_recovery_job_leaves_events_a_live_process_may_still_publish,
    world,
)

__all__ = [
    "died_notifying",
    "returned",
    "test_a_return_whose_process_died_notifying_is_told_by_the_recovery_job",
    "test_an_event_whose_handler_fails_again_is_alerted_and_kept_for_the_next_run",
    "test_published_events_leave_nothing_kept",
    "test_the_recovery_job_leaves_events_a_live_process_may_still_publish",
    "world",
]
