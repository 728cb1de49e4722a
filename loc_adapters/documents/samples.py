"""Fixed disclosures to render for docs, pictures and golden-bytes tests.

Hand-built figures, not computed ones: they show the layout, not the arithmetic.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from loc_core.disclosures import (
    LoanDisclosure,
    ScheduledPayment,
    StatementDisclosure,
    StatementTransaction,
)

__all__ = ["SAMPLE_BORROWER", "sample_loan_disclosure", "sample_statement_disclosure"]

SAMPLE_BORROWER = "Zoë Åström-Łukasiewicz"


def sample_loan_disclosure(*, installments: int = 8) -> LoanDisclosure:
    """A $500 loan with a $25 fee in `installments` biweekly payments from March 2025."""
    first = dt.date(2025, 3, 14)
    amounts = [8_142] * (installments - 1) + [8_145]
    payments = tuple(
        ScheduledPayment(number=n, due_date=first + dt.timedelta(days=14 * (n - 1)), amount=a)
        for n, a in enumerate(amounts, start=1)
    )
    total = sum(amounts)
    return LoanDisclosure(
        user_id="user-0001",
        application_id="app-0001",
        loan_number="LN-2025-000123",
        disclosed_on=dt.date(2025, 2, 28),
        loan_amount=50_000,
        origination_fee=2_500,
        amount_financed=47_500,
        finance_charge=total - 47_500,
        total_of_payments=total,
        annual_percentage_rate=Decimal("139.42"),
        payments=payments,
        grace_days=10,
        late_fee_fixed=1_500,
        late_fee_percent=Decimal(5),
        late_fee_cap_percent=Decimal(25),
    )


def sample_statement_disclosure(*, transactions: int = 6) -> StatementDisclosure:
    """A $1,500 line's March 2025 statement with `transactions` lines (draws and payments)."""
    kinds = (
        ("draw", "Draw to checking ...6789", 30_000),
        ("payment", "Payment, thank you", -12_500),
        ("draw", "Draw to checking ...6789", 15_075),
        ("payment", "Payment, thank you", -5_000),
        ("reversal", "Returned payment (R01)", 5_000),
        ("late_fee", "Late fee", 1_500),
    )
    rows = tuple(
        StatementTransaction(
            on=dt.date(2025, 3, 1) + dt.timedelta(days=(index * 5) % 31),
            kind=kinds[index % len(kinds)][0],
            reference=f"TX-{index + 1:05d}",
            description=kinds[index % len(kinds)][1],
            amount=kinds[index % len(kinds)][2],
        )
        for index in range(transactions)
    )
    return StatementDisclosure(
        user_id="user-0001",
        line_id="LOC-000042",
        statement_date=dt.date(2025, 3, 31),
        cycle_start=dt.date(2025, 3, 1),
        cycle_end=dt.date(2025, 3, 31),
        days_in_cycle=31,
        previous_balance=42_310,
        payments=17_500,
        draws=45_075,
        reversals=5_000,
        adjustments=-250,
        fees_charged=1_500,
        interest_charged=1_617,
        new_balance=77_752,
        credit_limit=150_000,
        available_credit=72_248,
        annual_percentage_rate=Decimal("29.99"),
        daily_periodic_rate=Decimal("0.082164"),
        balance_subject_to_interest=63_615,
        minimum_payment=3_888,
        past_due_amount=0,
        due_date=dt.date(2025, 4, 25),
        late_fee=1_500,
        minimum_payment_months=27,
        minimum_payment_total=105_643,
        transactions=rows,
    )
