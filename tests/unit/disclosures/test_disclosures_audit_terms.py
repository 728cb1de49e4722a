"""The agreement's late-charge and prepayment terms say what the loan actually does.

An examiner reads 12 CFR 1026.18(l) (when a late charge is imposed) and 1026.18(k)
(a prepayment penalty, and whether a finance charge not figured on the unpaid balance is
rebated) against the loan the library makes from the offer and collects.
"""

import datetime as dt
import io
from decimal import Decimal

from deployment import Deployment
from pypdf import PdfReader

from loc_adapters.documents import PdfRenderer
from loc_adapters.documents.samples import sample_loan_disclosure
from loc_core.disclosures import LoanDisclosure, loan_disclosure, spoken_date
from loc_core.installment import InstallmentProduct, LoanStatus
from loc_core.money import format_cents

OPENED = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
"""A Monday: the $300.00 offer is approved and accepted at once."""


def agreement_text(disclosure: LoanDisclosure) -> str:
    """The rendered agreement's words, read back from the PDF, on one line."""
    pdf = PdfRenderer().agreement(disclosure, borrower_name="Ana Borrower")
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    return " ".join(" ".join(pages).split())


def opened(world: Deployment) -> tuple[LoanDisclosure, str]:
    """The loan of a $300.00 offer accepted at once (no autopay), and its disclosure."""
    loan = world.open_loan(autopay=False)
    disclosure = loan_disclosure(world.loan_application(loan.application_id), loan.product)
    assert [(p.due_date, p.amount) for p in disclosure.payments] == [
        (i.due_date, i.total_amount) for i in loan.installments
    ]
    return disclosure, loan.loan_id


def test_the_late_charge_falls_on_the_day_the_agreement_says() -> None:
    world = Deployment.build(now=OPENED)
    disclosure, loan_id = opened(world)
    first = disclosure.payments[0]
    grace = disclosure.grace_days
    # The daily job (17:00 UTC) charges an installment still unpaid `grace` days after its
    # due date: a payment exactly 5 days late, made that evening, already owes the fee.
    world.at(first.due_date + dt.timedelta(days=grace - 1), hour=17)
    world.run_daily_loan_job()
    assert world.loan(loan_id).installments[0].late_fee == 0
    world.at(first.due_date + dt.timedelta(days=grace), hour=17)
    world.run_daily_loan_job()
    fee = world.loan(loan_id).installments[0].late_fee
    assert fee == min(500, 263)  # 5 % of $52.50, half-up

    assert disclosure.late_charge_terms == (
        "If any part of a payment is still unpaid 5 days after its due date, you will be "
        "charged $5.00 or 5% of the payment, whichever is less; all late charges together "
        "stay at or below 25% of the loan amount."
    )
    assert f"Late charge: {disclosure.late_charge_terms}" in agreement_text(disclosure)


def test_a_product_without_grace_charges_after_the_due_date_as_disclosed() -> None:
    product = InstallmentProduct(grace_days=0)
    world = Deployment.build(now=OPENED, overrides={InstallmentProduct: product})
    disclosure, loan_id = opened(world)
    due = disclosure.payments[0].due_date
    world.at(due, hour=17)
    world.run_daily_loan_job()
    assert world.loan(loan_id).installments[0].late_fee == 0  # the due date is not late
    world.at(due + dt.timedelta(days=1), hour=17)
    world.run_daily_loan_job()
    assert world.loan(loan_id).installments[0].late_fee == 263
    assert disclosure.late_charge_terms.startswith(
        "If any part of a payment is still unpaid after its due date, you will be charged"
    )


def test_late_charge_percents_print_as_a_borrower_reads_them() -> None:
    # Decimal('10').normalize() is Decimal('1E+1'): a valid policy, never printed as such
    product = InstallmentProduct(
        late_fee_percent=Decimal(10).normalize(), late_fee_cap_percent=Decimal("2.5E+1")
    )
    world = Deployment.build(now=OPENED, overrides={InstallmentProduct: product})
    disclosure, _ = opened(world)
    assert "E+" not in agreement_text(disclosure)
    assert "$5.00 or 10% of the payment" in disclosure.late_charge_terms
    assert "at or below 25% of the loan amount" in disclosure.late_charge_terms


def test_paying_off_early_refunds_no_finance_charge_and_the_agreement_says_so() -> None:
    world = Deployment.build(now=OPENED)
    disclosure, loan_id = opened(world)
    world.at(OPENED.date() + dt.timedelta(days=1))
    loan = world.loan(loan_id)
    world.pay_loan(loan, loan.outstanding_balance)
    paid_off = world.loan(loan_id)
    # paid in full the next day: the whole finance charge was paid, none of it refunded
    assert paid_off.status is LoanStatus.CLOSED
    assert loan.outstanding_balance == disclosure.total_of_payments
    assert disclosure.finance_charge == disclosure.origination_fee > 0

    text = agreement_text(disclosure)
    assert "if you pay off early, you will not have to pay a penalty" in text
    assert (
        "If you pay off early, you will not be entitled to a refund of any part of the "
        f"finance charge ({format_cents(disclosure.finance_charge)})"
    ) in text


def test_the_longest_default_schedule_fits_one_page_with_its_signatures() -> None:
    # The product allows 8 installments; the agreement promises they fit one page.
    disclosure = sample_loan_disclosure(installments=InstallmentProduct().max_installments)
    pdf = PdfRenderer().agreement(disclosure, borrower_name="Ana Borrower")
    [page] = PdfReader(io.BytesIO(pdf)).pages
    text = page.extract_text()
    assert "Payment Due date Amount" in text
    assert "Borrower: Ana Borrower" in text
    assert f"8 {spoken_date(disclosure.payments[-1].due_date)}" in text
