"""The crash matrix on the DynamoDB unit of work over the moto server.

The cases are those of tests/unit/services/test_crash_matrix.py; only the `storage`
fixture differs: each case's deployment stores in a fresh DynamoDB table over HTTP (this
folder's conftest), on the deployment's clock, with its leases in the same table (a
booking's commit checks its lease's fencing token there).

Every money-moving command dies at every point here too, each (command, point) once, with
the two ways of finishing the work taken in turn (a retry then the job, or the job alone),
so both run on this store for every command and every point is finished on it. The
in-memory suite runs every case with both, and the retry alone. A case costs about a
second over HTTP: the whole matrix twice over took a minute and a half of the suite's ten.
"""

import pytest
from _pytest.mark.structures import ParameterSet
from unit.services.test_crash_matrix import (
    CASES,
    FailurePoint,
    Recovery,
    Storage,
    test_the_happy_path_sends_what_the_matrix_expects,
)
from unit.services.test_crash_matrix import (
    test_a_crash_at_every_point_is_recovered_exactly_once as recovered_exactly_once,
)

__all__ = ["test_the_happy_path_sends_what_the_matrix_expects"]


def _one_per_pair() -> list[ParameterSet]:
    """One case of each (command, point): a retry for every other pair, the job alone for
    the others."""
    pairs = list(dict.fromkeys(tuple(case.values[:2]) for case in CASES))
    chosen = []
    for n, pair in enumerate(pairs):
        options = [case for case in CASES if tuple(case.values[:2]) == pair]
        chosen.append(options[n % len(options)])
    return chosen


@pytest.mark.parametrize(("name", "point", "recovery"), _one_per_pair())
def test_a_crash_at_every_point_is_recovered_exactly_once_on_dynamodb(
    name: str, point: FailurePoint, recovery: Recovery, storage: Storage
) -> None:
    recovered_exactly_once(name, point, recovery, storage)
