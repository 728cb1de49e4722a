import datetime as dt

from deployment import Deployment
from fakes import CrashingUnitOfWork, crash_after, declining, timing_out

from loc_core.creditline import CreditLine, LineStatus
from loc_core.ledger import Bucket, income, receivable
from loc_core.payments import Direction, PaymentStatus, Rail, SettlementOutcome
from loc_core.ports import SettlementEvent, UnitOfWork
from loc_core.services.kit import lock_key
from loc_core.services.lines import due_payment_id

DUE = dt.date(2026, 4, 27)
"""The first statement's due date: 04-05 + 21 days, rolled from Sunday to Monday."""
MINIMUM = 1_989


def sent_since(world: Deployment, count: int) -> list[str]:
    return world.sent()[count:]


# --- upcoming (14:00) -----------------------------------------------------------------


def test_the_reminder_goes_out_seven_days_ahead_once_per_cycle(
    world: Deployment, billed: CreditLine
) -> None:
    before = len(world.notifier.sent)
    world.at(dt.date(2026, 4, 19), 14)
    assert world.upcoming().acted == ()  # eight days ahead: too early, and not even found
    world.at(dt.date(2026, 4, 20), 14)
    assert world.upcoming().acted == (billed.line_id,)
    assert world.upcoming().skipped == (billed.line_id,)
    world.at(dt.date(2026, 4, 21), 14)
    assert world.upcoming().acted == ()
    assert sent_since(world, before) == ["loc_payment_upcoming"]
    notice = world.notifier.sent[-1]
    assert (notice.data["amount"], notice.data["due_date"]) == (MINIMUM, "2026-04-27")


def test_a_missed_reminder_day_is_caught_up_later_in_the_window(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 24), 14)
    assert world.upcoming().acted == (billed.line_id,)


def test_no_reminder_when_the_minimum_is_already_paid(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 15), 10)
    world.pay_line(billed, MINIMUM)
    world.at(dt.date(2026, 4, 20), 14)
    assert world.upcoming().acted == ()
    assert "loc_payment_upcoming" not in world.sent()


# --- due (15:00) ----------------------------------------------------------------------


def test_the_due_job_collects_the_minimum_by_pinless_once(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(DUE, 15)
    report = world.due()
    assert report.acted == (billed.line_id,)
    key = due_payment_id(billed.line_id, DUE, Rail.PINLESS)
    (transfer,) = world.sim.submitted[1:]
    assert (transfer.idempotency_key, transfer.direction, transfer.amount) == (
        key,
        Direction.DEBIT,
        MINIMUM,
    )
    line = world.line(billed)
    payment = line.payments[key]
    assert (payment.paid_interest, payment.paid_principal, payment.status) == (
        789,
        1_200,
        PaymentStatus.PENDING,
    )
    assert (line.interest_balance, line.principal_balance, line.minimum_payment_outstanding) == (
        0,
        38_800,
        0,
    )
    assert world.due().skipped == (billed.line_id,)
    assert len(world.sim.submitted) == 2


def test_a_rerun_the_same_day_charges_nothing_more_even_after_a_chargeback(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(DUE, 15)
    world.due()
    key = due_payment_id(billed.line_id, DUE, Rail.PINLESS)
    event = SettlementEvent(
        event_id="cb-1",
        idempotency_key=key,
        confirmation_id="x",
        rail=Rail.PINLESS,
        outcome=SettlementOutcome.CHARGED_BACK,
        occurred_at=world.clock.now(),
    )
    world.settle(event)
    assert world.line(billed).minimum_payment_outstanding == MINIMUM
    world.at(DUE, 18)
    assert world.due().skipped == (billed.line_id,)
    assert len(world.sim.submitted) == 2


def test_a_declined_pinless_debit_falls_back_to_ach(world: Deployment, billed: CreditLine) -> None:
    world.rails.handler = declining(world.sim, {Rail.PINLESS})
    world.at(DUE, 15)
    world.due()
    line = world.line(billed)
    assert list(line.payments) == [due_payment_id(billed.line_id, DUE, Rail.ACH)]
    assert [call.rail for call in world.rails.calls[1:]] == [Rail.PINLESS, Rail.ACH]


def test_when_both_rails_decline_nothing_is_taken_or_applied(
    world: Deployment, billed: CreditLine
) -> None:
    world.rails.handler = declining(world.sim, {Rail.PINLESS, Rail.ACH})
    world.at(DUE, 15)
    assert world.due().skipped == (billed.line_id,)
    assert world.due().skipped == (billed.line_id,)
    assert world.line(billed).payments == {}
    assert len(world.sim.submitted) == 1  # the draw only
    assert world.metrics.count("loc.lines.loc_due.declined") == 2


def test_a_pinless_rail_that_cannot_be_reached_falls_back_to_ach(
    world: Deployment, billed: CreditLine
) -> None:
    world.sim.down = {Rail.PINLESS}  # RailUnavailable: the request never left
    world.at(DUE, 15)
    assert world.due().acted == (billed.line_id,)
    assert [call.rail for call in world.rails.calls[1:]] == [Rail.PINLESS, Rail.ACH]
    assert list(world.line(billed).payments) == [due_payment_id(billed.line_id, DUE, Rail.ACH)]
    assert world.line(billed).minimum_payment_outstanding == 0


def test_a_rail_timing_out_after_sending_stops_the_attempt_until_a_rerun(
    world: Deployment, billed: CreditLine
) -> None:
    # The outcome is unknown: ACH must not be asked.
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})
    world.at(DUE, 15)
    report = world.due()
    assert report.failed == (billed.line_id,)
    assert [call.rail for call in world.rails.calls[1:]] == [Rail.PINLESS]
    (alert,) = world.alerts()
    assert alert.title == f"loc_due failed for line {billed.line_id}"
    assert world.line(billed).payments == {}
    world.at(DUE, 17)
    assert world.due().acted == (billed.line_id,)
    # The rerun asked pinless again with the same key and got its first answer: one debit.
    assert list(world.line(billed).payments) == [due_payment_id(billed.line_id, DUE, Rail.PINLESS)]
    assert len(world.sim.submitted) == 2  # the draw and one debit


def test_a_line_whose_lease_is_held_is_not_charged(world: Deployment, billed: CreditLine) -> None:
    key = lock_key("due", user_id=billed.user_id, item_id=billed.line_id)
    world.at(DUE, 15)
    world.lock.acquire(key, owner="manual-payment", ttl=dt.timedelta(seconds=60))
    assert world.due().failed == (billed.line_id,)
    assert world.rails.calls[1:] == []
    world.clock.advance(dt.timedelta(minutes=5))
    assert world.due().acted == (billed.line_id,)
    assert world.line(billed).minimum_payment_outstanding == 0


def test_a_crash_after_the_debit_is_completed_by_the_rerun_without_charging_twice(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(DUE, 15)
    world.rails.handler = crash_after(world.sim, {Rail.PINLESS})
    assert world.due().failed == (billed.line_id,)
    assert world.line(billed).payments == {}
    crashing = world.using(UnitOfWork, CrashingUnitOfWork(world.database))
    assert crashing.due().failed == (billed.line_id,)
    assert world.line(billed).payments == {}
    assert world.due().acted == (billed.line_id,)
    assert world.due().skipped == (billed.line_id,)
    assert len(world.sim.submitted) == 2  # the draw and one debit
    assert world.line(billed).minimum_payment_outstanding == 0
    key = due_payment_id(billed.line_id, DUE, Rail.PINLESS)
    not_booked = f"money moved but not booked: pinless payment {key} on line {billed.line_id}"
    assert not_booked in [alert.title for alert in world.alerts()]


def test_the_due_job_leaves_lines_not_due_today_alone(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(DUE - dt.timedelta(days=1), 15)
    report = world.due()
    assert (report.acted, report.skipped, report.failed) == ((), (), ())
    world.at(DUE, 15)
    world.pay_line(billed, 500)
    world.due()
    (due_payment,) = [
        p for p in world.line(billed).payments.values() if p.payment_id.startswith("due:")
    ]
    assert due_payment.amount == MINIMUM - 500


# --- overdue (16:00) ------------------------------------------------------------------


def test_an_unpaid_minimum_suspends_the_line_and_costs_one_late_fee(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(DUE, 16)
    assert world.overdue().acted == ()  # the borrower has the whole due date
    before = len(world.notifier.sent)
    world.at(DUE + dt.timedelta(days=1), 16)
    assert world.overdue().acted == (billed.line_id,)
    line = world.line(billed)
    assert (line.status, line.fee_balance, line.past_due_since) == (
        LineStatus.SUSPENDED,
        500,
        DUE + dt.timedelta(days=1),
    )
    assert world.ledger(billed.line_id).balance(income(Bucket.FEE)) == -500
    assert sent_since(world, before) == ["loc_past_due"]
    assert world.overdue().skipped == (billed.line_id,)
    world.at(DUE + dt.timedelta(days=2), 16)
    assert world.overdue().skipped == (billed.line_id,)
    assert world.line(billed).fee_balance == 500


def test_a_payment_of_the_past_due_amount_cures_the_line(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(DUE + dt.timedelta(days=1), 16)
    world.overdue()
    world.at(DUE + dt.timedelta(days=3), 10)
    world.pay_line(billed, MINIMUM)
    line = world.line(billed)
    assert (line.status, line.fee_balance) == (LineStatus.ACTIVE, 0)
    assert world.ledger(billed.line_id).balance(receivable(billed.line_id, Bucket.FEE)) == 0
    world.at(DUE + dt.timedelta(days=3), 16)
    report = world.overdue()  # a cured line owing nothing is not even read
    assert (report.acted, report.failed) == ((), ())
    assert world.line(billed).status is LineStatus.ACTIVE
    assert world.line(billed).fee_balance == 0


def test_a_line_defaults_on_its_90th_day_past_due_while_its_new_due_date_is_ahead(
    world: Deployment, billed: CreditLine
) -> None:
    world.rails.handler = declining(world.sim, {Rail.PINLESS, Rail.ACH})  # every collection fails
    world.run_days(dt.date(2026, 4, 6), dt.date(2026, 7, 25))
    line = world.line(billed)
    assert line.status is LineStatus.SUSPENDED
    assert line.next_due_date == dt.date(2026, 7, 27)  # the 07-05 statement's, still ahead
    world.run_day(dt.date(2026, 7, 26))  # 04-28 is day 1, 07-26 is day 90
    line = world.line(billed)
    assert line.status is LineStatus.DEFAULTED
    assert world.ledger(billed.line_id).balance("expense:credit_loss") == line.total_balance
    assert line.fee_balance == 1_500  # one fee per cycle: April, May, June
