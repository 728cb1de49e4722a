"""Billing-error disputes on a line (Reg Z 1026.13), through the bus: notice, hold, resolution.

An error found is an effective-dated correction as of the disputed charge's own date: the
expected figures here are computed independently (interest by hand, or a twin line that
never had the charge).
"""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
from deployment import Deployment

from loc_adapters.iterable import contract
from loc_core.creditline import CreditLine, DisputedCharge, DisputeStatus, LineStatus
from loc_core.errors import (
    CorrectionTooOld,
    IdempotencyConflict,
    InvalidRequest,
    InvalidTransition,
    NotFound,
)
from loc_core.events import EventType
from loc_core.ledger import BILLING_ERRORS, Bucket, income, receivable, refund_due
from loc_core.ports import Severity
from loc_core.services.commands import (
    DisputeBillingError,
    ReconcileLine,
    ResolveBillingDispute,
)

STATEMENT = dt.date(2026, 4, 5)
"""The `billed` line's first statement: 40,000 drawn 03-12, 789 interest, 1,989 due 04-27."""
DUE = dt.date(2026, 4, 27)
APR = Decimal("29.99")


def interest(cent_days: int) -> int:
    """A cycle's interest by the daily-balance method, rounded once half-up."""
    exact = Decimal(cent_days) * APR / Decimal(36_500)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def dispute(
    world: Deployment,
    line: CreditLine,
    amount: int,
    *,
    charge: DisputedCharge = DisputedCharge.DRAW,
    draw_id: str | None = "",
    key: str = "dsp-1",
    on: dt.date = STATEMENT,
    text: str = "the draw of 03-12 was $100.00, not $400.00",
) -> str:
    if draw_id == "":
        draw_id = next(iter(world.line(line).draws)) if charge is DisputedCharge.DRAW else None
    command = DisputeBillingError(
        line.user_id, line.line_id, on, charge, amount, text, key, draw_id
    )
    return world.bus.handle(command).dispute_id


def resolve(world: Deployment, line: CreditLine, dispute_id: str, *, error: bool) -> None:
    world.bus.handle(
        ResolveBillingDispute(line.user_id, line.line_id, dispute_id, error, "we checked")
    )


def told(world: Deployment, kind: EventType) -> list[dict[str, object]]:
    return [dict(event.data) for event in world.notifier.sent if event.type is kind]


def books_agree(world: Deployment, line: CreditLine) -> None:
    """Balanced books equal to the line's buckets and credit balance; reconciliation clean."""
    books = world.ledger(line.line_id)
    assert books.trial_balance() == 0
    for bucket, owed in (
        (Bucket.PRINCIPAL, line.principal_balance),
        (Bucket.INTEREST, line.interest_balance),
        (Bucket.FEE, line.fee_balance),
    ):
        assert books.balance(receivable(line.line_id, bucket)) == owed
    assert -books.balance(refund_due(line.line_id)) == line.refunds_due
    assert world.bus.handle(ReconcileLine(line.user_id, line.line_id)).matches


def test_an_error_found_after_the_borrower_paid_is_a_refund_due_of_the_amount_and_its_interest(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 10))
    dispute_id = dispute(world, billed, 10_000)
    (ack,) = told(world, EventType.LOC_BILLING_DISPUTE_ACKNOWLEDGED)
    assert set(ack) == contract.DATA_FIELDS[EventType.LOC_BILLING_DISPUTE_ACKNOWLEDGED]
    assert (ack["charge_date"], ack["resolve_by"]) == ("2026-03-12", "2026-07-04")
    paid = world.pay_line(billed, 40_789).payment_id  # all of it, the disputed part too
    world.at(dt.date(2026, 4, 20))
    resolve(world, billed, dispute_id, error=True)
    line = world.line(billed)
    # 03-12..04-04 at 30,000 instead of 40,000: the statement's interest was 789
    removed = 789 - interest(30_000 * 24)
    assert removed == 197
    refund = line.payments[paid].refund
    assert refund is not None
    assert (line.total_balance, line.refunds_due, refund.amount) == (0, 10_197, 10_197)
    resolved = line.disputes[dispute_id]
    assert resolved.status is DisputeStatus.RESOLVED_ERROR
    assert (resolved.credited, resolved.finance_charge) == (10_197, 197)
    (notice,) = told(world, EventType.LOC_BILLING_DISPUTE_RESOLVED)
    assert set(notice) == contract.DATA_FIELDS[EventType.LOC_BILLING_DISPUTE_RESOLVED]
    assert (notice["credited"], notice["refunds_due"]) == (10_197, 10_197)
    assert [e["amount"] for e in told(world, EventType.REFUND_DUE)] == [10_197]
    assert "refund due" in world.alert_titles()
    books_agree(world, line)
    assert world.ledger(billed.line_id).balance(BILLING_ERRORS) == 10_000
    entries, sent = len(world.ledger(billed.line_id)), len(world.notifier.sent)
    resolve(world, billed, dispute_id, error=True)  # delivered twice: once
    assert world.line(billed) == line
    assert (len(world.ledger(billed.line_id)), len(world.notifier.sent)) == (entries, sent)
    # The next statement shows the correction as adjustments; its figures are the books'.
    world.at(dt.date(2026, 5, 5), 8)
    world.bill()
    statement = world.line(billed).last_statement
    assert statement is not None
    assert statement.opening.total == 40_789  # the issued statement's new balance
    assert sorted(a.amount for a in statement.adjustments) == [197, 10_000]
    assert statement.interest_charged == interest(30_000 * 5)  # 04-05..04-09, paid 04-10
    assert statement.interest_year_to_date == 592 + statement.interest_charged
    assert statement.closing.total == 0
    assert statement.closing_credit == 10_197 - statement.interest_charged
    billed_now = world.line(billed)
    assert -world.ledger(billed.line_id).balance(income(Bucket.INTEREST)) == (
        statement.interest_year_to_date
    )
    books_agree(world, billed_now)


def test_a_draw_found_in_error_two_cycles_later_leaves_the_interest_of_a_line_without_it(
    world: Deployment,
) -> None:
    line, twin = world.open_line("user-1"), world.open_line("user-2")
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    world.draw(twin, 40_000)
    world.at(dt.date(2026, 3, 20))
    disputed = world.draw(line, 10_000, key="draw-2").draw_id  # mid-cycle, in error
    world.at(STATEMENT, 8)
    world.bill()
    world.at(dt.date(2026, 4, 10))
    dispute_id = dispute(world, line, 10_000, draw_id=disputed)
    for paid_on, close in (
        (dt.date(2026, 4, 20), dt.date(2026, 5, 5)),
        (dt.date(2026, 5, 20), dt.date(2026, 6, 5)),
    ):
        world.at(paid_on)  # the same payments on both, each above either minimum
        world.pay_line(line, 2_500, key=f"pay-{paid_on}")
        world.pay_line(twin, 2_500, key=f"pay-{paid_on}")
        world.at(close, 8)
        world.bill()
    world.at(dt.date(2026, 6, 10))
    assert world.line(line).interest_balance > world.line(twin).interest_balance
    resolve(world, line, dispute_id, error=True)
    world.at(dt.date(2026, 7, 5), 8)
    world.bill()
    corrected, never = world.line(line), world.line(twin)
    assert corrected.last_statement is not None
    assert never.last_statement is not None
    assert corrected.last_statement.interest_charged == never.last_statement.interest_charged
    assert (
        corrected.last_statement.interest_year_to_date == never.last_statement.interest_year_to_date
    )
    assert corrected.balances == never.balances
    assert corrected.last_statement.closing == never.last_statement.closing
    assert corrected.last_statement.minimum_payment == never.last_statement.minimum_payment
    books_agree(world, corrected)


def test_a_disputed_interest_charge_found_in_error_leaves_the_year_to_date_interest(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 10))
    dispute_id = dispute(world, billed, 300, charge=DisputedCharge.INTEREST)
    resolve(world, billed, dispute_id, error=True)
    line = world.line(billed)
    assert (line.principal_balance, line.interest_balance) == (40_000, 489)
    books_agree(world, line)
    world.at(dt.date(2026, 5, 5), 8)
    world.bill()
    statement = world.line(billed).last_statement
    assert statement is not None
    assert statement.interest_year_to_date == 489 + statement.interest_charged
    assert [a.amount for a in statement.adjustments] == [300]


def test_a_late_fee_found_in_error_is_taken_off_and_the_line_is_not_past_due_meanwhile(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 28), 16)
    world.overdue()  # nothing paid by 04-27: SUSPENDED, a late fee
    fee = world.line(billed).fee_balance
    assert fee > 0
    world.at(dt.date(2026, 5, 5), 8)
    world.bill()
    world.at(dt.date(2026, 5, 6))
    dispute_id = dispute(world, billed, fee, charge=DisputedCharge.LATE_FEE, on=dt.date(2026, 5, 5))
    resolve(world, billed, dispute_id, error=True)
    line = world.line(billed)
    assert line.fee_balance == 0
    assert line.disputes[dispute_id].credited == fee
    books_agree(world, line)


def test_no_error_found_is_owed_again_from_a_new_due_date_and_late_only_after_it(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 10))
    dispute_id = dispute(world, billed, 1_000)
    world.run_days(dt.date(2026, 4, 11), DUE)
    line = world.line(billed)
    assert [p.amount for p in line.payments.values()] == [989]  # the undisputed part only
    world.at(dt.date(2026, 5, 1))
    resolve(world, billed, dispute_id, error=False)
    (notice,) = told(world, EventType.LOC_BILLING_DISPUTE_RESOLVED)
    assert (notice["disputed_amount_due"], notice["disputed_amount_due_date"]) == (
        1_000,
        "2026-05-22",  # 05-01 + 21 days, a statement's time
    )
    world.run_days(dt.date(2026, 5, 2), dt.date(2026, 5, 22))
    assert world.line(billed).status is LineStatus.ACTIVE
    world.run_day(dt.date(2026, 5, 23))
    late = world.line(billed)
    assert late.status is LineStatus.SUSPENDED
    assert late.past_due_since == dt.date(2026, 5, 23)


D, F, INT = DisputedCharge.DRAW, DisputedCharge.LATE_FEE, DisputedCharge.INTEREST
REFUSED = InvalidRequest


@pytest.mark.parametrize(
    ("asked", "error", "field"),
    [
        pytest.param((D, "nope", 100, "dsp-2"), REFUSED, "draw_id", id="not-on-it"),
        pytest.param((D, None, 100, "dsp-2"), REFUSED, "draw_id", id="no-draw"),
        pytest.param((D, "", 39_901, "dsp-2"), REFUSED, "amount", id="above-the-draw"),
        pytest.param((INT, None, 790, "dsp-2"), REFUSED, "amount", id="above-interest"),
        pytest.param((F, None, 100, "dsp-2"), REFUSED, "charge", id="no-late-fee"),
        pytest.param((INT, "", 100, "dsp-2"), REFUSED, "draw_id", id="draw-on-interest"),
        pytest.param((D, "", 0, "dsp-2"), REFUSED, "amount", id="nothing"),
        pytest.param((D, "", 200, "dsp-1"), IdempotencyConflict, None, id="key-reused"),
    ],
)
def test_a_bad_notice_is_refused_and_changes_nothing(
    world: Deployment,
    billed: CreditLine,
    asked: tuple[DisputedCharge, str | None, int, str],
    error: type[Exception],
    field: str | None,
) -> None:
    charge, draw_id, amount, key = asked
    world.at(dt.date(2026, 4, 10))
    dispute(world, billed, 100)  # 100 of the draw disputed already: 39,900 left
    if charge is DisputedCharge.INTEREST and draw_id == "":
        draw_id = next(iter(world.line(billed).draws))
    before, sent = world.line(billed), len(world.notifier.sent)
    with pytest.raises(error) as refused:
        dispute(world, billed, amount, charge=charge, draw_id=draw_id, key=key)
    if field is not None:
        assert getattr(refused.value, "key", None) == field
    assert world.line(billed) == before
    assert len(world.notifier.sent) == sent


def test_a_notice_for_no_statement_or_more_than_60_days_after_it_is_refused(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 10))
    with pytest.raises(NotFound):
        dispute(world, billed, 100, on=dt.date(2026, 4, 6))
    world.at(dt.date(2026, 6, 5))  # 61 days after it
    world.bill()
    with pytest.raises(InvalidRequest, match="within 60 days"):
        dispute(world, billed, 100)
    assert world.line(billed).disputes == {}


def test_an_error_found_beyond_the_correction_reach_is_refused_alerted_and_still_held(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(dt.date(2026, 6, 4))  # the 60th day: the draw of 03-12 is 84 days old
    dispute_id = dispute(world, billed, 40_000)
    held = world.line(billed).disputes[dispute_id]
    assert held.resolve_by == dt.date(2026, 7, 10)  # 03-12 + 120 days, before 1026.13's
    world.at(dt.date(2026, 7, 11))
    before = world.line(billed)
    with pytest.raises(CorrectionTooOld):
        resolve(world, billed, dispute_id, error=True)
    assert world.line(billed) == before
    assert world.line(billed).disputes[dispute_id].is_open
    (alert,) = world.alerts(Severity.CRITICAL)
    assert alert.title == "billing error found but not credited: credit it by hand"


def test_a_resolved_dispute_cannot_be_resolved_otherwise(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 10))
    dispute_id = dispute(world, billed, 100)
    resolve(world, billed, dispute_id, error=False)
    with pytest.raises(InvalidTransition):
        resolve(world, billed, dispute_id, error=True)
    with pytest.raises(NotFound):
        resolve(world, billed, "dispute-none", error=True)
