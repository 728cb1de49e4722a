"""Collection attempts, the autopay guards, the autopay setting and the payment pre-check."""

import copy
import datetime as dt

import pytest

from loc_core.errors import (
    DomainError,
    InvalidAmount,
    InvalidTimestamp,
    InvalidTransition,
    InvariantViolation,
    NotFound,
    Overpayment,
)
from loc_core.events import FieldChange
from loc_core.installment import (
    CollectionSkip,
    InstallmentProduct,
    Loan,
    Process,
    collection_skip_reason,
)
from loc_core.payments import Rail, SettlementOutcome
from loc_core.testing.installment import make_loan

DUE = dt.date(2026, 1, 20)  # the first installment's due date


def test_an_attempt_is_counted_dated_and_audited(loan: Loan) -> None:
    assert loan.record_collection_attempt("loan-1:1", today=DUE, outcome="declined (nsf)") == 1
    first = loan.installments[0]
    assert (first.collection_attempts, first.last_collection_attempt_on) == (1, DUE)
    assert (first.process, first.update_reason) == (
        Process.AUTOPAY,
        "autopay attempt 1: declined (nsf)",
    )
    [change] = loan.outbox.changes
    assert (change.entity, change.entity_id, change.process) == (
        "installment",
        "loan-1:1",
        "AUTOPAY",
    )
    assert FieldChange("collection_attempts", 0, 1) in change.fields
    assert FieldChange("last_collection_attempt_on", None, "2026-01-20") in change.fields
    assert loan.outbox.entries == []  # an attempt moves no money
    assert loan.record_collection_attempt("loan-1:1", today=DUE.replace(day=21), outcome="ok") == 2


def test_a_bad_attempt_changes_nothing(loan: Loan) -> None:
    before = copy.deepcopy(loan.installments)
    with pytest.raises(NotFound):
        loan.record_collection_attempt("loan-1:9", today=DUE, outcome="x")
    with pytest.raises(DomainError, match="outcome"):
        loan.record_collection_attempt("loan-1:1", today=DUE, outcome=" ")
    with pytest.raises(InvalidTimestamp):
        loan.record_collection_attempt("loan-1:1", today=dt.date(2026, 1, 1), outcome="x")
    loan.record_collection_attempt("loan-1:1", today=DUE, outcome="x")
    with pytest.raises(InvalidTimestamp, match="last attempted on 2026-01-20"):
        loan.record_collection_attempt("loan-1:1", today=dt.date(2026, 1, 19), outcome="x")
    assert loan.installments[1:] == before[1:]


def test_verify_refuses_attempts_without_a_date(loan: Loan) -> None:
    loan.installments[0].collection_attempts = 2
    with pytest.raises(InvariantViolation, match="2 collection attempts, last on None"):
        loan.verify()
    loan.installments[0].collection_attempts = -1
    with pytest.raises(InvariantViolation, match="must be a count"):
        loan.verify()


def skip(loan: Loan, today: dt.date = DUE, installment_id: str = "loan-1:1") -> str | None:
    return collection_skip_reason(loan, installment_id, today=today)


def test_an_installment_due_today_with_autopay_on_is_charged(loan: Loan) -> None:
    assert skip(loan) is None
    assert skip(loan, DUE + dt.timedelta(days=3)) is None  # past due, still SCHEDULED


def test_each_guard_has_its_code(loan: Loan) -> None:
    assert skip(loan, DUE - dt.timedelta(days=1)) == CollectionSkip.NOT_DUE.value
    loan.record_collection_attempt("loan-1:1", today=DUE, outcome="declined")
    assert skip(loan) == "ATTEMPTED_TODAY"
    loan.apply_payment("pay-1", 100, process=Process.MANUAL, rail=Rail.ACH, today=DUE)
    assert skip(loan) == "PAYMENT_PENDING"
    loan.settle("pay-1", SettlementOutcome.COMPLETED, today=DUE)
    assert skip(loan) == "ATTEMPTED_TODAY"
    assert skip(loan, DUE + dt.timedelta(days=1)) is None
    loan.apply_payment("pay-2", 5_150, process=Process.MANUAL, rail=Rail.PINLESS, today=DUE)
    loan.settle("pay-2", SettlementOutcome.COMPLETED, today=DUE)
    assert skip(loan, DUE + dt.timedelta(days=1)) == "PAID"
    loan.set_autopay(False, today=DUE, reason="borrower request")
    assert skip(loan, DUE + dt.timedelta(days=1)) == "AUTOPAY_OFF"


def test_attempts_stop_at_the_products_limit() -> None:
    loan = make_loan(product=InstallmentProduct(max_collection_attempts=2))
    for day in (20, 21):
        assert skip(loan, dt.date(2026, 1, day)) is None
        loan.record_collection_attempt("loan-1:1", today=dt.date(2026, 1, day), outcome="declined")
    assert skip(loan, dt.date(2026, 1, 22)) == "ATTEMPTS_EXHAUSTED"


def test_closed_and_defaulted_loans_are_not_charged(loan: Loan) -> None:
    late = make_loan()
    late.run_daily(dt.date(2026, 4, 1))  # overdue since 25 January for 60+ days
    assert skip(late, dt.date(2026, 4, 1), "loan-1:6") == "LOAN_DEFAULTED"
    loan.apply_payment("pay-1", 31_500, process=Process.MANUAL, rail=Rail.ACH, today=DUE)
    assert skip(loan) == "LOAN_CLOSED"
    with pytest.raises(NotFound):
        skip(loan, installment_id="loan-1:9")


def test_autopay_can_be_switched_off_and_on_and_is_audited(loan: Loan) -> None:
    assert loan.set_autopay(False, today=DUE, reason="borrower request") is True
    assert loan.autopay_enabled is False
    [change] = loan.outbox.drain().changes
    assert (change.entity, change.process, change.reason) == (
        "loan",
        "AUTOPAY_SETTING",
        "borrower request",
    )
    assert change.fields == (FieldChange("autopay_enabled", old=True, new=False),)
    assert loan.set_autopay(False, today=DUE, reason="again") is False
    assert not loan.outbox
    assert loan.set_autopay(True, today=DUE, reason="borrower request") is True
    assert loan.autopay_enabled is True


def test_autopay_cannot_be_turned_on_for_a_defaulted_or_closed_loan(loan: Loan) -> None:
    late = make_loan()
    late.run_daily(dt.date(2026, 4, 1))
    with pytest.raises(InvalidTransition, match="DEFAULTED: autopay cannot be turned on"):
        late.set_autopay(True, today=dt.date(2026, 4, 1), reason="please")
    loan.apply_payment("pay-1", 31_500, process=Process.MANUAL, rail=Rail.ACH, today=DUE)
    loan.set_autopay(False, today=DUE, reason="closed")
    with pytest.raises(InvalidTransition, match="CLOSED"):
        loan.set_autopay(True, today=DUE, reason="please")
    with pytest.raises(DomainError, match="bool"):
        loan.set_autopay("yes", today=DUE, reason="please")  # type: ignore[arg-type]  # a string where a bool belongs, on purpose


def test_check_payment_refuses_what_apply_payment_would_and_changes_nothing(loan: Loan) -> None:
    loan.check_payment(31_500, today=DUE)
    with pytest.raises(Overpayment, match=r"a payment of \$315.01 is more than the \$315.00"):
        loan.check_payment(31_501, today=DUE)
    with pytest.raises(InvalidAmount):
        loan.check_payment(0, today=DUE)
    with pytest.raises(InvalidTimestamp):
        loan.check_payment(100, today=dt.date(2025, 12, 31))
    assert not loan.outbox
    loan.apply_payment("pay-1", 31_500, process=Process.MANUAL, rail=Rail.ACH, today=DUE)
    with pytest.raises(InvalidTransition, match="CLOSED"):
        loan.check_payment(1, today=DUE)
