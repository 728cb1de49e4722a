"""Corrections through the bus: a late return, a return too old, an operator's backdated payment."""

import datetime as dt
from typing import Any

import attrs
import pytest
from deployment import Deployment
from fakes import settlement

from loc_core.errors import CorrectionTooOld, IdempotencyConflict
from loc_core.installment import InstallmentStatus, Loan, LoanStatus
from loc_core.ledger import Bucket, JournalEntry, Ledger, allowance, income
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.ports import Severity
from loc_core.services.commands import (
    BookBackdatedLoanPayment,
    ReconcileLoan,
    SettlementHandling,
)
from loc_core.testing.installment import balances_and_statuses, ledger_problems

FIRST_DUE = dt.date(2026, 1, 20)


@pytest.fixture
def loan(world: Deployment) -> Loan:
    world.sim.down = {Rail.PINLESS}  # payments go by ACH, which can be returned
    return world.open_loan(autopay=False)


def entries(ledger: Ledger) -> dict[str, JournalEntry]:
    return {entry.entry_id: entry for entry in ledger}


def test_a_return_after_the_grace_period_is_overdue_at_once_with_its_late_fee(
    world: Deployment, loan: Loan
) -> None:
    world.at(FIRST_DUE)
    paid = world.pay_loan(loan, 5_250)
    world.run_daily_loan_jobs(FIRST_DUE, dt.date(2026, 1, 27))
    returned_at = dt.datetime(2026, 1, 28, 9, tzinfo=dt.UTC)  # before the day's job
    world.clock.set(returned_at)
    returned = settlement(paid.payment_id, SettlementOutcome.RETURNED, returned_at, Rail.ACH)

    assert world.settle(returned) is SettlementHandling.REVERSED
    assert world.settle(returned) is SettlementHandling.DUPLICATE

    stored = world.loan(loan.loan_id)
    first = stored.installments[0]
    assert (first.status, first.overdue_on, first.late_fee) == (
        InstallmentStatus.OVERDUE,
        dt.date(2026, 1, 25),
        263,
    )
    ledger = world.ledger(loan.loan_id)
    adjustment = entries(ledger)[f"{paid.payment_id}:returned:adjust"]
    assert adjustment.effective_date == dt.date(2026, 1, 28)
    assert adjustment.net(income(Bucket.LATE_FEE)) == -263
    assert ledger_problems(stored, ledger) == []
    assert world.sent()[-2:] == ["payment_failed", "installment_overdue"]
    assert "CORRECTION" in world.audit_processes("installment", first.installment_id)


def test_a_return_reaching_further_back_than_the_policy_is_refused_and_alerted(
    world: Deployment, loan: Loan
) -> None:
    world.at(FIRST_DUE)
    paid = world.pay_loan(loan, 5_250)
    world.at(dt.date(2026, 5, 21))  # 121 days after the payment
    before = balances_and_statuses(world.loan(loan.loan_id))
    returned = settlement(paid.payment_id, SettlementOutcome.RETURNED, world.clock.now(), Rail.ACH)
    with pytest.raises(CorrectionTooOld):
        world.settle(returned)
    stored = world.loan(loan.loan_id)
    assert balances_and_statuses(stored) == before
    assert stored.payments[paid.payment_id].status is PaymentStatus.PENDING
    [alert] = world.alerts(Severity.CRITICAL)
    assert "handle by hand" in alert.title


def test_an_operators_backdated_payment_reverses_the_late_fee_it_prevents(
    world: Deployment, loan: Loan
) -> None:
    world.run_daily_loan_jobs(dt.date(2026, 1, 6), dt.date(2026, 1, 30))
    assert world.loan(loan.loan_id).installments[0].late_fee == 263
    world.at(dt.date(2026, 1, 31))
    command = BookBackdatedLoanPayment(
        user_id=loan.user_id,
        loan_id=loan.loan_id,
        amount=5_250,
        effective_on=dt.date(2026, 1, 19),
        reason="check received on the 19th, keyed late",
        idempotency_key="mailed-1",
    )

    moved = len(world.sim.submitted)
    receipt = world.bus.handle(command)
    again = world.bus.handle(command)

    assert again == receipt
    assert receipt.submitted_on == dt.date(2026, 1, 19)
    assert receipt.rail is Rail.ACH
    stored = world.loan(loan.loan_id)
    first = stored.installments[0]
    assert (first.status, first.late_fee, first.overdue_on) == (
        InstallmentStatus.COMPLETED,
        0,
        None,
    )
    assert stored.outstanding_balance == 31_500 - 5_250
    ledger = world.ledger(loan.loan_id)
    assert entries(ledger)[f"{receipt.payment_id}:adjust"].net(income(Bucket.LATE_FEE)) == 263
    assert ledger_problems(stored, ledger) == []
    assert len(world.sim.submitted) == moved  # no rail was asked
    with pytest.raises(IdempotencyConflict):
        world.bus.handle(attrs.evolve(command, amount=5_000))


def test_a_backdated_payment_that_undoes_a_default_releases_it_and_tells_nothing_twice(
    world: Deployment, loan: Loan
) -> None:
    world.at(dt.date(2026, 3, 26), 7)  # installments 1-5 overdue, the loan defaulted
    world.run_daily_loan_job()
    assert world.loan(loan.loan_id).status is LoanStatus.DEFAULTED
    told = world.sent()
    assert told.count("installment_overdue") == 5
    world.at(dt.date(2026, 3, 27))
    # The first installment was mailed in on time: it never went overdue, so the loan
    # (defaulted 60 days after installment 1 went overdue) never defaulted.
    world.bus.handle(
        BookBackdatedLoanPayment(
            loan.user_id, loan.loan_id, 5_250, dt.date(2026, 1, 19), "check", "check-1"
        )
    )
    stored = world.loan(loan.loan_id)
    assert (stored.status, stored.defaulted_on) == (LoanStatus.OPEN, None)
    assert world.ledger(loan.loan_id).balance(allowance(loan.loan_id)) == 0
    assert world.bus.handle(ReconcileLoan(loan.user_id, loan.loan_id)).matches
    # Installments 2-5 were told overdue before the default; they are still overdue.
    assert world.sent()[len(told) :] == ["payment_succeeded"]


def test_a_late_return_that_makes_the_loan_defaulted_charges_it_off_and_tells_it_once(
    world: Deployment, loan: Loan
) -> None:
    world.at(dt.date(2026, 1, 19))
    receipt = world.pay_loan(loan, 5_250, key="first")  # installment 1, by ACH
    world.at(dt.date(2026, 3, 27), 17)
    world.run_daily_loan_job()  # installments 2-5 overdue; 2 only since 02-07: no default
    assert world.loan(loan.loan_id).status is LoanStatus.OPEN
    told = len(world.sent())
    world.at(dt.date(2026, 3, 28))  # returned: installment 1 was overdue from 01-25
    event = settlement(
        receipt.payment_id, SettlementOutcome.RETURNED, world.clock.now(), receipt.rail
    )
    for _ in range(2):
        world.settle(event)
    stored = world.loan(loan.loan_id)
    assert (stored.status, stored.defaulted_on) == (LoanStatus.DEFAULTED, dt.date(2026, 3, 26))
    assert world.sent()[told:] == ["payment_failed", "loan_defaulted"]
    ledger = world.ledger(loan.loan_id)
    adjust = entries(ledger)[f"{receipt.payment_id}:returned:adjust"]
    assert adjust.net(allowance(loan.loan_id)) == -stored.outstanding_balance
    assert world.bus.handle(ReconcileLoan(loan.user_id, loan.loan_id)).matches


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param({"effective_on": dt.date(2026, 1, 20)}, id="another-day"),
        pytest.param({"rail": Rail.PINLESS}, id="another-rail"),
    ],
)
def test_a_backdated_payments_key_reused_for_another_day_or_rail_is_refused(
    world: Deployment, loan: Loan, changed: dict[str, Any]
) -> None:
    """It used to answer the first payment's receipt, as if this one had been booked."""
    world.at(dt.date(2026, 1, 31))
    command = BookBackdatedLoanPayment(
        loan.user_id, loan.loan_id, 5_250, dt.date(2026, 1, 19), "check", "mailed-1"
    )
    world.bus.handle(command)
    with pytest.raises(IdempotencyConflict, match="received 2026-01-19 by ach"):
        world.bus.handle(attrs.evolve(command, **changed))
    assert len(world.loan(loan.loan_id).payments) == 1


def test_a_backdated_payment_nothing_was_owed_for_is_alerted_as_a_refund_due(
    world: Deployment, loan: Loan
) -> None:
    """A booking alerts operations to refund money nothing was owed for; this did not."""
    world.at(dt.date(2026, 1, 31))
    world.bus.handle(
        BookBackdatedLoanPayment(
            loan.user_id, loan.loan_id, 40_000, dt.date(2026, 1, 19), "check", "mailed-1"
        )
    )
    assert world.alert_titles() == ["refund due"]
    [alert] = world.alerts()
    assert alert.details["amount"] == 40_000 - 31_500


def test_a_loan_without_its_history_here_is_reversed_as_of_today_and_operations_told(
    world: Deployment, loan: Loan
) -> None:
    """A loan adopted from the Go service has no disbursement entry here to replay from."""
    world.at(FIRST_DUE)
    paid = world.pay_loan(loan, 5_250)
    ledger = world.database.ledger
    adopted = [e for e in world.ledger(loan.loan_id) if not e.entry_id.endswith(":disburse")]
    # the journal as an adopted loan has it: no disbursement entry
    world.database._entries_by_reference[loan.loan_id] = adopted
    at = dt.datetime(2026, 1, 28, 9, tzinfo=dt.UTC)
    world.clock.set(at)
    returned = settlement(paid.payment_id, SettlementOutcome.RETURNED, at, Rail.ACH)
    assert world.settle(returned) is SettlementHandling.REVERSED
    stored = world.loan(loan.loan_id)
    assert stored.payments[paid.payment_id].status is PaymentStatus.RETURNED
    assert stored.outstanding_balance == 31_500  # what it paid is owed again
    assert not any(entry.entry_id.endswith(":adjust") for entry in ledger)  # nothing replayed
    (warning,) = world.alerts(Severity.WARNING)
    assert "history before adoption is not here to replay" in warning.title


def test_a_backdated_payment_on_a_loan_without_its_history_is_refused_changing_nothing(
    world: Deployment, loan: Loan
) -> None:
    """Replayed from nothing, the books of an adopted loan would lose its whole position."""
    world.at(FIRST_DUE)
    world.pay_loan(loan, 5_250)
    adopted = [e for e in world.ledger(loan.loan_id) if not e.entry_id.endswith(":disburse")]
    # the journal as an adopted loan has it: no disbursement entry
    world.database._entries_by_reference[loan.loan_id] = adopted
    world.at(dt.date(2026, 2, 2))
    before, journal = world.loan(loan.loan_id), list(world.database.ledger)
    with pytest.raises(CorrectionTooOld, match="adopted from the Go service"):
        world.bus.handle(
            BookBackdatedLoanPayment(
                user_id=loan.user_id,
                loan_id=loan.loan_id,
                amount=1_000,
                effective_on=dt.date(2026, 1, 30),
                reason="mailed check",
                idempotency_key="mailed-1",
            )
        )
    after = world.loan(loan.loan_id)
    assert balances_and_statuses(after) == balances_and_statuses(before)
    assert after.payments.keys() == before.payments.keys()
    assert list(world.database.ledger) == journal


# --- a return the rail delivers weeks after it occurred --------------------------------


@pytest.mark.parametrize(
    "paid_again",
    [pytest.param(False, id="fees charged since"), pytest.param(True, id="paid again since")],
)
def test_a_return_delivered_weeks_late_keeps_the_fees_and_payments_booked_since(
    world: Deployment,
    loan: Loan,
    paid_again: bool,  # noqa: FBT001 - the parameter under test
) -> None:
    world.at(FIRST_DUE)
    first = world.pay_loan(loan, 5_250)
    world.run_daily_loan_jobs(FIRST_DUE, dt.date(2026, 1, 29))
    if paid_again:
        world.at(dt.date(2026, 1, 30))
        world.pay_loan(loan, 1_000, key="pay-2")
    world.run_daily_loan_jobs(dt.date(2026, 1, 30), dt.date(2026, 2, 13))
    assert world.loan(loan.loan_id).installments[1].late_fee == 263  # overdue on 7 Feb

    occurred = dt.datetime(2026, 1, 22, 9, tzinfo=dt.UTC)  # the bank returned it then
    world.at(dt.date(2026, 2, 14), 9)  # the webhook arrives three weeks later
    returned = settlement(first.payment_id, SettlementOutcome.RETURNED, occurred, Rail.ACH)
    assert world.settle(returned) is SettlementHandling.REVERSED
    world.run_daily_loan_jobs(dt.date(2026, 2, 14), dt.date(2026, 2, 16))

    stored = world.loan(loan.loan_id)
    one, two = stored.installments[:2]
    assert (one.status, one.overdue_on, one.late_fee) == (
        InstallmentStatus.OVERDUE,
        dt.date(2026, 1, 25),
        263,
    )
    assert (two.status, two.overdue_on, two.late_fee) == (
        InstallmentStatus.OVERDUE,
        dt.date(2026, 2, 7),
        263,
    )
    assert stored.outstanding_balance == 31_500 + 2 * 263 - (1_000 if paid_again else 0)
    assert stored.payments[first.payment_id].settled_on == dt.date(2026, 2, 14)
    booked = {
        entry.entry_id: entry.effective_date
        for entry in world.database.entries_for(loan.loan_id)
        if entry.entry_id.startswith(first.payment_id)
    }
    assert set(booked.values()) == {FIRST_DUE, dt.date(2026, 2, 14)}  # applied, then learned
    ledger: Ledger = world.ledger(loan.loan_id)
    assert ledger_problems(stored, ledger) == []
    assert ledger.balance(income(Bucket.LATE_FEE)) == -2 * 263
    assert not world.alerts()
