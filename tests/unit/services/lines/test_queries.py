import datetime as dt

import pytest
from unit.services.lines.world import World

from loc_core.creditline import CreditLine
from loc_core.errors import NotFound
from loc_core.ports import Severity
from loc_core.services.lines import (
    GetLineStatement,
    ListLineStatements,
    ReconcileLine,
    get_line_statement,
    list_line_statements,
    reconcile_line,
)


@pytest.fixture
def two_statements(world: World) -> CreditLine:
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    world.run_days(dt.date(2026, 4, 5), dt.date(2026, 5, 5))
    return line


def test_a_line_lists_its_statements_oldest_first(world: World, two_statements: CreditLine) -> None:
    line = two_statements
    found = list_line_statements(
        ListLineStatements(line.user_id, line.line_id), uow=world.new_uow()
    )
    assert [s.statement_date for s in found] == [dt.date(2026, 4, 5), dt.date(2026, 5, 5)]
    one = get_line_statement(
        GetLineStatement(line.user_id, line.line_id, dt.date(2026, 5, 5)), uow=world.new_uow()
    )
    assert one == found[1]
    assert one.opening == found[0].closing


def test_statements_of_another_users_line_or_date_are_not_found(
    world: World, two_statements: CreditLine
) -> None:
    line = two_statements
    with pytest.raises(NotFound):
        list_line_statements(ListLineStatements("user-2", line.line_id), uow=world.new_uow())
    with pytest.raises(NotFound, match="no statement of 2026-04-06"):
        get_line_statement(
            GetLineStatement(line.user_id, line.line_id, dt.date(2026, 4, 6)), uow=world.new_uow()
        )


def test_a_line_that_agrees_with_its_ledger_reconciles_quietly(
    world: World, two_statements: CreditLine
) -> None:
    line = two_statements
    result = reconcile_line(
        ReconcileLine(line.user_id, line.line_id), uow=world.new_uow(), alerter=world.alerter
    )
    assert result.matches
    assert world.alerter.posted == []


def test_a_mismatch_is_alerted_and_nothing_is_changed(
    world: World, two_statements: CreditLine
) -> None:
    line = two_statements
    with world.new_uow() as uow:
        stored = uow.lines.get(line.user_id, line.line_id)
        stored.interest_balance += 7  # changed outside any command: no journal entry
        uow.lines.save(stored)
        uow.commit(actor="someone", request_id="manual-edit")
    before = world.line(line)
    for _ in range(2):
        result = reconcile_line(
            ReconcileLine(line.user_id, line.line_id), uow=world.new_uow(), alerter=world.alerter
        )
        assert not result.matches
    books = world.ledger(line)
    assert dict(result.mismatches) == {
        "interest": (before.interest_balance, before.interest_balance - 7)
    }
    assert world.line(line) == before
    assert len(world.ledger(line)) == len(books)
    alert = world.alerts(Severity.CRITICAL)[0]
    assert alert.title == f"line {line.line_id} does not reconcile with its ledger"
    assert alert.details["interest_line"] == before.interest_balance
