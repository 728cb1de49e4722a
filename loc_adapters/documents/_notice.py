"""A rejected application's adverse action notice: Regulation B's model form C-1, laid out.

The statement of the action taken, the creditor's name and address, the principal
reasons (12 CFR 1002.9(a)(2)(i), (b)(2)), the ECOA notice with the federal agency
(1002.9(b)(1)), and, when the decision used a consumer report, the FCRA 615(a) part
(15 U.S.C. 1681m(a)): the agency, that it did not decide, the free report and the
dispute right, and the credit score with its range, date, source and key factors.
"""

from __future__ import annotations

from loc_adapters.documents._page import Creditor, Page
from loc_core.applications import AdverseActionNotice, ConsumerReport, Counteroffer, CreditScore
from loc_core.bookkeeping import Product
from loc_core.disclosures.figures import spoken_date
from loc_core.errors import InvalidConfiguration
from loc_core.money import format_cents

__all__ = ["ECOA_AGENCY", "render_adverse_action_notice"]

ECOA_AGENCY = "Bureau of Consumer Financial Protection, 1700 G Street NW, Washington DC 20552"
"""The federal agency that administers ECOA compliance for a non-bank creditor
(Appendix A to Part 1002)."""

_ECOA = (
    "The Federal Equal Credit Opportunity Act prohibits creditors from discriminating "
    "against credit applicants on the basis of race, color, religion, national origin, "
    "sex, marital status, age (provided the applicant has the capacity to enter into a "
    "binding contract); because all or part of the applicant's income derives from any "
    "public assistance program; or because the applicant has in good faith exercised any "
    "right under the Consumer Credit Protection Act. The Federal agency that administers "
    "compliance with this law concerning this creditor is the {agency}."
)
"""The ECOA notice of 1002.9(b)(1), as Appendix C's model forms word it."""

_REPORT_USED = (
    "Our credit decision was based in whole or in part on information obtained in a "
    "report from the consumer reporting agency listed below. You have a right under the "
    "Fair Credit Reporting Act to know the information contained in your credit file at "
    "the consumer reporting agency. The reporting agency played no part in our decision "
    "and is unable to supply specific reasons why we have denied credit to you. You also "
    "have a right to a free copy of your report from the reporting agency, if you "
    "request it no later than 60 days after you receive this notice. In addition, if you "
    "find that any information contained in the report you receive is inaccurate or "
    "incomplete, you have the right to dispute the matter with the reporting agency."
)
_SCORE_USED = (
    "We also obtained your credit score from this consumer reporting agency and used it "
    "in making our credit decision. Your credit score is a number that reflects the "
    "information in your consumer report. Your credit score can change, depending on how "
    "the information in your consumer report changes."
)
_LEGAL_SIZE = 8.5
"""The regulations' paragraphs, a little smaller (as an agreement's terms) so a notice
with every part fits one page."""
_PRODUCTS = {Product.INSTALLMENT: "an installment loan", Product.CREDITLINE: "a line of credit"}


def render_adverse_action_notice(
    notice: AdverseActionNotice, *, borrower_name: str, creditor: Creditor
) -> bytes:
    """The adverse action notice of `notice` for `borrower_name`, as PDF bytes.

    Raises:
        InvalidConfiguration: the creditor's address is not set (``LOC_CREDITOR_ADDRESS``):
            the notice must give it (12 CFR 1002.9(a)(2)), so none is rendered; the filing
            alerts and keeps the notice queued until it is set.
    """
    if not creditor.address.strip():
        raise InvalidConfiguration(
            "LOC_CREDITOR_ADDRESS is not set: an adverse action notice must give the "
            "creditor's name and address (12 CFR 1002.9(a)(2))",
            key="LOC_CREDITOR_ADDRESS",
        )
    reference = f"Adverse action notice {notice.application_id}"
    page = Page(title=reference, dated=notice.decided_on, reference=reference, creditor=creditor)
    requested = (
        []
        if notice.requested_amount is None
        else [("Requested", format_cents(notice.requested_amount))]
    )
    offer = notice.counteroffer
    offered = [] if offer is None else [("Offered", format_cents(offer.loan_amount))]
    page.masthead(
        "Statement of Credit Denial" if offer is None else "Counteroffer and Notice of Action",
        [
            ("Applicant", borrower_name),
            ("Application", notice.application_id),
            ("Date", spoken_date(notice.decided_on)),
            *requested,
            *offered,
            ("Creditor", f"{creditor.name}, {creditor.address}"),
        ],
    )
    if offer is None:
        page.heading("Action taken")
        page.paragraph(
            f"Your application for {_PRODUCTS[notice.product]} was declined on "
            f"{spoken_date(notice.decided_on)}: {creditor.name} has denied the credit you "
            "requested."
        )
        page.heading("Principal reasons for the credit denial")
    else:
        _counteroffer(page, notice, offer, creditor=creditor)
        page.heading("Principal reasons we cannot offer the credit you requested")
    for number, reason in enumerate(notice.reasons, start=1):
        page.paragraph(f"{number}. {reason.text} ({reason.code})")
    if offer is not None:
        page.paragraph(_IF_NOT_ACCEPTED.format(creditor=creditor.name), size=_LEGAL_SIZE, bold=True)
    if notice.consumer_report is not None:
        _consumer_report(page, notice.consumer_report)
    page.heading("Notice")
    page.paragraph(_ECOA.format(agency=ECOA_AGENCY), size=_LEGAL_SIZE)
    return bytes(page.output())


_IF_NOT_ACCEPTED = (
    "If you do not accept this offer, or do not use the credit offered, this letter is our "
    "notice of action taken on your application: {creditor} has not granted the credit you "
    "requested, for the reasons above. No other notice will follow."
)
"""Comment 9(a)(1)-6: the combined notice is the adverse action notice should the offer
not be accepted or used."""


def _counteroffer(
    page: Page, notice: AdverseActionNotice, offer: Counteroffer, *, creditor: Creditor
) -> None:
    """Model form C-4's action taken and offer: the credit requested is not granted; this is."""
    asked = notice.requested_amount
    requested = "" if asked is None else f" of {format_cents(asked)}"
    page.heading("Action taken")
    page.paragraph(
        f"We are unable to offer you {_PRODUCTS[notice.product]}{requested} on the terms you "
        f"requested, for the reasons below. We can, however, offer you credit on the terms "
        f"that follow ({creditor.name}'s counteroffer of {spoken_date(notice.decided_on)})."
    )
    accept_by = (
        "the time stated with the offer"
        if offer.accept_by is None
        else f"{spoken_date(offer.accept_by.date())}, {offer.accept_by:%H:%M} UTC"
    )
    page.key_values(
        [
            (
                "Loan amount",
                (
                    f"{format_cents(offer.loan_amount)} (origination fee "
                    f"{format_cents(offer.origination_fee)}; you receive "
                    f"{format_cents(offer.amount_disbursed)})"
                ),
            ),
            (
                "Total of payments",
                f"{format_cents(offer.total_amount)} in {offer.installment_count} installments",
            ),
            ("Offer open until", accept_by),
        ],
        key_width=40,
    )
    page.paragraph(
        "If this offer is acceptable to you, accept it before then. Its loan agreement, "
        "available with the offer, discloses the annual percentage rate, the finance charge "
        "and the payment schedule.",
        size=_LEGAL_SIZE,
    )


def _consumer_report(page: Page, report: ConsumerReport) -> None:
    page.heading("Our use of information from a consumer reporting agency")
    page.paragraph(_REPORT_USED, size=_LEGAL_SIZE)
    page.key_values(
        [
            ("Agency", report.agency_name),
            ("Address", report.agency_address),
            ("Toll-free", report.agency_phone),
        ],
        key_width=34,
    )
    if report.score is not None:
        _score(page, report.score)


def _score(page: Page, score: CreditScore) -> None:
    page.ln(1)
    page.paragraph(_SCORE_USED, size=_LEGAL_SIZE)
    page.key_values(
        [
            ("Your credit score", str(score.value)),
            ("Date", spoken_date(score.created_on)),
            ("Scores range", f"from a low of {score.low} to a high of {score.high}"),
            ("Created by", score.source),
        ],
        key_width=34,
    )
    if score.key_factors:
        page.paragraph("Key factors that adversely affected your credit score:")
        for number, factor in enumerate(score.key_factors, start=1):
            page.paragraph(f"{number}. {factor}")
