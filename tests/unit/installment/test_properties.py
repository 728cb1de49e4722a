"""Properties that hold for every loan, whatever happens to it."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from loc_core.errors import DomainError
from loc_core.installment import WATERFALL, Installment, Loan, LoanStatus, Process
from loc_core.ledger import Ledger, Side
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.testing.installment import (
    balances_and_statuses,
    ledger_problems,
    loans,
    payment_amounts,
)

REVERSAL = {Rail.ACH: SettlementOutcome.RETURNED, Rail.PINLESS: SettlementOutcome.CHARGED_BACK}

Operation = tuple[str, int, Rail]
operations = st.lists(
    st.tuples(
        st.sampled_from(["days", "pay", "pay", "complete", "reverse"]),
        st.integers(0, 10**6),
        st.sampled_from([Rail.ACH, Rail.PINLESS]),
    ),
    max_size=25,
)


class Driver:
    """Plays operations on a loan, posting every entry it makes into a ledger."""

    def __init__(self, loan: Loan) -> None:
        self.loan = loan
        self.ledger = Ledger(loan.outbox.drain().entries)
        self.today = loan.disbursement_date
        self.count = 0

    def play(self, operation: Operation) -> None:
        kind, number, rail = operation
        loan = self.loan
        if kind == "days":
            for _ in range(number % 30 + 1):
                self.today += dt.timedelta(days=1)
                loan.run_daily(self.today)
        elif kind == "pay" and loan.status is not LoanStatus.CLOSED:
            self.pay(number % loan.outstanding_balance + 1, rail)
        elif kind in {"complete", "reverse"}:
            live = [p for p in loan.payments.values() if not p.status.reversed]
            if live:
                payment = live[number % len(live)]
                outcome = (
                    SettlementOutcome.COMPLETED if kind == "complete" else REVERSAL[payment.rail]
                )
                try:
                    loan.settle(payment.payment_id, outcome, today=self.today)
                except DomainError:
                    assert payment.status is PaymentStatus.COMPLETED  # a second completion
        self.post()

    def pay(self, amount: int, rail: Rail) -> str:
        self.count += 1
        payment_id = f"pay-{self.count}"
        self.loan.apply_payment(
            payment_id, amount, process=Process.MANUAL, rail=rail, today=self.today
        )
        self.post()
        return payment_id

    def post(self) -> None:
        self.ledger.post_all(self.loan.outbox.drain().entries)


def check_balances(installment: Installment) -> None:
    applied = sum(app.amount for app in installment.applications)
    assert installment.outstanding_balance == installment.total_amount - applied
    assert installment.outstanding_balance >= 0
    assert all(installment.unpaid(bucket) >= 0 for bucket in WATERFALL)


@given(loan=loans(), plan=operations)
def test_balances_add_up_and_the_ledger_matches_the_loan_after_any_operations(
    loan: Loan, plan: list[Operation]
) -> None:
    """Outstanding is total less applications; every entry balances; the ledger agrees."""
    driver = Driver(loan)
    for operation in plan:
        driver.play(operation)
        for installment in loan.installments:
            check_balances(installment)
        assert loan.outstanding_balance == sum(i.outstanding_balance for i in loan.installments)
        assert loan.outstanding_balance >= 0
        assert ledger_problems(loan, driver.ledger) == []
    for entry in driver.ledger:
        debits = sum(p.amount for p in entry.postings if p.side is Side.DEBIT)
        assert debits == sum(p.amount for p in entry.postings if p.side is Side.CREDIT)


@given(loan=loans(), plan=operations, data=st.data(), complete_first=st.booleans())
def test_a_payment_applied_then_returned_restores_the_exact_prior_state(
    loan: Loan, plan: list[Operation], data: st.DataObject, *, complete_first: bool
) -> None:
    driver = Driver(loan)
    for operation in plan:
        driver.play(operation)
    if loan.status is LoanStatus.CLOSED:
        return
    before = balances_and_statuses(loan)
    ledger_before = driver.ledger.balances()
    rail = data.draw(st.sampled_from([Rail.ACH, Rail.PINLESS]))
    payment_id = driver.pay(data.draw(payment_amounts(loan)), rail)
    if complete_first:
        loan.settle(payment_id, SettlementOutcome.COMPLETED, today=driver.today)
    loan.settle(payment_id, REVERSAL[rail], today=driver.today)
    driver.post()
    assert balances_and_statuses(loan) == before
    assert driver.ledger.balances() == ledger_before


@given(loan=loans(), data=st.data())
def test_a_payment_pays_oldest_installments_and_fees_first(loan: Loan, data: st.DataObject) -> None:
    driver = Driver(loan)
    driver.play(("days", data.draw(st.integers(0, 60)), Rail.ACH))
    if loan.status is LoanStatus.CLOSED:
        return
    unpaid_before = {i.installment_id: [i.unpaid(b) for b in WATERFALL] for i in loan.installments}
    payment_id = driver.pay(data.draw(payment_amounts(loan)), Rail.ACH)
    applications = loan.payments[payment_id].applications
    touched = [app.installment_id for app in applications]
    order = [i.installment_id for i in loan.installments if sum(unpaid_before[i.installment_id])]
    assert touched == order[: len(touched)]  # oldest first, none skipped
    for app in applications[:-1]:
        assert app.amount == sum(unpaid_before[app.installment_id])  # paid in full
    for app in applications:
        parts = [app.late_fee, app.origination_fee, app.principal]
        capacity = unpaid_before[app.installment_id]
        for index in range(1, 3):
            if parts[index]:  # a later bucket is paid only once the earlier ones are
                assert all(parts[k] == capacity[k] for k in range(index))


@given(loan=loans())
def test_installments_split_principal_and_fee_to_the_cent(loan: Loan) -> None:
    fees = [i.origination_fee for i in loan.installments]
    totals = [i.total_amount for i in loan.installments]
    assert sum(fees) == loan.origination_fee
    assert sum(i.principal for i in loan.installments) == loan.loan_amount
    assert sum(totals) == loan.total_amount
    assert max(fees) - min(fees) <= 1
    assert max(totals) - min(totals) <= 1
    assert fees == sorted(fees, reverse=True)  # front-loaded
    assert all(i.principal >= 0 for i in loan.installments)
