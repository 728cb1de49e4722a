"""A line lived through its cycles charges exactly what its account-opening disclosure says.

The disclosure is taken from the approved offer before the first draw, as the borrower
gets it; then the in-memory deployment runs the line's days (billing, due, overdue
jobs) and every charge is compared with what the disclosure promised: interest by the
disclosed APR and balance method, from the day of each draw, on principal only; the
late fee of the disclosed amount, on the disclosed day, not before.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from deployment import LINES_OPENED, Deployment

from loc_core.creditline import CreditLineProduct
from loc_core.disclosures import LineDisclosure, line_disclosure
from loc_core.payments import Rail
from loc_core.services.commands import GetLine, GetLineStatement

USER = "user-1"


def interest_by_disclosure(
    disclosure: LineDisclosure, principal_by_day: dict[dt.date, int], first: dt.date, end: dt.date
) -> int:
    """The interest the disclosure promises: each day's end-of-day principal x APR / 365,
    summed over the cycle ``[first, end)``, rounded once, half-up."""
    total = Decimal(0)
    balance = 0
    day = first
    while day < end:
        balance = principal_by_day.get(day, balance)
        total += Decimal(balance) * disclosure.annual_percentage_rate / Decimal(36_500)
        day += dt.timedelta(days=1)
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_a_line_charges_what_its_disclosure_says() -> None:
    world = Deployment.build(now=LINES_OPENED)
    world.users.add(USER)
    product = world.bus.get(CreditLineProduct)
    offer = world.apply_line(USER)
    disclosure = line_disclosure(offer, product)
    line = world.accept_line(offer.application_id, USER)
    assert disclosure.credit_limit == line.credit_limit == 100_000
    assert disclosure.annual_percentage_rate == line.apr

    # Cycle 1 (03-05 .. 04-04): draws on 03-12 and 03-20, interest from each draw's day.
    world.at(dt.date(2026, 3, 12), 10)
    world.draw(line, 40_000, "draw-1")
    world.at(dt.date(2026, 3, 20), 10)
    world.draw(line, 10_000, "draw-2")
    principal = {dt.date(2026, 3, 12): 40_000, dt.date(2026, 3, 20): 50_000}
    # Nothing will be collected: both debit rails are down from now on.
    world.sim.down |= {Rail.PINLESS, Rail.ACH}
    world.run_days(dt.date(2026, 3, 21), dt.date(2026, 4, 5))
    first = world.bus.handle(GetLineStatement(USER, line.line_id, dt.date(2026, 4, 5)))
    assert first.interest_charged == interest_by_disclosure(
        disclosure, principal, dt.date(2026, 3, 5), dt.date(2026, 4, 5)
    )
    assert first.interest_charged == 920  # (40,000 x 24 + 10,000 x 16) x 29.99% / 365
    assert first.fees_charged == 0

    # The minimum goes unpaid. The due date itself is the borrower's: no fee on it.
    due = first.due_date
    assert (due - first.statement_date).days >= disclosure.statement_to_due_days
    world.run_days(dt.date(2026, 4, 6), due)
    assert world.bus.handle(GetLine(USER, line.line_id)).fee_balance == 0
    # The day after the due date (late_fee_days_after_due), the disclosed fee, once.
    late_day = due + dt.timedelta(days=disclosure.late_fee_days_after_due)
    world.run_day(late_day)
    assert world.bus.handle(GetLine(USER, line.line_id)).fee_balance == disclosure.late_fee
    assert disclosure.late_fee == 500
    # Once per billing cycle: the days after it charge nothing more.
    world.run_days(late_day + dt.timedelta(days=1), late_day + dt.timedelta(days=3))
    assert world.bus.handle(GetLine(USER, line.line_id)).fee_balance == disclosure.late_fee

    # Cycle 2 (04-05 .. 05-04): the principal alone bears interest, not the interest or
    # the fee billed (no compounding), so the charge is the disclosed APR on 50,000.
    world.run_days(late_day + dt.timedelta(days=4), dt.date(2026, 5, 5))
    second = world.bus.handle(GetLineStatement(USER, line.line_id, dt.date(2026, 5, 5)))
    assert second.interest_charged == interest_by_disclosure(
        disclosure, {dt.date(2026, 4, 5): 50_000}, dt.date(2026, 4, 5), dt.date(2026, 5, 5)
    )
    assert second.fees_charged == disclosure.late_fee
