import datetime as dt
import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
from pypdf import PdfReader

from loc_adapters.documents import PdfRenderer
from loc_adapters.documents._page import percent
from loc_adapters.documents._statement import _warnings
from loc_adapters.documents.samples import (
    SAMPLE_BORROWER,
    sample_loan_disclosure,
    sample_statement_disclosure,
    with_transactions,
)
from loc_core.disclosures import (
    LoanDisclosure,
    ScheduledPayment,
    StatementDisclosure,
    StatementTransaction,
)
from loc_core.disclosures.figures import short_date, spoken_date
from loc_core.money import format_cents
from loc_core.ports.documents import DocumentRenderer

RENDERER: DocumentRenderer = PdfRenderer()
ROOT = Path(__file__).parents[3]


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def lines(pdf: bytes) -> list[str]:
    return [line.strip() for text in pages(pdf) for line in text.splitlines()]


def flowing(pdf: bytes) -> str:
    """The text of every page with line breaks and runs of spaces as single spaces."""
    return " ".join(" ".join(pages(pdf)).split())


def schedule_row(payment: ScheduledPayment) -> str:
    """A payment's row as extracted: number, due date, amount."""
    return f"{payment.number} {spoken_date(payment.due_date)} {format_cents(payment.amount)}"


def transaction_row(row: StatementTransaction) -> str:
    """A transaction's row as extracted: date, reference, description, amount."""
    return f"{short_date(row.on)} {row.reference} {row.description} {format_cents(row.amount)}"


def agreement(disclosure: LoanDisclosure | None = None, name: str = SAMPLE_BORROWER) -> bytes:
    return RENDERER.agreement(disclosure or sample_loan_disclosure(), borrower_name=name)


def statement(disclosure: StatementDisclosure | None = None, name: str = SAMPLE_BORROWER) -> bytes:
    return RENDERER.statement(disclosure or sample_statement_disclosure(), borrower_name=name)


def test_dates_read_as_a_borrower_reads_them() -> None:
    assert spoken_date(dt.date(2025, 3, 5)) == "March 5, 2025"
    assert "Date February 28, 2025" in lines(agreement())


def test_agreement_discloses_every_figure() -> None:
    disclosure = sample_loan_disclosure()
    text = flowing(agreement(disclosure))

    for figure in (
        "loc Loan Agreement",
        f"Borrower {SAMPLE_BORROWER}",
        f"Loan number {disclosure.loan_number}",
        f"Date {spoken_date(disclosure.disclosed_on)}",
        (
            "ANNUAL PERCENTAGE RATE The cost of your credit as a yearly rate. "
            f"{percent(disclosure.annual_percentage_rate)}"
        ),
        (
            "FINANCE CHARGE The dollar amount the credit will cost you. "
            f"{format_cents(disclosure.finance_charge)}"
        ),
        (
            "Amount Financed The amount of credit provided to you or on your behalf. "
            f"{format_cents(disclosure.amount_financed)}"
        ),
        (
            "Total of Payments The amount you will have paid after you have made all payments "
            f"as scheduled. {format_cents(disclosure.total_of_payments)}"
        ),
        f"Amount given to you directly {format_cents(disclosure.amount_financed)}",
        f"Amount paid to others on your behalf {format_cents(0)}",
        f"Amount financed {format_cents(disclosure.amount_financed)}",
        (
            f"the origination fee of {format_cents(disclosure.origination_fee)} is added to "
            "your payments"
        ),
        f"Number of payments: {len(disclosure.payments)}",
        f"Late charge: {disclosure.late_charge_terms}",
        "you will not have to pay a penalty",
        f"Borrower: {SAMPLE_BORROWER} Date:",
        "Lender: loc Date:",
    ):
        assert figure in text
    assert "36.71%" in text  # the sample offer's APR as the core computed it, as printed


def test_agreement_lists_each_scheduled_payment_on_its_own_row() -> None:
    disclosure = sample_loan_disclosure()
    rows = lines(agreement(disclosure))

    for payment in disclosure.payments:
        assert schedule_row(payment) in rows
    assert "6 May 23, 2025 $87.50" in rows


def test_eight_installments_fit_one_page() -> None:
    assert len(pages(agreement())) == 1


def test_long_schedule_runs_onto_more_pages_with_its_heading_repeated() -> None:
    disclosure = sample_loan_disclosure(installments=60)
    pdf = agreement(disclosure)
    texts = pages(pdf)
    rows = lines(pdf)

    assert len(texts) >= 2
    for payment in disclosure.payments:
        assert schedule_row(payment) in rows
    assert sum("Payment Due date Amount" in text for text in texts) >= 2
    assert f"page {len(texts)} of {len(texts)}" in texts[-1]
    assert "ANNUAL PERCENTAGE RATE" in flowing(pdf)


def test_statement_discloses_every_figure() -> None:
    disclosure = sample_statement_disclosure()
    text = flowing(statement(disclosure))
    late, minimum = _warnings(disclosure)

    for figure in (
        "loc Line of Credit Statement",
        f"Borrower {SAMPLE_BORROWER}",
        f"Line {disclosure.line_id}",
        f"Statement date {spoken_date(disclosure.statement_date)}",
        (
            f"Billing cycle {spoken_date(disclosure.cycle_start)} to "
            f"{spoken_date(disclosure.cycle_end)} ({disclosure.days_in_cycle} days)"
        ),
        f"Previous balance {format_cents(disclosure.previous_balance)}",
        f"Payments {format_cents(-disclosure.payments)}",
        f"Draws {format_cents(disclosure.draws)}",
        f"Returned payments {format_cents(disclosure.reversals)}",
        f"Adjustments {format_cents(disclosure.adjustments)}",
        f"Fees charged {format_cents(disclosure.fees_charged)}",
        f"Interest charged {format_cents(disclosure.interest_charged)}",
        f"New balance {format_cents(disclosure.new_balance)}",
        f"Credit limit {format_cents(disclosure.credit_limit)}",
        f"Available credit {format_cents(disclosure.available_credit)}",
        f"Past due amount {format_cents(disclosure.past_due_amount)}",
        f"Minimum payment due {format_cents(disclosure.minimum_payment)}",
        f"Payment due date {spoken_date(disclosure.due_date)}",
        late,
        minimum,
        f"Total fees charged this period {format_cents(disclosure.fees_charged)}",
        f"Total interest charged this period {format_cents(disclosure.interest_charged)}",
        f"Total fees charged in 2025 {format_cents(disclosure.fees_year_to_date)}",
        f"Total interest charged in 2025 {format_cents(disclosure.interest_year_to_date)}",
        (
            f"{percent(disclosure.annual_percentage_rate)} "
            f"{percent(disclosure.daily_periodic_rate)} "
            f"{format_cents(disclosure.balance_subject_to_interest)} "
            f"{disclosure.days_in_cycle} {format_cents(disclosure.interest_charged)}"
        ),
    ):
        assert figure in text
    assert "you may have to pay a late fee of up to $5.00, never more than the" in late
    assert (
        "in about 23 years and end up paying an estimated total of $1,389.06" in minimum
    )  # 274 months


def test_statement_lists_each_transaction_on_its_own_row() -> None:
    disclosure = sample_statement_disclosure()
    rows = lines(statement(disclosure))

    for row in disclosure.transactions:
        assert transaction_row(row) in rows
    assert "03/26/2025 PM-0001 Payment, thank you -$125.00" in rows


def test_a_uuid_reference_and_the_longest_description_stay_on_their_row() -> None:
    sample = sample_statement_disclosure()
    row = attrs.evolve(
        sample.transactions[0],
        on=dt.date(2025, 9, 30),
        reference="0b8f3c1e-2a4d-4f6b-9c7e-1d2e3f4a5b6c",
        description="Adjustment to an earlier cycle",
        amount=-99_999_99,
    )

    rows = lines(statement(attrs.evolve(sample, transactions=(row,))))

    assert transaction_row(row) in rows


def test_many_transactions_paginate_and_every_one_is_listed() -> None:
    disclosure = with_transactions(sample_statement_disclosure(), 120)
    pdf = statement(disclosure)
    texts = pages(pdf)
    rows = lines(pdf)

    assert len(texts) >= 3
    assert all("Date Reference Description Amount" in text for text in texts[:-1])
    for row in disclosure.transactions:
        assert transaction_row(row) in rows
    assert "Interest charge calculation" in texts[-1]


def test_a_balance_paying_the_minimum_never_repays_is_warned_so() -> None:
    disclosure = attrs.evolve(
        sample_statement_disclosure(), minimum_payment_months=None, minimum_payment_total=None
    )

    assert "we estimate you will never pay off the balance" in flowing(statement(disclosure))


def test_nothing_owed_leaves_out_the_minimum_payment_warning() -> None:
    disclosure = attrs.evolve(
        with_transactions(sample_statement_disclosure(), 0),
        new_balance=0,
        minimum_payment=0,
        available_credit=150_000,
    )
    text = flowing(statement(disclosure))

    assert "Minimum Payment Warning" not in text
    assert "Late Payment Warning" in text
    assert "No transactions this period." in text


@pytest.mark.parametrize(
    "name",
    [
        "Zoë Åström-Łukasiewicz",
        "Дмитрий Шостакович",
        "Γιώργος Παπαδόπουλος",
        "Nguyễn Thị Minh Khai",
        "José Ñúñez-Çelik Øvergaard",
    ],
)
def test_any_latin_greek_or_cyrillic_name_reads_back(name: str) -> None:
    assert f"Borrower {name}" in lines(agreement(name=name))
    assert f"Borrower {name}" in lines(statement(name=name))
    assert f"Borrower: {name}" in flowing(agreement(name=name))


def test_a_very_long_name_wraps_instead_of_running_off_the_page() -> None:
    name = " ".join(["Maria-Alexandra Konstantinopoulou-Wolfeschlegelsteinhausen"] * 4)
    pdf = agreement(name=name)

    assert name in flowing(pdf)
    assert f"Borrower {name}" not in lines(pdf)  # it takes more than one line


def test_creation_date_and_producer_are_fixed_by_the_document() -> None:
    info = PdfReader(io.BytesIO(agreement())).metadata
    assert info is not None
    assert info.creation_date == dt.datetime(2025, 2, 28, tzinfo=dt.UTC)
    assert info.producer == "loc"
    statement_info = PdfReader(io.BytesIO(statement())).metadata
    assert statement_info is not None
    assert statement_info.creation_date == dt.datetime(2025, 4, 1, tzinfo=dt.UTC)


AGREEMENT_SHA256 = "5cb48f4e035a1276f28d2b1a22ee391d641e0fc71661ee3d5e084a4342db28b3"
STATEMENT_SHA256 = "848b14af5a3f7306f551873ed673002dcca2d78fedd452538da1142adf1239f2"
"""The sample documents' digests with fpdf2 2.8.9: a new fpdf2 may lay out other bytes,
and then these change once, on purpose, with a look at docs/images."""


def test_sample_documents_render_to_their_golden_bytes() -> None:
    assert agreement() == agreement()
    assert hashlib.sha256(agreement()).hexdigest() == AGREEMENT_SHA256
    assert hashlib.sha256(statement()).hexdigest() == STATEMENT_SHA256


def test_another_process_renders_the_same_bytes() -> None:
    script = (
        "import hashlib;"
        "from loc_adapters.documents import PdfRenderer;"
        "from loc_adapters.documents.samples import *;"
        "r = PdfRenderer();"
        "print(hashlib.sha256(r.agreement(sample_loan_disclosure(),"
        " borrower_name=SAMPLE_BORROWER)).hexdigest());"
        "print(hashlib.sha256(r.statement(sample_statement_disclosure(),"
        " borrower_name=SAMPLE_BORROWER)).hexdigest())"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "12345"}
    done = subprocess.run(  # noqa: S603  # this interpreter, a fixed script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    )

    assert done.stdout.split() == [
        hashlib.sha256(agreement()).hexdigest(),
        hashlib.sha256(statement()).hexdigest(),
    ]
