import datetime as dt

import pytest
from deployment import Deployment

from loc_core.creditline import CreditLine
from loc_core.errors import NotFound
from loc_core.ports import Severity
from loc_core.services.commands import GetLineStatement, ListLineStatements, ReconcileLine


@pytest.fixture
def two_statements(world: Deployment, drawn: CreditLine) -> CreditLine:
    world.run_days(dt.date(2026, 4, 5), dt.date(2026, 5, 5))
    return drawn


def test_a_line_lists_its_statements_oldest_first(
    world: Deployment, two_statements: CreditLine
) -> None:
    line = two_statements
    found = world.bus.handle(ListLineStatements(line.user_id, line.line_id))
    assert [s.statement_date for s in found] == [dt.date(2026, 4, 5), dt.date(2026, 5, 5)]
    one = world.bus.handle(GetLineStatement(line.user_id, line.line_id, dt.date(2026, 5, 5)))
    assert one == found[1]
    assert one.opening == found[0].closing


def test_statements_of_another_users_line_or_date_are_not_found(
    world: Deployment, two_statements: CreditLine
) -> None:
    line = two_statements
    with pytest.raises(NotFound):
        world.bus.handle(ListLineStatements("user-2", line.line_id))
    with pytest.raises(NotFound, match="no statement of 2026-04-06"):
        world.bus.handle(GetLineStatement(line.user_id, line.line_id, dt.date(2026, 4, 6)))


def test_a_line_that_agrees_with_its_ledger_reconciles_quietly(
    world: Deployment, two_statements: CreditLine
) -> None:
    line = two_statements
    assert world.bus.handle(ReconcileLine(line.user_id, line.line_id)).matches
    assert world.alerts() == []


def test_a_mismatch_is_alerted_and_nothing_is_changed(
    world: Deployment, two_statements: CreditLine
) -> None:
    line = two_statements

    def edit(stored: CreditLine) -> None:
        stored.interest_balance += 7  # changed outside any command: no journal entry

    world.edit_line(line, edit)
    before = world.line(line)
    for _ in range(2):
        result = world.bus.handle(ReconcileLine(line.user_id, line.line_id))
        assert not result.matches
    books = world.ledger(line.line_id)
    assert dict(result.mismatches) == {
        "interest": (before.interest_balance, before.interest_balance - 7)
    }
    assert world.line(line) == before
    assert len(world.ledger(line.line_id)) == len(books)
    alert = world.alerts(Severity.CRITICAL)[0]
    assert alert.title == f"line {line.line_id} does not reconcile with its ledger"
    assert alert.details["interest_line"] == before.interest_balance
