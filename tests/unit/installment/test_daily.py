import copy
import datetime as dt
from decimal import Decimal

from loc_core.events import EventType
from loc_core.installment import InstallmentProduct, InstallmentStatus, Loan, LoanStatus, Process
from loc_core.ledger import CREDIT_LOSS, Bucket, Ledger, allowance, income, receivable
from loc_core.payments import Rail
from loc_core.testing.installment import ledger_problems, make_loan

FIRST_DUE = dt.date(2026, 1, 20)


def test_an_installment_is_not_overdue_within_its_grace_days(loan: Loan) -> None:
    before = copy.deepcopy(loan)
    loan.run_daily(FIRST_DUE + dt.timedelta(days=4))
    assert loan == before


def test_unpaid_after_grace_it_becomes_overdue_with_one_late_fee(
    booked: tuple[Loan, Ledger],
) -> None:
    loan, ledger = booked
    loan.run_daily(dt.date(2026, 1, 25))  # due 2026-01-20 + 5 grace days
    first = loan.installments[0]
    assert first.status is InstallmentStatus.OVERDUE
    assert first.overdue_on == dt.date(2026, 1, 25)
    assert (first.late_fee, first.total_amount, first.outstanding_balance) == (263, 5_513, 5_513)
    assert first.process is Process.LATE_FEE
    assert loan.outstanding_balance == 31_763
    assert loan.installments[1].status is InstallmentStatus.SCHEDULED
    recorded = loan.outbox.drain()
    [entry] = recorded.entries
    assert entry.entry_id == "loan-1:1:late_fee"
    assert entry.net(receivable("loan-1", Bucket.LATE_FEE)) == 263
    assert entry.net(income(Bucket.LATE_FEE)) == -263
    [event] = recorded.events
    assert (event.type, event.subject_id, event.data["late_fee"]) == (
        EventType.INSTALLMENT_OVERDUE,
        "loan-1:1",
        263,
    )
    assert {c.process for c in recorded.changes} == {"LATE_FEE"}
    ledger.post_all(recorded.entries)
    assert ledger_problems(loan, ledger) == []


def test_a_partly_paid_installment_still_becomes_overdue(loan: Loan) -> None:
    loan.apply_payment("pay-1", 5_000, process=Process.MANUAL, rail=Rail.ACH, today=FIRST_DUE)
    loan.run_daily(dt.date(2026, 1, 25))
    first = loan.installments[0]
    assert first.status is InstallmentStatus.OVERDUE
    assert first.outstanding_balance == 250 + 263


def test_a_paid_installment_never_becomes_overdue(loan: Loan) -> None:
    loan.apply_payment("pay-1", 5_250, process=Process.MANUAL, rail=Rail.ACH, today=FIRST_DUE)
    loan.run_daily(dt.date(2026, 1, 30))
    assert loan.installments[0].status is InstallmentStatus.COMPLETED
    assert loan.late_fees_assessed == 0


def test_the_fixed_fee_applies_when_five_percent_is_more() -> None:
    loan = make_loan(loan_amount=120_000, fee=0)  # installments of $200: 5 % is $10
    loan.run_daily(dt.date(2026, 1, 25))
    assert loan.installments[0].late_fee == 500


def test_late_fees_stop_at_the_loan_cap_with_a_partial_last_fee() -> None:
    product = InstallmentProduct(late_fee_cap_percent=Decimal(3))  # 3 % of $300 = $9
    loan = make_loan(product=product)
    loan.outbox.drain()
    loan.run_daily(dt.date(2026, 3, 20))  # installments 1-4 are past their grace days
    assert [i.late_fee for i in loan.installments] == [263, 263, 263, 111, 0, 0]
    assert loan.late_fees_assessed == 900
    assert loan.installments[3].status is InstallmentStatus.OVERDUE
    assert loan.installments[3].update_reason == (
        "unpaid on 2026-03-07: late fee of 111 cents, the rest of the loan's cap"
    )
    loan.outbox.drain()
    loan.run_daily(dt.date(2026, 3, 21))
    fifth = loan.installments[4]
    assert (fifth.status, fifth.late_fee, fifth.process) == (
        InstallmentStatus.OVERDUE,
        0,
        Process.OVERDUE,
    )
    assert fifth.update_reason == "unpaid on 2026-03-21: no late fee, the loan's cap is reached"
    recorded = loan.outbox.drain()
    assert [e.entry_id for e in recorded.entries] == []
    assert [e.type for e in recorded.events] == [EventType.INSTALLMENT_OVERDUE]


def test_running_the_same_day_twice_changes_nothing(loan: Loan) -> None:
    loan.run_daily(dt.date(2026, 2, 10))
    loan.outbox.drain()
    before = copy.deepcopy(loan)
    loan.run_daily(dt.date(2026, 2, 10))
    loan.run_daily(dt.date(2026, 2, 9))
    assert loan == before


def test_overdue_for_default_after_days_defaults_the_loan(booked: tuple[Loan, Ledger]) -> None:
    loan, ledger = booked
    loan.apply_payment("pay-1", 5_250, process=Process.AUTOPAY, rail=Rail.ACH, today=FIRST_DUE)
    loan.run_daily(dt.date(2026, 2, 7))  # installment 2 overdue on 2026-02-07
    loan.run_daily(dt.date(2026, 4, 7))  # 59 days later
    assert (loan.status, loan.defaulted_on) == (LoanStatus.OPEN, None)
    ledger.post_all(loan.outbox.drain().entries)
    loan.run_daily(dt.date(2026, 4, 8))  # 60 days
    assert loan.status is LoanStatus.DEFAULTED
    assert loan.defaulted_on == dt.date(2026, 4, 8)
    assert not loan.autopay_enabled
    assert [i.status for i in loan.installments] == [
        InstallmentStatus.COMPLETED,
        *[InstallmentStatus.DEFAULTED] * 5,
    ]
    assert all(i.process is Process.DEFAULT for i in loan.installments[1:])
    recorded = loan.outbox.drain()
    [entry] = recorded.entries
    assert entry.entry_id == "loan-1:2:default"  # named for the installment that caused it
    assert entry.net(CREDIT_LOSS) == loan.outstanding_balance
    assert [e.type for e in recorded.events] == [EventType.LOAN_DEFAULTED]
    ledger.post_all(recorded.entries)
    assert ledger.balance(allowance("loan-1")) == -loan.outstanding_balance
    assert ledger_problems(loan, ledger) == []


def test_a_defaulted_loan_is_charged_no_more_late_fees(loan: Loan) -> None:
    loan.run_daily(dt.date(2026, 3, 26))
    assert loan.status is LoanStatus.DEFAULTED
    fees = loan.late_fees_assessed
    loan.outbox.drain()
    before = copy.deepcopy(loan)
    loan.run_daily(dt.date(2026, 6, 1))
    assert loan == before
    assert loan.late_fees_assessed == fees


def test_a_missed_run_is_caught_up_in_one(booked: tuple[Loan, Ledger]) -> None:
    loan, ledger = booked
    loan.run_daily(dt.date(2026, 12, 31))
    assert loan.status is LoanStatus.DEFAULTED
    assert [i.overdue_on for i in loan.installments] == [
        dt.date(2026, 1, 25),
        dt.date(2026, 2, 7),
        dt.date(2026, 2, 22),
        dt.date(2026, 3, 7),
        dt.date(2026, 3, 21),
        dt.date(2026, 4, 4),
    ]
    assert loan.late_fees_assessed == 6 * 263
    ledger.post_all(loan.outbox.drain().entries)
    assert ledger_problems(loan, ledger) == []


def test_without_grace_an_installment_is_overdue_the_day_after_its_due_date() -> None:
    """The borrower has the whole due date to pay: the daily job runs before it ends.

    The service's job never looks at an installment due today, so a loan that charged on
    the due date would charge in a correction's replay what it never charged live.
    """
    loan = make_loan(product=InstallmentProduct(grace_days=0))
    loan.run_daily(FIRST_DUE)
    assert [i.status for i in loan.installments[:1]] == [InstallmentStatus.SCHEDULED]
    loan.run_daily(FIRST_DUE + dt.timedelta(days=1))
    assert loan.installments[0].status is InstallmentStatus.OVERDUE
    assert loan.installments[0].overdue_on == FIRST_DUE + dt.timedelta(days=1)


def test_a_closed_loan_has_nothing_to_run(loan: Loan) -> None:
    loan.apply_payment("pay-1", 31_500, process=Process.MANUAL, rail=Rail.ACH, today=FIRST_DUE)
    loan.outbox.drain()
    before = copy.deepcopy(loan)
    loan.run_daily(dt.date(2026, 12, 1))
    assert loan == before
