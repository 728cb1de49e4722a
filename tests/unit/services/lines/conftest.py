"""Fixtures for the credit-line service tests: one in-memory deployment on the lines' day.

`world` is the deployment the tests drive through its bus; another store's suite (the
DynamoDB lifecycle test) overrides it with a deployment over that store.
"""

import pytest
from deployment import LINES_OPENED, Deployment


@pytest.fixture
def world() -> Deployment:
    """A deployment at 2026-03-05 14:00, rails seeded 11: lines opened now bill on the 5th."""
    return Deployment.build(now=LINES_OPENED, seed=11)
