"""Sample documents for docs, pictures and golden-bytes tests, with figures the core computed.

The agreement is an offer `LoanApplication.approve` made for the default product and
`loan_disclosure` disclosed; the statement is the second cycle of a line driven through
the `CreditLine` aggregate (draws, a late payment and its late fee, a returned payment)
and billed by it, disclosed by `statement_disclosure`. Nothing here is typed in by hand,
so a picture in the docs is what a borrower would receive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import attrs

from loc_core.creditline import CreditLine, CreditLineApplication, CreditLineProduct, Statement
from loc_core.disclosures import (
    LineDisclosure,
    LoanDisclosure,
    StatementDisclosure,
    line_disclosure,
    loan_disclosure,
    statement_disclosure,
)
from loc_core.installment import InstallmentProduct, LoanApplication, OriginationFee
from loc_core.payments import Rail, SettlementOutcome

__all__ = [
    "SAMPLE_BORROWER",
    "sample_line_disclosure",
    "sample_loan_disclosure",
    "sample_statement_disclosure",
    "with_transactions",
]

SAMPLE_BORROWER = "Zoë Åström-Łukasiewicz"

_OFFERED_AT = dt.datetime(2025, 2, 28, 15, tzinfo=dt.UTC)
_OPENED = dt.date(2025, 2, 1)
_BILLED = dt.date(2025, 4, 1)
_MINIMUM_PERCENT = Decimal(3)


def sample_loan_disclosure(*, installments: int = 6) -> LoanDisclosure:
    """A $500.00 offer with a 5% fee in `installments` biweekly payments, made Feb 28, 2025."""
    product = InstallmentProduct(max_installments=max(8, installments))
    offer = LoanApplication.approve(
        product=product,
        user_id="user-0001",
        application_id="app-0001",
        loan_number="FM-000123",
        loan_amount=50_000,
        fee=OriginationFee.percentage(Decimal(5)),
        now=_OFFERED_AT,
        installment_count=installments,
    )
    return loan_disclosure(offer, product)


def sample_statement_disclosure() -> StatementDisclosure:
    """The April 1, 2025 statement of a $1,500.00 line at 29.99%: its March cycle."""
    product = CreditLineProduct()
    line = CreditLine(
        line_id="LOC-000042",
        user_id="user-0001",
        application_id="app-0002",
        opened_on=_OPENED,
        credit_limit=150_000,
        apr=Decimal("29.99"),
        minimum_payment_percent=_MINIMUM_PERCENT,
        cycle_day=_OPENED.day,
    )
    statement = _live(line, product)
    return statement_disclosure(
        statement,
        credit_limit=line.credit_limit,
        product=product,
        minimum_payment_percent=line.minimum_payment_percent,
    )


def sample_line_disclosure(product: CreditLineProduct | None = None) -> LineDisclosure:
    """The account-opening disclosure of a $1,500.00 line offer at 29.99%, 3% minimum.

    Approved on February 1, 2025 (the sample statement's line), under `product` (default:
    `CreditLineProduct()`).
    """
    product = product or CreditLineProduct()
    offer = CreditLineApplication.approved(
        application_id="app-0002",
        user_id="user-0001",
        created_at=dt.datetime.combine(_OPENED, dt.time(14), dt.UTC),
        credit_limit=150_000,
        apr=Decimal("29.99"),
        minimum_payment_percent=_MINIMUM_PERCENT,
        product=product,
    )
    return line_disclosure(offer, product)


def with_transactions(disclosure: StatementDisclosure, count: int) -> StatementDisclosure:
    """`disclosure` listing `count` transactions (its own, repeated): a layout test's input."""
    own = disclosure.transactions
    rows = tuple(
        attrs.evolve(own[index % len(own)], reference=f"TX-{index + 1:05d}")
        for index in range(count)
    )
    return attrs.evolve(disclosure, transactions=rows)


def _live(line: CreditLine, product: CreditLineProduct) -> Statement:
    """Live the line from its opening to its second close; the second statement."""

    def draw(draw_id: str, amount: int) -> Callable[[dt.date], object]:
        def act(on: dt.date) -> object:
            line.request_draw(draw_id=draw_id, amount=amount, on=on)
            return line.disburse_draw(draw_id=draw_id, rail=Rail.RTP, on=on)

        return act

    def pay(payment_id: str, amount: int) -> Callable[[dt.date], object]:
        return lambda on: line.submit_payment(
            payment_id=payment_id, amount=amount, rail=Rail.ACH, on=on
        )

    def returned(payment_id: str) -> Callable[[dt.date], object]:
        return lambda on: line.settle_payment(
            payment_id=payment_id, outcome=SettlementOutcome.RETURNED, on=on
        )

    acts: dict[dt.date, Callable[[dt.date], object]] = {
        dt.date(2025, 2, 3): draw("DR-0001", 42_000),
        dt.date(2025, 3, 3): draw("DR-0002", 30_000),
        dt.date(2025, 3, 11): draw("DR-0003", 15_075),
        dt.date(2025, 3, 26): pay("PM-0001", 12_500),  # after the March 24 due date: late
        dt.date(2025, 3, 27): pay("PM-0002", 5_000),
        dt.date(2025, 3, 31): returned("PM-0002"),
    }
    statement = None
    day = _OPENED
    while day <= _BILLED:
        if day.day == line.cycle_day and day > _OPENED:
            statement = line.bill_cycle(close_date=day, today=day, product=product)
        if day in acts:
            acts[day](day)
        line.run_overdue(today=day, product=product)
        day += dt.timedelta(days=1)
    if statement is None:  # pragma: no cover - the dates above always bill on April 1
        raise AssertionError("the sample line was not billed")
    return statement
