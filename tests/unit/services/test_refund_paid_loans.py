"""An operator records a loan's refund due as paid out; nothing may change it after.

The lender sends the money outside `loc` (a check, a processor's credit). Recording it
settles the refund-due liability against funding, once, tells the borrower once, and
makes the refund final: a return or correction that would change it is left to
operations (CRITICAL, MANUAL) with nothing changed.
"""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import Crash, CrashingUnitOfWork, settlement
from unit.services.loans.test_returned_disbursement import disbursement

from loc_adapters.iterable import contract
from loc_core.errors import (
    IdempotencyConflict,
    InvalidRequest,
    NotFound,
    RefundNotDue,
)
from loc_core.events import EventType
from loc_core.installment import Loan, LoanStatus
from loc_core.ledger import CLEARING, FUNDING, refund_due
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import Severity
from loc_core.refunds import RefundStatus
from loc_core.services.commands import (
    BookBackdatedLoanPayment,
    RecordRefundPaid,
    SettlementHandling,
)
from loc_core.services.loans import backdated_payment_id

OVER = 2_500
"""What the overpayment took beyond what the loan owed: the refund due."""


@pytest.fixture
def world() -> Deployment:
    made = Deployment.build()
    made.users.add("user-1")
    made.sim.down = {Rail.PINLESS}  # payments go by ACH, which can be returned
    return made


@pytest.fixture
def closed(world: Deployment) -> tuple[Loan, str]:
    """A loan paid off on 01-08 by a check for `OVER` cents more than it owed."""
    loan = world.open_loan(autopay=False)
    world.at(dt.date(2026, 1, 8))
    world.bus.handle(
        BookBackdatedLoanPayment(
            loan.user_id,
            loan.loan_id,
            world.loan(loan.loan_id).outstanding_balance + OVER,
            dt.date(2026, 1, 8),
            "payoff check",
            "check-1",
        )
    )
    return loan, backdated_payment_id(loan.loan_id, "check-1")


def paid(
    loan: Loan, payment_id: str, reference: str = "chk-1001", amount: int = OVER
) -> RecordRefundPaid:
    return RecordRefundPaid(
        loan.user_id, payment_id, dt.date(2026, 1, 9), reference, "refund check mailed", amount
    )


def test_a_refund_paid_on_a_closed_loan_settles_the_liability_from_funding_once(
    world: Deployment, closed: tuple[Loan, str]
) -> None:
    loan, payment_id = closed
    world.at(dt.date(2026, 1, 12))
    funded = world.ledger(loan.loan_id).balance(FUNDING)

    answer = world.bus.handle(paid(loan, payment_id))

    assert (answer.amount, answer.reference, answer.paid_on, answer.booked_on) == (
        OVER,
        "chk-1001",
        dt.date(2026, 1, 9),
        dt.date(2026, 1, 12),
    )
    stored = world.sound_loan(loan.loan_id)
    assert stored.status is LoanStatus.CLOSED
    refund = stored.payments[payment_id].refund
    assert refund is not None
    assert (refund.status, refund.paid_on, refund.paid_reference) == (
        RefundStatus.PAID,
        dt.date(2026, 1, 9),
        "chk-1001",
    )
    assert stored.refunds_due == 0
    ledger = world.ledger(loan.loan_id)
    assert ledger.balance(refund_due(loan.loan_id)) == 0
    assert ledger.balance(FUNDING) == funded - OVER  # the money went out
    (entry,) = (e for e in ledger if e.entry_id == f"{payment_id}:refund_paid")
    assert entry.effective_date == dt.date(2026, 1, 12)  # the day it is recorded
    (told,) = (e for e in world.notifier.sent if e.type is EventType.REFUND_PAID)
    assert set(told.data) == contract.DATA_FIELDS[EventType.REFUND_PAID]
    assert (told.data["amount"], told.data["reference"], told.data["loan_id"]) == (
        OVER,
        "chk-1001",
        loan.loan_id,
    )
    assert world.audit("payment", payment_id)[-1].change.process == "SETTLEMENT"

    # The same record again answers the same and changes nothing; another reference is
    # a different payout, refused.
    assert world.bus.handle(paid(loan, payment_id)) == answer
    assert world.loan(loan.loan_id) == stored
    assert len(world.ledger(loan.loan_id)) == len(ledger)
    assert world.sent().count("refund_paid") == 1
    with pytest.raises(IdempotencyConflict):
        world.bus.handle(paid(loan, payment_id, reference="chk-2002"))
    assert world.loan(loan.loan_id) == stored


def test_a_payment_without_a_refund_or_a_day_out_of_range_is_refused_and_changes_nothing(
    world: Deployment, closed: tuple[Loan, str]
) -> None:
    loan, payment_id = closed
    world.at(dt.date(2026, 1, 12))
    before = (world.loan(loan.loan_id), len(world.ledger(loan.loan_id)), world.sent())
    early = RecordRefundPaid(loan.user_id, payment_id, dt.date(2026, 1, 7), "chk-1", "early", OVER)
    late = RecordRefundPaid(loan.user_id, payment_id, dt.date(2026, 1, 13), "chk-1", "late", OVER)
    for command in (early, late):
        with pytest.raises(InvalidRequest, match="paid out on"):
            world.bus.handle(command)
    with pytest.raises(InvalidRequest):
        RecordRefundPaid(loan.user_id, payment_id, dt.date(2026, 1, 9), "  ", "blank", OVER)
    assert (world.loan(loan.loan_id), len(world.ledger(loan.loan_id)), world.sent()) == before


def test_a_cancelled_refund_is_not_due_and_its_return_after_a_payout_is_left_to_operations(
    world: Deployment, closed: tuple[Loan, str]
) -> None:
    loan, payment_id = closed
    world.at(dt.date(2026, 1, 12))
    world.bus.handle(paid(loan, payment_id))
    before = (world.loan(loan.loan_id), len(world.ledger(loan.loan_id)), world.sent())

    at = dt.datetime(2026, 1, 13, 12, tzinfo=dt.UTC)
    returned = settlement(payment_id, SettlementOutcome.RETURNED, at, Rail.ACH)
    assert world.settle(returned) is SettlementHandling.MANUAL

    assert (world.loan(loan.loan_id), len(world.ledger(loan.loan_id)), world.sent()) == before
    (critical,) = world.alerts(Severity.CRITICAL)
    assert critical.title == "refund already paid out: handle by hand"
    assert (critical.details["payment_id"], critical.details["refund_paid"]) == (payment_id, OVER)
    assert critical.details["refund_corrected"] == 0
    world.sound_loan(loan.loan_id)


def test_a_refund_cancelled_by_its_return_cannot_be_paid(
    world: Deployment, closed: tuple[Loan, str]
) -> None:
    loan, payment_id = closed
    at = dt.datetime(2026, 1, 12, 12, tzinfo=dt.UTC)
    assert world.settle(settlement(payment_id, SettlementOutcome.RETURNED, at, Rail.ACH)) is (
        SettlementHandling.REVERSED
    )
    before = (world.loan(loan.loan_id), len(world.ledger(loan.loan_id)))
    with pytest.raises(RefundNotDue, match="cancelled"):
        world.bus.handle(paid(loan, payment_id))
    with pytest.raises(NotFound):  # a payment no loan of the borrower's holds
        world.bus.handle(paid(loan, "pay-unknown"))
    other = RecordRefundPaid("user-2", payment_id, dt.date(2026, 1, 9), "chk-1", "not theirs", OVER)
    with pytest.raises(NotFound):
        world.bus.handle(other)
    assert (world.loan(loan.loan_id), len(world.ledger(loan.loan_id))) == before


def test_a_correction_that_leaves_the_paid_refund_as_it_was_keeps_it_paid(
    world: Deployment, closed: tuple[Loan, str]
) -> None:
    loan, payment_id = closed
    world.at(dt.date(2026, 1, 12))
    world.bus.handle(paid(loan, payment_id))
    # A second check arrives for the closed loan: all of it is a refund due of its own.
    world.bus.handle(
        BookBackdatedLoanPayment(
            loan.user_id, loan.loan_id, 700, dt.date(2026, 1, 10), "second check", "check-2"
        )
    )
    stored = world.sound_loan(loan.loan_id)
    first = stored.payments[payment_id].refund
    second = stored.payments[backdated_payment_id(loan.loan_id, "check-2")].refund
    assert first is not None
    assert second is not None
    assert (first.status, first.amount, first.paid_reference) == (
        RefundStatus.PAID,
        OVER,
        "chk-1001",
    )
    assert (second.status, second.amount) == (RefundStatus.DUE, 700)
    assert stored.refunds_due == 700
    assert world.ledger(loan.loan_id).balance(CLEARING) > 0


def test_a_returned_disbursement_that_would_shrink_a_paid_refund_is_left_to_operations(
    world: Deployment, closed: tuple[Loan, str]
) -> None:
    """Cancelling would owe back the whole payment, not the part already sent: by hand."""
    loan, payment_id = closed
    world.at(dt.date(2026, 1, 12))
    world.bus.handle(paid(loan, payment_id))
    before = (world.loan(loan.loan_id), len(world.ledger(loan.loan_id)), world.sent())
    returned = disbursement(
        loan, SettlementOutcome.RETURNED, dt.datetime(2026, 1, 13, 12, tzinfo=dt.UTC)
    )
    assert world.settle(returned) is SettlementHandling.MANUAL
    assert (world.loan(loan.loan_id), len(world.ledger(loan.loan_id)), world.sent()) == before
    (critical,) = world.alerts(Severity.CRITICAL)
    assert critical.details["refund_paid"] == OVER
    assert (
        critical.details["refund_corrected"] == world.loan(loan.loan_id).payments[payment_id].amount
    )


def test_a_process_dying_before_the_commit_records_nothing_and_the_repeat_records_once(
    world: Deployment, closed: tuple[Loan, str]
) -> None:
    loan, payment_id = closed
    world.at(dt.date(2026, 1, 12))
    before = (world.loan(loan.loan_id), len(world.ledger(loan.loan_id)))
    with pytest.raises(Crash):
        world.crashing_uow(CrashingUnitOfWork).handle(paid(loan, payment_id))
    assert (world.loan(loan.loan_id), len(world.ledger(loan.loan_id))) == before
    assert "refund_paid" not in world.sent()
    world.bus.handle(paid(loan, payment_id))
    world.bus.handle(paid(loan, payment_id))
    entries = [e.entry_id for e in world.ledger(loan.loan_id)]
    assert entries.count(f"{payment_id}:refund_paid") == 1
    assert world.sent().count("refund_paid") == 1
    world.sound_loan(loan.loan_id)
