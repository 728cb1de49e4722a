"""The crash matrix, unchanged, on the DynamoDB unit of work over the moto server.

The table of cases is imported as it is (tests/unit/services/test_crash_matrix.py); only
the `storage` fixture differs: each case's deployment stores in a fresh DynamoDB table
over HTTP (this folder's conftest), on the deployment's clock, with its leases in the same
table (a booking's commit checks its lease's fencing token there).
"""

from unit.services.test_crash_matrix import (
    test_a_crash_at_every_point_is_recovered_exactly_once,
    test_the_happy_path_sends_what_the_matrix_expects,
    test_the_retry_alone_finishes_the_movement,
)

__all__ = [
    "test_a_crash_at_every_point_is_recovered_exactly_once",
    "test_the_happy_path_sends_what_the_matrix_expects",
    "test_the_retry_alone_finishes_the_movement",
]
