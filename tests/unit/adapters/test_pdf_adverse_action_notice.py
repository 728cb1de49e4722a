"""The adverse action notice as a PDF: Regulation B's content, FCRA's when a report was used."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from adverse_actions import REASONS, REPORT

from loc_core.applications import (
    AdverseActionNotice,
    Counteroffer,
    countered_event,
    declined_event,
)
from loc_core.bookkeeping import Product

pytest.importorskip("fpdf", reason="the documents extra is not installed")
from pypdf import PdfReader

from loc_adapters.documents import Creditor, PdfRenderer
from loc_core.errors import InvalidConfiguration

LENDER = Creditor("Fairway Credit LLC", "12 Harbor Street, Portland, ME 04101")

ECOA = (
    "The Federal Equal Credit Opportunity Act prohibits creditors from discriminating "
    "against credit applicants on the basis of race, color, religion, national origin, sex, "
    "marital status, age (provided the applicant has the capacity to enter into a binding "
    "contract); because all or part of the applicant's income derives from any public "
    "assistance program; or because the applicant has in good faith exercised any right "
    "under the Consumer Credit Protection Act. The Federal agency that administers "
    "compliance with this law concerning this creditor is the Bureau of Consumer Financial "
    "Protection, 1700 G Street NW, Washington DC 20552."
)


def text_of(body: bytes) -> str:
    pages = PdfReader(io.BytesIO(body)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def notice(*, report: bool) -> AdverseActionNotice:
    """A loan rejected with five reasons; the notice as its committed event carries it."""
    event = declined_event(
        product=Product.INSTALLMENT,
        user_id="user-0001",
        application_id="app-0009",
        decided_on=dt.date(2026, 3, 5),
        adverse_actions=REASONS,
        requested_amount=80_000,
        consumer_report=REPORT if report else None,
    )
    return AdverseActionNotice.from_event(event)


def test_the_notice_states_the_action_the_creditor_the_reasons_and_the_ecoa_notice() -> None:
    body = PdfRenderer(creditor=LENDER).adverse_action_notice(
        notice(report=False), borrower_name="Zoë Åström"
    )
    text = text_of(body)
    assert "Statement of Credit Denial" in text
    assert "Your application for an installment loan was declined on March 5, 2026" in text
    assert "Requested $800.00" in text
    assert "Creditor Fairway Credit LLC, 12 Harbor Street, Portland, ME 04101" in text
    assert "Fairway Credit LLC has denied the credit you requested" in text
    assert "Applicant Zoë Åström" in text
    assert ECOA in text
    for number, reason in enumerate(REASONS[:4], start=1):
        assert f"{number}. {reason.text} ({reason.code})" in text
    assert REASONS[4].text not in text  # a fifth reason is not stated
    assert "consumer reporting agency" not in text  # no report used: no FCRA part
    assert body == PdfRenderer(creditor=LENDER).adverse_action_notice(
        notice(report=False), borrower_name="Zoë Åström"
    )


def test_a_decision_that_used_a_consumer_report_adds_the_fcra_disclosures() -> None:
    text = text_of(
        PdfRenderer(creditor=LENDER).adverse_action_notice(notice(report=True), borrower_name="A B")
    )
    score = REPORT.score
    assert score is not None
    for expected in (
        "Agency Example Credit Bureau",
        "Address PO Box 0000, Anytown, ST 00000",
        "Toll-free 1-800-555-0199",
        (
            "The reporting agency played no part in our decision and is unable to supply "
            "specific reasons why we have denied credit to you."
        ),
        (
            "a free copy of your report from the reporting agency, if you request it no later "
            "than 60 days after you receive this notice"
        ),
        "you have the right to dispute the matter with the reporting agency",
        "Your credit score 512",
        "Date March 4, 2026",
        "Scores range from a low of 300 to a high of 850",
        "Created by Example Scoring Company",
        *(f"{n}. {factor}" for n, factor in enumerate(score.key_factors, start=1)),
    ):
        assert expected in text
    assert ECOA in text


def test_no_notice_is_rendered_without_the_creditors_address() -> None:
    with pytest.raises(InvalidConfiguration, match="LOC_CREDITOR_ADDRESS is not set"):
        PdfRenderer().adverse_action_notice(notice(report=False), borrower_name="A B")


def test_a_counteroffer_is_stated_as_model_form_c4_with_its_terms_and_its_notice() -> None:
    event = countered_event(
        user_id="user-0001",
        application_id="app-0010",
        decided_on=dt.date(2026, 3, 5),
        adverse_actions=REASONS[:1],
        requested_amount=80_000,
        counteroffer=Counteroffer(
            loan_amount=50_000,
            origination_fee=2_500,
            amount_disbursed=50_000,
            total_amount=52_500,
            installment_count=6,
            accept_by=dt.datetime(2026, 3, 6, 14, tzinfo=dt.UTC),
        ),
        consumer_report=REPORT,
    )
    text = text_of(
        PdfRenderer(creditor=LENDER).adverse_action_notice(
            AdverseActionNotice.from_event(event), borrower_name="A B"
        )
    )
    for expected in (
        "Counteroffer and Notice of Action",
        "Requested $800.00",
        "Offered $500.00",
        "We are unable to offer you an installment loan of $800.00 on the terms you requested",
        "We can, however, offer you credit on the terms that follow",
        "Loan amount $500.00 (origination fee $25.00; you receive $500.00)",
        "Total of payments $525.00 in 6 installments",
        "Offer open until March 6, 2026, 14:00 UTC",
        f"1. {REASONS[0].text} ({REASONS[0].code})",
        (
            "If you do not accept this offer, or do not use the credit offered, this letter is "
            "our notice of action taken on your application"
        ),
        "Agency Example Credit Bureau",
        ECOA,
    ):
        assert expected in text
    assert "Statement of Credit Denial" not in text
