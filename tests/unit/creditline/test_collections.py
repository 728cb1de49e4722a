import copy
import datetime as dt

import pytest
from fakes import refused

from loc_core.creditline import (
    CreditLine,
    CreditLineProduct,
    LineStatus,
)
from loc_core.errors import OutOfOrder
from loc_core.events import DomainEvent, EventType, FieldChange
from loc_core.ledger import CREDIT_LOSS, Bucket, Ledger, allowance, income, receivable
from loc_core.payments import Rail, SettlementOutcome
from loc_core.testing.creditline import disbursed_draw

CLOSE = dt.date(2026, 2, 10)
DUE = dt.date(2026, 3, 3)
MINIMUM = 2_691  # 1,191 interest + 3% of 50,000
PRODUCT = CreditLineProduct()
ONE_DAY = dt.timedelta(days=1)


@pytest.fixture
def billed(line: CreditLine) -> CreditLine:
    disbursed_draw(line, draw_id="d1", amount=50_000, on=dt.date(2026, 1, 12))
    line.bill_cycle(close_date=CLOSE, today=CLOSE, product=PRODUCT)
    line.outbox.drain()
    return line


def pay(line: CreditLine, payment_id: str, amount: int, on: dt.date) -> None:
    line.submit_payment(payment_id=payment_id, amount=amount, rail=Rail.PINLESS, on=on)


def overdue(line: CreditLine, today: dt.date) -> None:
    line.run_overdue(today=today, product=PRODUCT)


# -- due --------------------------------------------------------------------------------


def test_on_the_due_date_the_unpaid_minimum_is_collected(billed: CreditLine) -> None:
    decision = billed.decide_due(today=DUE)
    assert (decision.amount, decision.rails) == (MINIMUM, (Rail.PINLESS, Rail.ACH))
    pay(billed, "p1", 1_000, dt.date(2026, 2, 20))
    assert billed.decide_due(today=DUE).amount == MINIMUM - 1_000
    pay(billed, "p2", 5_000, dt.date(2026, 2, 21))
    assert billed.decide_due(today=DUE).amount == 0  # never below zero


def test_the_due_job_waits_for_billing(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=50_000, on=dt.date(2026, 1, 12))
    line.bill_cycle(close_date=CLOSE, today=CLOSE, product=PRODUCT)
    # Next close, Mar 10, is not billed yet: last_billing_cycle_date is not the latest close.
    line.next_due_date = dt.date(2026, 3, 11)
    assert not line.billing_is_current(dt.date(2026, 3, 11))
    decision = line.decide_due(today=dt.date(2026, 3, 11))
    assert decision.amount == 0
    assert "not billed yet" in decision.reason


def test_the_due_job_acts_only_on_the_due_date_of_a_serviced_line(billed: CreditLine) -> None:
    assert billed.decide_due(today=DUE - ONE_DAY).amount == 0
    assert billed.decide_due(today=DUE + ONE_DAY).amount == 0
    billed.status = LineStatus.DEFAULTED
    assert billed.decide_due(today=DUE).reason == "line is DEFAULTED"


def test_no_statement_no_collection(line: CreditLine) -> None:
    assert line.decide_due(today=dt.date(2026, 1, 20)).reason == "no statement yet"


# -- upcoming ---------------------------------------------------------------------------


def test_the_borrower_hears_seven_days_before_the_due_date_once(billed: CreditLine) -> None:
    assert not billed.decide_upcoming(today=DUE - 8 * ONE_DAY, product=PRODUCT).notify
    notice_day = DUE - 7 * ONE_DAY
    decision = billed.send_upcoming_notice(today=notice_day, product=PRODUCT)
    assert (decision.notify, decision.amount, decision.due_date) == (True, MINIMUM, DUE)
    assert billed.outbox.events == [
        DomainEvent(
            EventType.LOC_PAYMENT_UPCOMING,
            "user-1",
            "line-1",
            notice_day,
            {
                "amount": MINIMUM,
                "due_date": "2026-03-03",
                "autopay": True,
                "autopay_amount": MINIMUM,
            },
        )
    ]
    assert billed.upcoming_notice_cycle == CLOSE
    before = copy.deepcopy(billed)
    billed.send_upcoming_notice(today=notice_day, product=PRODUCT)
    billed.send_upcoming_notice(today=notice_day + ONE_DAY, product=PRODUCT)
    assert billed == before


def test_a_missed_notice_day_is_caught_up_before_the_due_date(billed: CreditLine) -> None:
    assert billed.decide_upcoming(today=DUE - 2 * ONE_DAY, product=PRODUCT).notify
    assert not billed.decide_upcoming(today=DUE, product=PRODUCT).notify


def test_no_notice_when_the_minimum_is_already_paid(billed: CreditLine) -> None:
    pay(billed, "p1", MINIMUM, dt.date(2026, 2, 20))
    decision = billed.decide_upcoming(today=DUE - 7 * ONE_DAY, product=PRODUCT)
    assert (decision.notify, decision.reason) == (False, "nothing is due")


# -- overdue ----------------------------------------------------------------------------


def test_a_met_minimum_is_skipped(billed: CreditLine) -> None:
    pay(billed, "p1", MINIMUM, DUE)
    before = copy.deepcopy(billed)
    decision = billed.run_overdue(today=DUE + ONE_DAY, product=PRODUCT)
    assert (decision.acts, decision.reason) == (False, "nothing is past due")
    assert billed == before


def test_the_borrower_has_the_whole_due_date(billed: CreditLine) -> None:
    before = copy.deepcopy(billed)
    assert not billed.run_overdue(today=DUE, product=PRODUCT).acts
    assert billed == before


def test_an_unpaid_minimum_suspends_fees_and_notifies(billed: CreditLine) -> None:
    late = DUE + ONE_DAY
    decision = billed.run_overdue(today=late, product=PRODUCT)
    assert (decision.suspend, decision.late_fee, decision.default) == (True, 500, False)
    assert billed.status is LineStatus.SUSPENDED
    assert billed.past_due_since == late
    assert billed.fee_balance == 500
    assert billed.late_fee_cycle == CLOSE
    (entry,) = billed.outbox.entries
    assert entry.entry_id == "line-1:2026-02-10:late_fee"
    ledger = Ledger(entries=[entry])
    assert ledger.balance(receivable("line-1", Bucket.FEE)) == 500
    assert ledger.balance(income(Bucket.FEE)) == -500
    assert billed.outbox.events == [
        DomainEvent(
            EventType.LOC_PAST_DUE,
            "user-1",
            "line-1",
            late,
            {
                "line_id": "line-1",
                "line_status": "SUSPENDED",
                "balance": billed.total_balance,
                "past_due_amount": MINIMUM,
                "minimum_outstanding": MINIMUM,
                "next_due_date": "2026-03-31",  # the next statement's (closing 03-10)
                "past_due_since": "2026-03-04",
                "late_fee": 500,
                "statement_date": "2026-02-10",
            },
        )
    ]
    assert [change.process for change in billed.outbox.changes] == ["OVERDUE", "LATE_FEE"]
    assert FieldChange("status", "ACTIVE", "SUSPENDED") in billed.outbox.changes[0].fields


def test_running_overdue_again_changes_nothing(billed: CreditLine) -> None:
    overdue(billed, DUE + ONE_DAY)
    before = copy.deepcopy(billed)
    overdue(billed, DUE + ONE_DAY)
    overdue(billed, DUE + 2 * ONE_DAY)  # still past due: no second fee this cycle
    assert billed == before


def test_the_late_fee_is_never_more_than_the_minimum_it_was_late_on(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=1_000, on=dt.date(2026, 2, 9))
    line.bill_cycle(close_date=CLOSE, today=CLOSE, product=PRODUCT)
    # 1,000 cent-days x 29.99% / 365 = 0.82 -> 1 cent of interest, plus 3% of 1,000.
    assert line.next_minimum_payment_due == 31
    overdue(line, DUE + ONE_DAY)
    assert line.fee_balance == 31


def test_no_fee_when_the_policy_fee_is_zero(billed: CreditLine) -> None:
    billed.run_overdue(today=DUE + ONE_DAY, product=CreditLineProduct(late_fee_cents=0))
    assert billed.status is LineStatus.SUSPENDED
    assert billed.fee_balance == 0
    assert billed.outbox.entries == []


def test_curing_makes_the_line_active_and_draws_work_again(billed: CreditLine) -> None:
    overdue(billed, DUE + ONE_DAY)
    pay(billed, "p1", MINIMUM, DUE + 2 * ONE_DAY)
    assert billed.status is LineStatus.ACTIVE
    disbursed_draw(billed, draw_id="d2", amount=100, on=DUE + 2 * ONE_DAY)
    assert not billed.run_overdue(today=DUE + 3 * ONE_DAY, product=PRODUCT).acts


def test_a_past_due_line_stays_suspended_across_statements(billed: CreditLine) -> None:
    overdue(billed, DUE + ONE_DAY)
    statement = billed.bill_cycle(
        close_date=dt.date(2026, 3, 10), today=dt.date(2026, 3, 10), product=PRODUCT
    )
    assert statement is not None
    assert statement.past_due_amount == MINIMUM
    assert statement.fees_charged == 500
    principal_share = 1_500  # 3% of 50,000
    assert statement.minimum_payment == (
        statement.interest_charged + 500 + principal_share + MINIMUM
    )
    assert (billed.status, billed.past_due_since) == (LineStatus.SUSPENDED, DUE + ONE_DAY)
    today = dt.date(2026, 3, 12)
    assert billed.decide_overdue(today=today, product=PRODUCT).late_fee == 0  # not due yet
    pay(billed, "p1", MINIMUM, today)  # the past-due part cures; the rest is due Mar 31
    assert billed.status is LineStatus.ACTIVE
    assert billed.minimum_payment_outstanding == statement.minimum_payment - MINIMUM


def test_ninety_days_past_due_defaults_and_charges_off(billed: CreditLine) -> None:
    day = DUE + ONE_DAY
    while billed.status is not LineStatus.DEFAULTED:
        if day == billed.next_close_date:
            billed.bill_cycle(close_date=day, today=day, product=PRODUCT)
        overdue(billed, day)
        day += ONE_DAY
    defaulted_on = day - ONE_DAY
    assert defaulted_on == DUE + 90 * ONE_DAY
    assert billed.days_past_due(defaulted_on) == 90
    ledger = Ledger(entries=billed.outbox.entries)
    assert ledger.balance(allowance("line-1")) == -billed.total_balance
    assert ledger.balance(CREDIT_LOSS) == billed.total_balance
    assert billed.outbox.changes[-1].process == "DEFAULT"
    assert billed.accrued_cent_days == 0


def test_a_defaulted_line_accrues_nothing_and_recoveries_release_the_allowance(
    billed: CreditLine,
) -> None:
    overdue(billed, DUE + ONE_DAY)
    billed.run_overdue(
        today=DUE + ONE_DAY,
        product=CreditLineProduct(default_after_days_past_due=1),
    )
    assert (billed.status, billed.accrued_cent_days) == (LineStatus.DEFAULTED, 0)
    owed = billed.total_balance
    statement = billed.bill_cycle(
        close_date=dt.date(2026, 3, 10), today=dt.date(2026, 3, 10), product=PRODUCT
    )
    assert statement is not None
    assert statement.interest_charged == 0
    assert billed.total_balance == owed
    pay(billed, "p1", 10_000, dt.date(2026, 3, 11))
    pay(billed, "p2", 5_000, dt.date(2026, 3, 11))
    billed.settle_payment(
        payment_id="p2", outcome=SettlementOutcome.RETURNED, on=dt.date(2026, 3, 12)
    )
    ledger = Ledger(entries=billed.outbox.entries)
    assert "p1:recovery" in ledger
    assert "p2:charge_off" in ledger
    assert -ledger.balance(allowance("line-1")) == billed.total_balance == owed - 10_000
    assert not billed.decide_overdue(today=dt.date(2026, 3, 12), product=PRODUCT).acts
    pay(billed, "p3", billed.total_balance, dt.date(2026, 3, 13))
    billed.close(on=dt.date(2026, 3, 13), reason="recovered in full")
    assert billed.status is LineStatus.CLOSED
    assert Ledger(entries=billed.outbox.entries).balance(allowance("line-1")) == 0


def test_the_daily_jobs_refuse_to_rewrite_the_past(billed: CreditLine) -> None:
    pay(billed, "p1", 10, dt.date(2026, 3, 5))
    with refused(billed, OutOfOrder):
        overdue(billed, DUE + ONE_DAY)


def test_a_charged_off_line_bills_no_new_minimum_and_is_sent_no_statement(
    billed: CreditLine,
) -> None:
    # Reg Z 1026.5(b)(2)(i): charged off, charging no more interest or fees, the line's
    # cycles still close (its record), but no periodic statement is sent and no minimum
    # is billed: what was past due at charge-off stays past due, and no more.
    billed.run_overdue(
        today=DUE + ONE_DAY, product=CreditLineProduct(default_after_days_past_due=1)
    )
    assert billed.status is LineStatus.DEFAULTED
    billed.outbox.drain()
    march = billed.bill_cycle(
        close_date=dt.date(2026, 3, 10), today=dt.date(2026, 3, 10), product=PRODUCT
    )
    assert march is not None
    assert (march.interest_charged, march.past_due_amount) == (0, MINIMUM)
    assert march.minimum_payment == MINIMUM  # not MINIMUM + 500 fee + 3% of principal
    pay(billed, "p1", 1_000, dt.date(2026, 3, 12))
    billed.settle_payment(
        payment_id="p1", outcome=SettlementOutcome.COMPLETED, on=dt.date(2026, 3, 13)
    )
    told = billed.outbox.events[-1]
    assert told.type is EventType.LOC_PAYMENT_SUCCEEDED
    assert (told.data["line_status"], told.data["next_due_date"]) == ("DEFAULTED", None)
    april = billed.bill_cycle(
        close_date=dt.date(2026, 4, 10), today=dt.date(2026, 4, 10), product=PRODUCT
    )
    assert april is not None
    assert april.minimum_payment == MINIMUM - 1_000
    sent = [event.type for event in billed.outbox.events]
    assert EventType.LOC_STATEMENT_READY not in sent
