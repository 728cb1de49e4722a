"""An underwriter that rejects with five reasons and a consumer report, for the notice tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from loc_core.applications import AdverseAction, ConsumerReport, CreditScore
from loc_core.installment import OriginationFee
from loc_core.ports import LineDecision, LoanDecision

__all__ = ["REASONS", "REPORT", "Underwriter"]

REASONS = tuple(
    AdverseAction(code, text)
    for code, text in (
        ("INCOME", "Income insufficient for amount of credit requested"),
        ("DELINQUENT", "Delinquent past or present credit obligations with others"),
        ("HISTORY", "Limited credit experience"),
        ("INQUIRIES", "Number of recent inquiries on credit bureau report"),
        ("TENURE", "Length of employment"),
    )
)
"""Five reasons, most important first: the notice states the first four."""

REPORT = ConsumerReport(
    agency_name="Example Credit Bureau",
    agency_address="PO Box 0000, Anytown, ST 00000",
    agency_phone="1-800-555-0199",
    score=CreditScore(
        value=512,
        low=300,
        high=850,
        created_on=dt.date(2026, 3, 4),
        source="Example Scoring Company",
        key_factors=(
            "Serious delinquency",
            "Proportion of balances to credit limits is too high",
            "Length of time accounts have been established",
            "Too many accounts with balances",
            "Number of recent inquiries",
        ),
    ),
)


@attrs.frozen
class Underwriter:
    """Approves loans up to $500.00 and lines for everyone not in `declined`.

    A rejection gives every one of `REASONS`; a loan's also names `REPORT` as used, a
    line's `line_report`.
    """

    declined: frozenset[str] = frozenset({"dora"})
    line_report: ConsumerReport | None = None

    def decide_loan(self, user_id: str, *, requested_amount: int) -> LoanDecision:
        del user_id  # decided by the amount alone
        if requested_amount > 50_000:
            return LoanDecision(approved=False, adverse_actions=REASONS, consumer_report=REPORT)
        return LoanDecision(
            approved=True, loan_amount=requested_amount, fee=OriginationFee.percentage(Decimal(5))
        )

    def decide_line(self, user_id: str) -> LineDecision:
        if user_id in self.declined:
            return LineDecision(
                approved=False, adverse_actions=REASONS, consumer_report=self.line_report
            )
        return LineDecision(
            approved=True,
            credit_limit=100_000,
            apr=Decimal("29.99"),
            minimum_payment_percent=Decimal(3),
        )
