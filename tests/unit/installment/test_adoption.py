import datetime as dt

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loc_core.bookkeeping import EntryKind
from loc_core.errors import InvariantViolation
from loc_core.installment import (
    WATERFALL,
    Installment,
    InstallmentStatus,
    LoanStatus,
    PaymentApplication,
    Process,
)
from loc_core.installment.adoption import GoLoan, adopt, problems, readopt, rebuild_payments
from loc_core.installment.legacy import InstallmentParts, split_applications
from loc_core.ledger import CLEARING, CREDIT_LOSS, FUNDING, Ledger, allowance, receivable
from loc_core.payments import PaymentStatus, Rail

NOW = dt.datetime(2024, 1, 5, 15, tzinfo=dt.UTC)
ON = dt.date(2026, 1, 5)


def installment(
    number: int,
    parts: InstallmentParts,
    payments: list[tuple[str, int]],
    *,
    process: Process = Process.CREATION,
) -> Installment:
    """An installment as a Go loan reads: its payments' splits derived by the waterfall."""
    inst_id = f"inst-{number}"
    splits = split_applications([amount for _, amount in payments], parts)
    applications = [
        PaymentApplication(
            payment_id=payment_id,
            installment_id=inst_id,
            amount=amount,
            payment_date=dt.date(2024, 1, 1) + dt.timedelta(days=number * 14 + index),
            late_fee=split.late_fee,
            origination_fee=split.origination_fee,
            principal=split.principal,
        )
        for index, ((payment_id, amount), split) in enumerate(zip(payments, splits, strict=True))
    ]
    total = parts.late_fee + parts.origination_fee + parts.principal
    outstanding = total - sum(amount for _, amount in payments)
    return Installment(
        user_id="u-1",
        loan_id="l-1",
        installment_id=inst_id,
        number=number,
        due_date=dt.date(2024, 1, 1) + dt.timedelta(days=number * 14),
        principal=parts.principal,
        origination_fee=parts.origination_fee,
        late_fee=parts.late_fee,
        total_amount=total,
        outstanding_balance=outstanding,
        status=InstallmentStatus.COMPLETED if outstanding == 0 else InstallmentStatus.SCHEDULED,
        process=process,
        applications=applications,
        created_at=NOW,
        updated_at=NOW,
    )


@st.composite
def go_loans(draw: st.DrawFn) -> GoLoan:
    """A consistent Go loan: installments paid in part or whole by payments spanning them."""
    count = draw(st.integers(min_value=1, max_value=6))
    payment_ids = [f"pay-{k}" for k in range(draw(st.integers(min_value=1, max_value=4)))]
    installments = []
    for number in range(1, count + 1):
        parts = InstallmentParts(
            late_fee=draw(st.integers(min_value=0, max_value=500)),
            origination_fee=draw(st.integers(min_value=0, max_value=500)),
            principal=draw(st.integers(min_value=1, max_value=10_000)),
        )
        left = parts.late_fee + parts.origination_fee + parts.principal
        paid: list[tuple[str, int]] = []
        for payment_id in draw(st.lists(st.sampled_from(payment_ids), unique=True)):
            if left == 0:
                break
            amount = draw(st.integers(min_value=1, max_value=left))
            paid.append((payment_id, amount))
            left -= amount
        autopay = draw(st.booleans())
        installments.append(
            installment(number, parts, paid, process=Process.AUTOPAY if autopay else Process.MANUAL)
        )
    status = draw(st.sampled_from([LoanStatus.OPEN, LoanStatus.DEFAULTED]))
    return GoLoan(
        user_id="u-1",
        loan_id="l-1",
        status=status,
        outstanding_balance=sum(i.outstanding_balance for i in installments),
        installments=tuple(installments),
    )


@given(go_loans())
def test_the_opening_entry_makes_each_receivable_what_the_loan_still_owes(loan: GoLoan) -> None:
    adoption = adopt(loan, on=ON)
    ledger = Ledger([adoption.entry])
    assert adoption.entry.kind == EntryKind.ADOPTED
    assert EntryKind.ADOPTED.value == "adopted"
    assert ledger.trial_balance() == 0
    for index, bucket in enumerate(WATERFALL):
        owed = sum(i.unpaid_parts()[index] for i in loan.installments)
        assert ledger.balance(receivable("l-1", bucket)) == owed
    paid = sum(app.amount for i in loan.installments for app in i.applications)
    assert ledger.balance(CLEARING) == paid
    assert -ledger.balance(FUNDING) == sum(i.principal for i in loan.installments)
    reserved = loan.outstanding_balance if loan.status is LoanStatus.DEFAULTED else 0
    assert -ledger.balance(allowance("l-1")) == ledger.balance(CREDIT_LOSS) == reserved


@given(go_loans())
def test_rebuilt_payments_hold_every_application_once_and_add_up(loan: GoLoan) -> None:
    payments = rebuild_payments(loan)
    stored = sorted(
        (app.payment_id, app.installment_id) for i in loan.installments for app in i.applications
    )
    rebuilt = sorted((a.payment_id, a.installment_id) for p in payments for a in p.applications)
    assert rebuilt == stored
    assert len({p.payment_id for p in payments}) == len(payments)
    for payment in payments:
        assert payment.amount == payment.applied_amount
        assert payment.submitted_on == min(app.payment_date for app in payment.applications)
        assert (payment.status, payment.rail) == (PaymentStatus.COMPLETED, Rail.ACH)
        assert payment.process in {Process.AUTOPAY, Process.MANUAL}


@given(go_loans(), st.integers(min_value=1, max_value=1_000))
def test_a_loan_whose_balances_disagree_is_refused(loan: GoLoan, off: int) -> None:
    first = loan.installments[0]
    broken = attrs.evolve(
        loan,
        installments=(
            attrs.evolve(first, outstanding_balance=first.outstanding_balance + off),
            *loan.installments[1:],
        ),
    )
    found = problems(broken)
    assert found[0].startswith("installment inst-1: outstanding")
    assert any(p.startswith("loan outstanding") for p in found)
    with pytest.raises(InvariantViolation, match="cannot be adopted"):
        adopt(broken, on=ON)


def test_a_payment_across_two_installments_is_one_payment_with_both_parts() -> None:
    first = installment(1, InstallmentParts(0, 250, 5_000), [("pay-1", 5_250)])
    second = installment(
        2, InstallmentParts(0, 250, 5_000), [("pay-1", 300)], process=Process.AUTOPAY
    )
    loan = GoLoan(
        user_id="u-1",
        loan_id="l-1",
        status=LoanStatus.OPEN,
        outstanding_balance=4_950,
        installments=(first, second),
    )
    (payment,) = rebuild_payments(loan)
    assert (payment.amount, payment.process) == (5_550, Process.AUTOPAY)
    assert [(a.installment_id, a.amount) for a in payment.applications] == [
        ("inst-1", 5_250),
        ("inst-2", 300),
    ]
    assert problems(attrs.evolve(loan, outstanding_balance=5_000)) == [
        "loan outstanding 5000 != sum of installments 4950"
    ]


@settings(max_examples=40)
@given(go_loans(), go_loans(), st.data())
def test_adopting_again_brings_the_books_to_the_loan_as_stored_now(
    then: GoLoan, now: GoLoan, data: st.DataObject
) -> None:
    """Whatever the first adoption booked, the two entries hold what adopting now would."""
    rebuilt = rebuild_payments(now)
    kept = [p for p in rebuilt if data.draw(st.booleans())]
    first = adopt(then, on=ON).entry
    stored = {p.payment_id: p for p in kept}
    if adopt(now, on=ON).entry.postings == first.postings and len(kept) < len(rebuilt):
        # the first adoption booked this very loan: its missing items cannot be new
        with pytest.raises(InvariantViolation, match="is booked but not kept"):
            readopt(now, stored=stored, posted=[first], on=ON)
        return
    again = readopt(now, stored=stored, posted=[first], on=ON)
    books = Ledger([first] if again is None else [first, again.entry])
    target = Ledger([adopt(now, on=ON).entry])
    accounts = {p.account for e in [*books.entries(), *target.entries()] for p in e.postings}
    assert {a: books.balance(a) for a in accounts} == {a: target.balance(a) for a in accounts}
    written = set() if again is None else {p.payment_id for p in again.payments}
    assert written == {p.payment_id for p in rebuilt} - {p.payment_id for p in kept}
    if again is not None:
        assert again.entry.entry_id == "l-1:adopted:2"


def test_a_kept_payment_the_go_service_now_applies_otherwise_is_not_adopted_again() -> None:
    parts = InstallmentParts(late_fee=0, origination_fee=250, principal=5_000)
    then = GoLoan(
        user_id="u-1",
        loan_id="l-1",
        status=LoanStatus.OPEN,
        outstanding_balance=4_250,
        installments=(installment(1, parts, [("pay-a", 1_000)]),),
    )
    kept = {p.payment_id: p for p in rebuild_payments(then)}
    posted = [adopt(then, on=ON).entry]
    changed = attrs.evolve(
        then,
        outstanding_balance=3_250,
        installments=(installment(1, parts, [("pay-a", 2_000)]),),
    )
    with pytest.raises(InvariantViolation, match="payment pay-a changed since it was kept"):
        readopt(changed, stored=kept, posted=posted, on=ON)
    reversed_ = attrs.evolve(
        then, outstanding_balance=5_250, installments=(installment(1, parts, []),)
    )
    with pytest.raises(InvariantViolation, match="pay-a is no longer applied"):
        readopt(reversed_, stored=kept, posted=posted, on=ON)
    assert readopt(then, stored=kept, posted=posted, on=ON) is None
