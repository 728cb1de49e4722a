"""An operator records a line's refund due as paid out: the books, the statement, corrections.

The credit balance falls by what was sent, on the statement of the cycle it is recorded
in ("Refund sent"); the refund is final, so a correction that would shrink or cancel it
is refused with nothing changed, and one that leaves it as it was keeps it PAID.
"""

import datetime as dt

import attrs
import pytest
from deployment import LINES_OPENED, Deployment
from fakes import Crash, CrashingUnitOfWork, settlement, statement_adds_up

from loc_adapters.iterable import contract
from loc_core.creditline import CreditLine, CreditLineProduct, LineStatus
from loc_core.creditline.statement import CreditKind
from loc_core.disclosures import statement_disclosure
from loc_core.errors import IdempotencyConflict, InvalidRequest, RefundAlreadyPaid, RefundNotDue
from loc_core.events import EventType
from loc_core.ledger import FUNDING, refund_due
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import Severity
from loc_core.refunds import RefundStatus
from loc_core.services.commands import (
    BookBackdatedDraw,
    BookBackdatedLinePayment,
    ListLineStatements,
    ReconcileLine,
    RecordRefundPaid,
    SettlementHandling,
)


@pytest.fixture
def world() -> Deployment:
    return Deployment.build(now=LINES_OPENED, seed=11)


@pytest.fixture
def paid_off(world: Deployment) -> tuple[CreditLine, str, int]:
    """$400.00 drawn 03-12, paid off 03-14 by a $500.00 check keyed on 03-16: a refund due."""
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    world.at(dt.date(2026, 3, 16))
    receipt = world.bus.handle(
        BookBackdatedLinePayment(
            line.user_id, line.line_id, 50_000, dt.date(2026, 3, 14), "mailed check", "check-1"
        )
    )
    stored = world.line(line)
    assert stored.total_balance == 0
    return line, receipt.payment_id, stored.refunds_due


def paid(
    line: CreditLine, payment_id: str, amount: int, reference: str = "ach-77"
) -> RecordRefundPaid:
    return RecordRefundPaid(
        line.user_id, payment_id, dt.date(2026, 3, 19), reference, "sent", amount
    )


def reconciled(world: Deployment, line: CreditLine) -> None:
    result = world.bus.handle(ReconcileLine(line.user_id, line.line_id))
    assert result.matches, result.mismatches


def test_a_refund_paid_on_a_paid_off_line_leaves_the_books_and_the_statement_clean(
    world: Deployment, paid_off: tuple[CreditLine, str, int]
) -> None:
    line, payment_id, owed_back = paid_off
    assert owed_back > 0
    world.at(dt.date(2026, 3, 20))
    funded = world.ledger(line.line_id).balance(FUNDING)

    answer = world.bus.handle(paid(line, payment_id, owed_back))

    assert (answer.owner_id, answer.amount, answer.booked_on) == (
        line.line_id,
        owed_back,
        dt.date(2026, 3, 20),
    )
    stored = world.line(line)
    refund = stored.payments[payment_id].refund
    assert refund is not None
    assert (refund.status, refund.paid_reference) == (RefundStatus.PAID, "ach-77")
    assert stored.refunds_due == 0
    ledger = world.ledger(line.line_id)
    assert ledger.balance(refund_due(line.line_id)) == 0
    assert ledger.balance(FUNDING) == funded - owed_back
    reconciled(world, line)
    assert world.sent().count("refund_paid") == 1
    assert world.bus.handle(paid(line, payment_id, owed_back)) == answer  # the same again: nothing
    assert world.line(line) == stored
    with pytest.raises(IdempotencyConflict):
        world.bus.handle(paid(line, payment_id, owed_back, reference="ach-78"))
    assert world.sent().count("refund_paid") == 1

    # The statement shows the refund owed and then sent: the credit balance back to 0.
    world.at(dt.date(2026, 4, 5), 8)
    world.bill()
    (statement,) = world.bus.handle(ListLineStatements(line.user_id, line.line_id))
    assert [(m.kind, m.amount) for m in statement.credit_activity] == [
        (CreditKind.REFUND_DUE, owed_back),
        (CreditKind.REFUND_PAID, -owed_back),
    ]
    assert (statement.opening_credit, statement.closing_credit) == (0, 0)
    figures = statement_disclosure(
        statement, credit_limit=line.credit_limit, product=CreditLineProduct()
    )
    assert statement_adds_up(figures)
    assert figures.credit_balance == 0
    (sent,) = (row for row in figures.transactions if row.description == "Refund sent")
    assert (sent.amount, sent.on) == (owed_back, dt.date(2026, 3, 20))


def test_a_closed_lines_refund_is_paid_and_a_payment_without_one_is_refused(
    world: Deployment, paid_off: tuple[CreditLine, str, int]
) -> None:
    line, payment_id, owed_back = paid_off
    world.at(dt.date(2026, 4, 6))
    world.bill()
    # The credit balance paid the cycle's last interest at the close: nothing is owed.
    statement = world.line(line).last_statement
    assert statement is not None
    interest = statement.interest_charged
    assert interest > 0
    assert (world.line(line).total_balance, world.line(line).refunds_due) == (
        0,
        owed_back - interest,
    )
    world.close(line)
    assert world.line(line).status is LineStatus.CLOSED
    world.at(dt.date(2026, 5, 20))  # cycles closed since: billed first, as for any command
    late = RecordRefundPaid(
        line.user_id, payment_id, dt.date(2026, 5, 19), "chk-9", "closed", owed_back
    )
    with pytest.raises(InvalidRequest, match="applied to the line"):
        world.bus.handle(late)  # the whole refund was not sent: part of it paid the interest
    late = attrs.evolve(late, amount=owed_back - interest)
    assert world.bus.handle(late).amount == owed_back - interest
    assert world.line(line).refunds_due == 0
    reconciled(world, line)

    other = world.open_line("user-2")
    world.draw(other, 10_000)
    receipt = world.pay_line(other, 5_000)
    before = world.line(other)
    with pytest.raises(RefundNotDue, match="keeps no refund"):
        world.bus.handle(paid(other, receipt.payment_id, 1))
    assert world.line(other) == before


def test_a_return_of_the_payment_after_its_refund_was_paid_is_left_to_operations(
    world: Deployment, paid_off: tuple[CreditLine, str, int]
) -> None:
    line, payment_id, owed_back = paid_off
    world.at(dt.date(2026, 3, 20))
    world.bus.handle(paid(line, payment_id, owed_back))
    before = (world.line(line), len(world.ledger(line.line_id)), world.sent())

    at = dt.datetime(2026, 3, 23, 12, tzinfo=dt.UTC)
    returned = settlement(payment_id, SettlementOutcome.RETURNED, at, Rail.ACH)
    assert world.settle(returned) is SettlementHandling.MANUAL

    assert (world.line(line), len(world.ledger(line.line_id)), world.sent()) == before
    (critical,) = world.alerts(Severity.CRITICAL)
    assert critical.title == "refund already paid out: handle by hand"
    assert (critical.details["payment_id"], critical.details["refund_paid"]) == (
        payment_id,
        owed_back,
    )
    assert critical.details["line_id"] == line.line_id
    reconciled(world, line)


def test_a_backdated_draw_that_would_shrink_a_paid_refund_is_refused_and_changes_nothing(
    world: Deployment, paid_off: tuple[CreditLine, str, int]
) -> None:
    line, payment_id, owed_back = paid_off
    world.at(dt.date(2026, 3, 20))
    world.bus.handle(paid(line, payment_id, owed_back))
    before = (world.line(line), len(world.ledger(line.line_id)), world.sent())
    earlier = BookBackdatedDraw(
        line.user_id, line.line_id, 5_000, dt.date(2026, 3, 13), "sent by hand", "d-1"
    )
    with pytest.raises(RefundAlreadyPaid) as refused:
        world.bus.handle(earlier)
    assert (refused.value.paid, refused.value.entity_id) == (owed_back, payment_id)
    assert 0 < refused.value.corrected < owed_back
    assert (world.line(line), len(world.ledger(line.line_id)), world.sent()) == before


def test_a_backdated_draw_after_the_payment_leaves_the_paid_refund_paid(
    world: Deployment, paid_off: tuple[CreditLine, str, int]
) -> None:
    line, payment_id, owed_back = paid_off
    world.at(dt.date(2026, 3, 20))
    world.bus.handle(paid(line, payment_id, owed_back))
    later = BookBackdatedDraw(
        line.user_id, line.line_id, 5_000, dt.date(2026, 3, 17), "sent by hand", "d-2"
    )
    world.bus.handle(later)
    stored = world.line(line)
    refund = stored.payments[payment_id].refund
    assert refund is not None
    assert (refund.status, refund.amount, refund.paid_reference) == (
        RefundStatus.PAID,
        owed_back,
        "ach-77",
    )
    assert stored.principal_balance == 5_000
    assert stored.refunds_due == 0
    reconciled(world, line)


def test_a_process_dying_before_the_commit_records_nothing_and_the_repeat_records_once(
    world: Deployment, paid_off: tuple[CreditLine, str, int]
) -> None:
    line, payment_id, owed_back = paid_off
    world.at(dt.date(2026, 3, 20))
    before = (world.line(line), len(world.ledger(line.line_id)))
    with pytest.raises(Crash):
        world.crashing_uow(CrashingUnitOfWork).handle(paid(line, payment_id, owed_back))
    assert (world.line(line), len(world.ledger(line.line_id))) == before
    world.bus.handle(paid(line, payment_id, owed_back))
    world.bus.handle(paid(line, payment_id, owed_back))
    entries = [e.entry_id for e in world.ledger(line.line_id)]
    assert entries.count(f"{payment_id}:refund_paid") == 1
    (told,) = (e for e in world.notifier.sent if e.type is EventType.REFUND_PAID)
    assert set(told.data) == contract.DATA_FIELDS[EventType.REFUND_PAID]
    assert (told.data["line_id"], told.data["loan_id"]) == (line.line_id, None)
    reconciled(world, line)
