"""A line read by `for_user` (one query that meets its statements too) saved in the same commit.

The statements are not the line's: a save deletes the children the aggregate no longer
holds, so a line remembered with its statements as read would delete every statement of
the borrower's when saved.
"""

import pytest
from deployment import LINES_OPENED, Deployment
from integration.support import kept_in
from unit.services.lines.conftest import billed, drawn

from loc_adapters.dynamodb import DynamoTable
from loc_core.creditline import CreditLine
from loc_core.ports import UnitOfWork

__all__ = ["billed", "drawn"]


@pytest.fixture
def world(table: DynamoTable) -> Deployment:
    return kept_in(table, Deployment.build(now=LINES_OPENED, seed=11))


def test_a_line_read_with_its_users_lines_and_saved_keeps_its_statements(
    world: Deployment, billed: CreditLine
) -> None:
    line = billed
    with world.bus.get(UnitOfWork) as uow:
        before = uow.statements.for_line(line.user_id, line.line_id)
    assert before  # billed: a statement stored under the line

    with world.bus.get(UnitOfWork) as uow:
        (read,) = uow.lines.for_user(line.user_id)
        read.autopay_enabled = not read.autopay_enabled
        uow.lines.save(read)
        uow.commit(actor="test", request_id="save-after-for-user")

    with world.bus.get(UnitOfWork) as uow:
        assert uow.statements.for_line(line.user_id, line.line_id) == before
        assert uow.lines.get(line.user_id, line.line_id).autopay_enabled is not line.autopay_enabled
