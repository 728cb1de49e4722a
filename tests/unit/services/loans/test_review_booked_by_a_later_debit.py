"""A debit the next debit on the loan booked, as an auditor reads it afterwards.

The audit trail says who booked each change: a lost debit that the next debit found and
booked (`BookTakenDebit`) was booked by that later debit, not by the recovery job (which
never ran) nor by the collections worker (which never answered for it).
"""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import CrashingOnBooking, Silent, settlement, timing_out

from loc_adapters.memory import InMemoryUnitOfWork
from loc_core.errors import ExternalServiceError
from loc_core.installment import Loan
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import PaymentRails, Severity, UnitOfWork
from loc_core.services.commands import CollectionOutcome, RecoverTransfers

DUE = dt.date(2026, 1, 20)  # the first installment's due date (`due_loan`'s)


@pytest.fixture
def loan(due_loan: Loan) -> Loan:
    """The loan, the clock at 10:00 on its first due date (`DUE`)."""
    return due_loan


def booked_by(world: Deployment, loan: Loan, payment_id: str) -> set[str]:
    """Who the audit says booked `payment_id` on the loan."""
    return {
        record.actor
        for record in world.audit("loan", loan.loan_id)
        if payment_id in record.change.reason
    }


def lost_payment(world: Deployment, loan: Loan) -> None:
    """A $10.00 payment pinless took, its answer lost; the clock at 15:00 of `DUE`."""
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})
    with pytest.raises(ExternalServiceError):
        world.pay_loan(loan, 1_000, key="by-hand")
    world.at(DUE, 15)


def test_an_autopay_a_manual_payment_booked_is_audited_as_booked_by_that_payment(
    world: Deployment, loan: Loan
) -> None:
    world.at(DUE, 15)
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})
    with pytest.raises(ExternalServiceError):
        world.collect(loan)
    world.at(DUE + dt.timedelta(days=1), 10)
    world.pay_loan(loan, 1_000, key="by-hand")
    assert booked_by(world, loan, "autopay:") == {"later-debit"}


def test_a_manual_payment_autopay_booked_is_audited_as_booked_by_autopay(
    world: Deployment, loan: Loan
) -> None:
    lost_payment(world, loan)
    world.collect(loan)
    assert booked_by(world, loan, "manual:") == {"later-debit"}


def test_a_lost_payment_a_later_debit_could_not_book_is_alerted_with_what_it_held_back(
    world: Deployment, loan: Loan
) -> None:
    lost_payment(world, loan)
    store_down = CrashingOnBooking(
        InMemoryUnitOfWork(world.database), failure=lambda: ExternalServiceError("store down")
    )
    skipped = world.using(UnitOfWork, store_down).collect(loan)
    assert skipped.reason == "DEBIT_UNCONFIRMED"
    (alert,) = (a for a in world.alerts() if "a later debit could not book it" in a.title)
    assert alert.severity is Severity.WARNING  # operations are paged once, by the booking:
    (page,) = world.alerts(Severity.CRITICAL)
    assert page.title == "money moved but not booked: manual payment (booked by later-debit)"
    assert alert.details["intent_id"] == "manual:id-000002:by-hand"
    assert alert.details["found_by"] == "autopay:id-000003:1"
    assert alert.details["confirmation_id"]  # what to look up at the bank
    assert "autopay skips the day" in str(alert.details["held_back"])
    assert world.collect(loan).reason == "PAYMENT_PENDING"  # the next run books it
    assert list(world.loan(loan.loan_id).payments) == ["manual:id-000002:by-hand:pinless"]


def test_an_autopay_booked_days_later_counts_as_the_attempt_of_the_day_it_was_sent(
    world: Deployment, loan: Loan
) -> None:
    world.at(DUE, 15)
    world.sim.down.add(Rail.PINLESS)
    silent = world.using(PaymentRails, Silent(timing_out(world.sim, {Rail.ACH})))
    with pytest.raises(ExternalServiceError):
        silent.collect(loan)  # ACH took it; for two days it cannot say so
    world.sim.down.clear()
    two_days_on = DUE + dt.timedelta(days=2)
    world.at(two_days_on, 7)
    assert world.bus.handle(RecoverTransfers()).booked == 1
    attempted = world.loan(loan.loan_id).installments[0]
    assert (attempted.collection_attempts, attempted.last_collection_attempt_on) == (1, DUE)
    (key,) = world.loan(loan.loan_id).payments
    world.at(two_days_on, 12)  # the charge comes back for insufficient funds
    world.settle(settlement(key, SettlementOutcome.RETURNED, world.clock.now(), Rail.ACH))
    world.at(two_days_on, 15)
    retried = world.collect(loan)  # as if the worker's own answer had come: DUE was the try
    assert (retried.outcome, retried.attempt) == (CollectionOutcome.CHARGED, 2)
