import datetime as dt
from decimal import Decimal

import pytest
from fakes import refused

from loc_core.errors import (
    DomainError,
    DuplicatePayment,
    InvalidAmount,
    InvalidTimestamp,
    InvalidTransition,
    Overpayment,
    PaymentError,
)
from loc_core.events import EventType
from loc_core.installment import (
    InstallmentStatus,
    Loan,
    LoanStatus,
    PaymentApplication,
    Process,
)
from loc_core.ledger import CLEARING, CREDIT_LOSS, Bucket, Ledger, allowance, receivable
from loc_core.payments import PaymentStatus, Rail
from loc_core.testing.installment import ledger_problems

DAY = dt.date(2026, 1, 19)


def pay(loan: Loan, payment_id: str, amount: int, *, today: dt.date = DAY) -> None:
    loan.apply_payment(payment_id, amount, process=Process.MANUAL, rail=Rail.ACH, today=today)


def test_paying_an_installment_completes_it(loan: Loan) -> None:
    payment = loan.apply_payment("pay-1", 5_250, process=Process.AUTOPAY, rail=Rail.ACH, today=DAY)
    first = loan.installments[0]
    assert first.status is InstallmentStatus.COMPLETED
    assert first.outstanding_balance == 0
    assert first.process is Process.AUTOPAY
    assert first.update_reason == "payment pay-1 of 5250 cents"
    assert loan.outstanding_balance == 26_250
    assert loan.installments[1].outstanding_balance == 5_250
    assert payment.status is PaymentStatus.PENDING
    assert payment.applications == (
        PaymentApplication(
            payment_id="pay-1",
            installment_id="loan-1:1",
            amount=5_250,
            payment_date=DAY,
            origination_fee=250,
            principal=5_000,
        ),
    )
    assert first.applications == list(payment.applications)


def test_a_partial_payment_pays_the_fee_part_before_principal(loan: Loan) -> None:
    pay(loan, "pay-1", 300)
    first = loan.installments[0]
    assert first.status is InstallmentStatus.SCHEDULED
    assert first.outstanding_balance == 4_950
    assert (first.unpaid(Bucket.ORIGINATION_FEE), first.unpaid(Bucket.PRINCIPAL)) == (0, 4_950)
    assert first.applications[0].origination_fee == 250
    assert first.applications[0].principal == 50


def test_what_is_left_prepays_later_installments_oldest_first(loan: Loan) -> None:
    pay(loan, "pay-1", 100)
    payment = loan.apply_payment(
        "pay-2", 12_000, process=Process.MANUAL, rail=Rail.PINLESS, today=DAY
    )
    assert [(a.installment_id, a.amount) for a in payment.applications] == [
        ("loan-1:1", 5_150),
        ("loan-1:2", 5_250),
        ("loan-1:3", 1_600),
    ]
    assert [i.status for i in loan.installments[:4]] == [
        InstallmentStatus.COMPLETED,
        InstallmentStatus.COMPLETED,
        InstallmentStatus.SCHEDULED,
        InstallmentStatus.SCHEDULED,
    ]
    assert loan.installments[2].outstanding_balance == 3_650
    assert loan.outstanding_balance == 31_500 - 12_100


def test_a_payment_is_booked_per_bucket_from_clearing(booked: tuple[Loan, Ledger]) -> None:
    loan, ledger = booked
    pay(loan, "pay-1", 5_400)
    [entry] = loan.outbox.entries
    assert entry.entry_id == "pay-1:apply"
    assert entry.net(CLEARING) == 5_400
    assert entry.net(receivable("loan-1", Bucket.ORIGINATION_FEE)) == -400
    assert entry.net(receivable("loan-1", Bucket.PRINCIPAL)) == -5_000
    ledger.post_all(loan.outbox.drain().entries)
    assert ledger_problems(loan, ledger) == []


def test_each_changed_entity_is_audited_with_old_and_new_values(loan: Loan) -> None:
    pay(loan, "pay-1", 5_250)
    changes = {(c.entity, c.entity_id): c for c in loan.outbox.changes}
    assert set(changes) == {("loan", "loan-1"), ("installment", "loan-1:1"), ("payment", "pay-1")}
    assert {(f.field, f.old, f.new) for f in changes["loan", "loan-1"].fields} == {
        ("outstanding_balance", 31_500, 26_250)
    }
    installment_fields = {
        f.field: (f.old, f.new) for f in changes["installment", "loan-1:1"].fields
    }
    assert installment_fields["status"] == ("SCHEDULED", "COMPLETED")
    assert installment_fields["applications"] == ("", "pay-1=5250")
    assert all(
        change.process == "MANUAL" and change.user_id == "user-1" for change in changes.values()
    )


def test_paying_everything_closes_the_loan(booked: tuple[Loan, Ledger]) -> None:
    loan, ledger = booked
    pay(loan, "pay-1", 31_500, today=dt.date(2026, 2, 1))
    assert loan.status is LoanStatus.CLOSED
    assert loan.completion_date == dt.date(2026, 2, 1)
    assert all(i.status is InstallmentStatus.COMPLETED for i in loan.installments)
    assert [e.type for e in loan.outbox.events] == [EventType.LOAN_CLOSED]
    ledger.post_all(loan.outbox.drain().entries)
    assert ledger.balances("receivable:") == {}
    assert ledger.balance(CLEARING) == 31_500


@pytest.mark.parametrize("process", [Process.MANUAL, Process.AUTOPAY])
def test_more_than_is_owed_is_refused_and_changes_nothing(loan: Loan, process: Process) -> None:
    pay(loan, "pay-1", 1_500)
    with refused(loan, Overpayment, match=r"\$300.01 is more than the \$300.00 owed"):
        loan.apply_payment("pay-2", 30_001, process=process, rail=Rail.ACH, today=DAY)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (0, "payment amount must be more than 0 cents"),
        (-100, "payment amount must be more than 0 cents"),
        (52.5, "floats are not money"),
        (True, "must be integer cents"),
        (Decimal(5250), "must be integer cents"),
        ("5250", "must be integer cents"),
    ],
)
def test_amounts_that_are_not_positive_cents_are_refused(
    loan: Loan, amount: object, message: str
) -> None:
    with refused(loan, InvalidAmount, match=message):
        pay(loan, "pay-1", amount)  # type: ignore[arg-type]  # wrong types on purpose


def test_a_closed_loan_takes_no_payment(loan: Loan) -> None:
    pay(loan, "pay-1", 31_500)
    with refused(loan, InvalidTransition, match="is CLOSED \\(paid on 2026-01-19\\)"):
        pay(loan, "pay-2", 100)


def test_a_payment_id_is_applied_once(loan: Loan) -> None:
    pay(loan, "pay-1", 1_000)
    with refused(loan, DuplicatePayment, match="pay-1 was already applied to loan loan-1"):
        pay(loan, "pay-1", 1_000)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"process": Process.UNAPPLY}, PaymentError, "applied by AUTOPAY or MANUAL"),
        ({"rail": Rail.RTP}, PaymentError, "collected by ACH or pinless"),
        (
            {"today": dt.datetime(2026, 1, 19, tzinfo=dt.UTC)},
            InvalidTimestamp,
            "must be a datetime.date",
        ),
        ({"today": dt.date(2026, 1, 4)}, InvalidTimestamp, "before loan loan-1 was disbursed"),
        ({"payment_id": ""}, DomainError, "payment_id must be a non-empty string"),
    ],
)
def test_bad_payment_arguments_are_refused(
    loan: Loan, changes: dict[str, object], error: type[Exception], message: str
) -> None:
    arguments: dict[str, object] = {
        "payment_id": "pay-1",
        "amount": 100,
        "process": Process.MANUAL,
        "rail": Rail.ACH,
        "today": DAY,
    }
    arguments.update(changes)
    with refused(loan, error, match=message):
        loan.apply_payment(**arguments)  # type: ignore[arg-type]  # wrong types on purpose


def test_a_defaulted_loan_takes_payments_that_release_the_allowance(
    booked: tuple[Loan, Ledger],
) -> None:
    loan, ledger = booked
    loan.run_daily(dt.date(2026, 3, 31))  # installment 1 overdue since 2026-01-25 for 65 days
    # It defaulted on its 60th day overdue, the day a run every day would have found.
    assert (loan.status, loan.defaulted_on) == (LoanStatus.DEFAULTED, dt.date(2026, 3, 26))
    ledger.post_all(loan.outbox.drain().entries)
    owed = loan.outstanding_balance
    assert ledger.balance(allowance("loan-1")) == -owed

    payment = loan.apply_payment(
        "pay-1", 6_000, process=Process.MANUAL, rail=Rail.ACH, today=dt.date(2026, 4, 1)
    )
    [entry] = loan.outbox.entries
    assert entry.net(allowance("loan-1")) == 6_000
    assert entry.net(CREDIT_LOSS) == -6_000
    assert payment.applications[0].late_fee == 263  # the late fee is paid first
    assert loan.installments[0].status is InstallmentStatus.COMPLETED
    assert loan.installments[1].status is InstallmentStatus.DEFAULTED
    ledger.post_all(loan.outbox.drain().entries)
    assert ledger_problems(loan, ledger) == []

    pay(loan, "pay-2", loan.outstanding_balance, today=dt.date(2026, 4, 2))
    assert loan.status is LoanStatus.CLOSED
    assert loan.completion_date == dt.date(2026, 4, 2)
    assert loan.defaulted_on == dt.date(2026, 3, 26)
    ledger.post_all(loan.outbox.drain().entries)
    assert ledger.balance(allowance("loan-1")) == 0
    assert ledger_problems(loan, ledger) == []
