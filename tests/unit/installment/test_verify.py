import datetime as dt

import attrs
import pytest

from loc_core.errors import InvariantViolation
from loc_core.installment import InstallmentStatus, Loan, LoanStatus, PaymentApplication, Process
from loc_core.payments import Rail

DAY = dt.date(2026, 1, 19)


def test_a_consistent_loan_verifies(loan: Loan) -> None:
    loan.apply_payment("pay-1", 6_000, process=Process.MANUAL, rail=Rail.ACH, today=DAY)
    loan.verify()
    assert loan.problems() == []


def test_a_stored_outstanding_that_contradicts_the_applications_is_caught(loan: Loan) -> None:
    loan.apply_payment("pay-1", 1_000, process=Process.MANUAL, rail=Rail.ACH, today=DAY)
    loan.installments[0].outstanding_balance = 5_250
    with pytest.raises(
        InvariantViolation,
        match="outstanding_balance 5250 != total_amount 5250 - applications 1000",
    ):
        loan.verify()


def test_a_loan_balance_that_is_not_the_sum_of_its_installments_is_caught(loan: Loan) -> None:
    with pytest.raises(
        InvariantViolation, match="outstanding_balance 31499 != sum of installments 31500"
    ):
        attrs.evolve(loan, outstanding_balance=31_499)


def test_a_status_that_does_not_fit_the_balance_is_caught(loan: Loan) -> None:
    loan.installments[0].status = InstallmentStatus.COMPLETED
    with pytest.raises(InvariantViolation, match="status COMPLETED with outstanding 5250"):
        loan.verify()


def test_a_closed_loan_with_money_owed_is_caught(loan: Loan) -> None:
    with pytest.raises(InvariantViolation, match="CLOSED with outstanding 31500"):
        attrs.evolve(loan, status=LoanStatus.CLOSED, completion_date=DAY)


def test_an_application_no_payment_accounts_for_is_caught(loan: Loan) -> None:
    first = loan.installments[0]
    first.applications.append(
        PaymentApplication(
            payment_id="ghost",
            installment_id=first.installment_id,
            amount=250,
            payment_date=DAY,
            origination_fee=250,
        )
    )
    first.outstanding_balance -= 250
    loan.outstanding_balance -= 250
    with pytest.raises(InvariantViolation, match="differ from the payments not reversed"):
        loan.verify()


def test_a_bucket_paid_beyond_its_part_is_caught(loan: Loan) -> None:
    payment = loan.apply_payment("pay-1", 250, process=Process.MANUAL, rail=Rail.ACH, today=DAY)
    [app] = payment.applications
    skewed = attrs.evolve(app, origination_fee=0, late_fee=250)
    loan.installments[0].applications[0] = skewed
    loan.payments["pay-1"].applications = (skewed,)
    with pytest.raises(InvariantViolation, match="late_fee is negative or overpaid"):
        loan.verify()


def test_an_application_whose_parts_do_not_add_up_cannot_exist() -> None:
    with pytest.raises(InvariantViolation, match="must be positive and equal its parts"):
        PaymentApplication(
            payment_id="p", installment_id="i", amount=100, payment_date=DAY, principal=99
        )


def test_defaulted_loans_must_have_autopay_off(loan: Loan) -> None:
    with pytest.raises(InvariantViolation, match="autopay is on for a loan that defaulted"):
        attrs.evolve(
            loan,
            status=LoanStatus.DEFAULTED,
            defaulted_on=DAY,
            installments=[
                attrs.evolve(i, status=InstallmentStatus.DEFAULTED) for i in loan.installments
            ],
        )


def test_timestamps_must_be_utc(loan: Loan) -> None:
    with pytest.raises(InvariantViolation, match="updated_at must be an aware UTC datetime"):
        attrs.evolve(loan, updated_at=dt.datetime(2026, 1, 5, 15))  # noqa: DTZ001 - naive on purpose
