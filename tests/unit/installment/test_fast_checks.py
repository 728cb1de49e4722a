"""The fast consistency test of an installment agrees with its full list of problems."""

import datetime as dt
import types
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loc_core.installment import (
    InstallmentStatus,
    Loan,
    LoanStatus,
    PaymentApplication,
    Process,
    _invariants,
)
from loc_core.installment._checks import utc_problems
from loc_core.payments import PaymentStatus, Rail
from loc_core.testing.installment import loans

DAY = dt.date(2026, 1, 19)

amounts = st.integers(-5, 20_000)
edits = st.lists(
    st.one_of(
        st.tuples(st.just("total_amount"), amounts),
        st.tuples(st.just("outstanding_balance"), amounts),
        st.tuples(st.just("principal"), amounts),
        st.tuples(st.just("origination_fee"), amounts),
        st.tuples(st.just("late_fee"), amounts),
        st.tuples(st.just("status"), st.sampled_from(list(InstallmentStatus))),
        st.tuples(st.just("overdue_on"), st.sampled_from([None, DAY])),
        st.tuples(st.just("collection_attempts"), st.sampled_from([0, 1, 3, -1, True])),
        st.tuples(st.just("last_collection_attempt_on"), st.sampled_from([None, DAY])),
        st.tuples(st.just("application"), st.sampled_from(["dup", "foreign", "extra"])),
    ),
    max_size=4,
)


def _pay(loan: Loan, amount: int) -> None:
    """Pay up to `amount` on the day of disbursement, so installments hold applications."""
    paid = min(amount, loan.outstanding_balance)
    if paid:
        today = loan.disbursement_date
        loan.apply_payment("pay-1", paid, process=Process.MANUAL, rail=Rail.ACH, today=today)


@given(loan=loans(), paid=st.integers(0, 40_000), changes=edits)
def test_the_fast_test_passes_exactly_when_no_problem_is_found(
    loan: Loan, paid: int, changes: list[tuple[str, object]]
) -> None:
    _pay(loan, paid)
    for installment in loan.installments:
        for name, value in changes:
            if name != "application":
                setattr(installment, name, value)
            elif installment.applications and value == "dup":
                installment.applications.append(installment.applications[0])
            elif installment.applications and value == "foreign":
                first = installment.applications[0]
                installment.applications[0] = attrs.evolve(first, installment_id="elsewhere")
            elif value == "extra":
                installment.applications.append(
                    PaymentApplication(
                        payment_id="ghost",
                        installment_id=installment.installment_id,
                        amount=100,
                        payment_date=DAY,
                        principal=100,
                    )
                )
        found = installment._problems_found()
        assert installment._consistent() == (not found)
        assert installment.problems() == found


loan_edits = st.lists(
    st.one_of(
        st.tuples(st.just("outstanding_balance"), amounts),
        st.tuples(st.just("total_amount"), amounts),
        st.tuples(st.just("amount_disbursed"), amounts),
        st.tuples(st.just("late_fee"), st.integers(0, 10_000)),
        st.tuples(st.just("loan_amount"), amounts),
        st.tuples(st.just("cap_percent"), st.sampled_from([Decimal(0), Decimal("0.5")])),
        st.tuples(st.just("status"), st.sampled_from(list(LoanStatus))),
        st.tuples(st.just("completion_date"), st.sampled_from([None, DAY])),
        st.tuples(st.just("defaulted_on"), st.sampled_from([None, DAY])),
        st.tuples(st.just("autopay_enabled"), st.booleans()),
        st.tuples(st.just("renumber"), st.integers(0, 3)),
        st.tuples(st.just("swap"), st.integers(0, 3)),
        st.tuples(st.just("foreign"), st.integers(0, 3)),
        st.tuples(st.just("drop_payment"), st.just(0)),
        st.tuples(st.just("payment_amount"), amounts),
        st.tuples(
            st.just("updated_at"),
            st.sampled_from(
                [
                    dt.datetime(2026, 1, 19, 9, tzinfo=dt.timezone(dt.timedelta(0))),
                    dt.datetime(2026, 1, 19, 9, tzinfo=dt.timezone(dt.timedelta(hours=1))),
                    dt.datetime(2026, 1, 19, 9),  # noqa: DTZ001 - a naive time must be refused
                    DAY,
                ]
            ),
        ),
        st.tuples(st.just("payment_status"), st.sampled_from(list(PaymentStatus))),
        st.tuples(st.just("payment_loan"), st.just("elsewhere")),
    ),
    max_size=3,
)


def _edit_loan(loan: Loan, name: str, value: object) -> None:
    installments = loan.installments
    at = value % len(installments) if isinstance(value, int) else 0
    if name == "renumber":
        installments[at].number += 1
    elif name == "swap" and at + 1 < len(installments):
        installments[at], installments[at + 1] = installments[at + 1], installments[at]
    elif name == "foreign":
        installments[at].loan_id = "elsewhere"
    elif name == "late_fee" and isinstance(value, int):
        installments[0].late_fee = value
    elif name == "cap_percent" and isinstance(value, Decimal):
        loan.product = attrs.evolve(loan.product, late_fee_cap_percent=value)
    elif name.startswith("payment_"):
        for payment in loan.payments.values():
            setattr(payment, name.removeprefix("payment_").replace("loan", "loan_id"), value)
    elif name == "drop_payment":
        loan.payments.clear()
    elif name not in {"renumber", "swap"}:
        object.__setattr__(loan, name, value)


@settings(max_examples=300)
@given(loan=loans(), paid=st.integers(1, 40_000), changes=loan_edits)
def test_the_fast_loan_test_passes_exactly_when_no_problem_is_found(
    loan: Loan, paid: int, changes: list[tuple[str, object]]
) -> None:
    _pay(loan, paid)
    for name, value in changes:
        _edit_loan(loan, name, value)
    found = _invariants._problems_found(loan)
    assert _invariants._consistent(loan) == (not found)
    assert loan.problems() == found


@pytest.mark.parametrize(
    ("moment", "accepted"),
    [
        (None, True),
        (dt.datetime(2026, 1, 19, 9, tzinfo=dt.UTC), True),
        (dt.datetime(2026, 1, 19, 9, tzinfo=dt.timezone(dt.timedelta(0))), True),
        (dt.datetime(2026, 1, 19, 9, tzinfo=dt.timezone(dt.timedelta(hours=1))), False),
        (dt.datetime(2026, 1, 19, 9), False),  # noqa: DTZ001 - a naive time must be refused
        (DAY, False),
    ],
)
def test_only_aware_utc_moments_pass(moment: object, *, accepted: bool) -> None:
    assert (utc_problems(types.SimpleNamespace(at=moment), "at") == []) is accepted
