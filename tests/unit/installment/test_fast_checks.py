"""The fast consistency test of an installment agrees with its full list of problems."""

import datetime as dt

import attrs
from hypothesis import given
from hypothesis import strategies as st

from loc_core.installment import InstallmentStatus, Loan, PaymentApplication, Process
from loc_core.payments import Rail
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


@given(loan=loans(), paid=st.integers(0, 40_000), changes=edits)
def test_the_fast_test_passes_exactly_when_no_problem_is_found(
    loan: Loan, paid: int, changes: list[tuple[str, object]]
) -> None:
    paid = min(paid, loan.outstanding_balance)
    if paid:
        today = loan.disbursement_date
        loan.apply_payment("pay-1", paid, process=Process.MANUAL, rail=Rail.ACH, today=today)
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
