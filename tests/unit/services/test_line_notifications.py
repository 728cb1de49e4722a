"""What a line's borrower is told, through the real use cases (audit of line notifications).

Each test drives the bus of an in-memory `Deployment` and compares what the notifier was
given with the state the commit left; every fact is told once, however often a command,
a settlement or a job is delivered again.
"""

import datetime as dt

import pytest
from deployment import LINES_OPENED, Deployment
from fakes import declining, settlement

from loc_adapters.iterable import contract
from loc_core.creditline import CreditLine
from loc_core.events import DomainEvent, EventType
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import SettlementEvent
from loc_core.services.commands import BookBackdatedLinePayment

DUE = dt.date(2026, 4, 27)
"""The first statement's due date (billed 04-05): 1,989 minimum on 40,789 owed."""
MINIMUM = 1_989


@pytest.fixture
def world() -> Deployment:
    return Deployment.build(now=LINES_OPENED, seed=11)


@pytest.fixture
def billed(world: Deployment) -> CreditLine:
    """A $1,000.00 line with $400.00 drawn on 03-12, billed 04-05: 1,989 due 04-27."""
    return world.billed_line()


def sent(world: Deployment, kind: EventType) -> list[DomainEvent]:
    """The `kind` notices sent, each with exactly the fields Iterable's contract lists."""
    notices = [event for event in world.notifier.sent if event.type is kind]
    for notice in notices:
        assert set(notice.data) == contract.DATA_FIELDS[kind]
    return notices


def at_noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12, tzinfo=dt.UTC))


def event(payment_id: str, outcome: SettlementOutcome, day: dt.date) -> SettlementEvent:
    return settlement(payment_id, outcome, at_noon(day), Rail.ACH)


def owed_now(line: CreditLine, today: dt.date) -> dict[str, object]:
    """What the borrower owes after the commit, as a line notice must say it.

    A due date that has passed is not the next one: its minimum is past due.
    """
    due = line.next_due_date if line.next_due_date and line.next_due_date >= today else None
    return {
        "line_id": line.line_id,
        "line_status": line.status.value,
        "balance": line.total_balance,
        "past_due_amount": line.past_due_amount(today),
        "minimum_outstanding": line.minimum_payment_outstanding,
        "next_due_date": None if due is None else due.isoformat(),
    }


def test_a_returned_line_payment_says_what_is_owed_after_its_correction(
    world: Deployment, billed: CreditLine
) -> None:
    # The minimum paid by ACH on 04-20 comes back on 04-30, after the due date: the
    # correction makes it past due with a late fee, and the notice names what is owed.
    world.at(dt.date(2026, 4, 20), 10)
    world.sim.down = {Rail.PINLESS}
    paid = world.pay_line(billed, MINIMUM)
    returned = event(paid.payment_id, SettlementOutcome.RETURNED, dt.date(2026, 4, 30))
    world.settle(returned)
    world.settle(returned)  # delivered again: nothing new is told
    [notice] = sent(world, EventType.LOC_PAYMENT_FAILED)
    stored = world.line(billed)
    assert dict(notice.data) == {
        "amount": MINIMUM,
        "outcome": "RETURNED",
        **owed_now(stored, world.today),
    }
    assert notice.data["line_status"] == "SUSPENDED"
    assert notice.data["past_due_amount"] == MINIMUM
    assert stored.fee_balance == 500


def test_a_completed_line_payment_is_confirmed_once_with_what_is_owed(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 20), 10)
    paid = world.pay_line(billed, 1_000)
    world.at(dt.date(2026, 4, 20), 13)
    world.settle_due(twice=True)  # the completion arrives twice
    [notice] = sent(world, EventType.LOC_PAYMENT_SUCCEEDED)
    stored = world.line(billed)
    assert (notice.subject_id, notice.occurred_on) == (paid.payment_id, dt.date(2026, 4, 20))
    assert dict(notice.data) == {
        "amount": 1_000,
        "paid_on": "2026-04-20",
        **owed_now(stored, world.today),
    }
    assert notice.data["minimum_outstanding"] == MINIMUM - 1_000
    assert notice.data["next_due_date"] == DUE.isoformat()


@pytest.mark.usefixtures("billed")
def test_the_due_jobs_collection_is_confirmed_once(world: Deployment) -> None:
    # The minimum is collected on the due date; every job runs twice, every event arrives
    # twice: one confirmation, naming the minimum as met.
    world.run_days(DUE, DUE + dt.timedelta(days=4), twice=True)
    [notice] = sent(world, EventType.LOC_PAYMENT_SUCCEEDED)
    assert notice.subject_id.startswith("due:")
    assert (notice.data["amount"], notice.data["minimum_outstanding"]) == (MINIMUM, 0)
    assert notice.data["past_due_amount"] == 0
    assert notice.data["line_status"] == "ACTIVE"


def miss_every_minimum(world: Deployment, first: dt.date, last: dt.date) -> None:
    """Bill and run the overdue job twice a day (no due job: no minimum is collected)."""
    day = first
    while day <= last:
        world.at(day, 8)
        world.bill()
        for hour in (9, 16):  # the job run twice a day
            world.at(day, hour)
            world.overdue()
        day += dt.timedelta(days=1)


def test_a_charged_off_line_is_told_once_with_what_was_charged_off(
    world: Deployment, billed: CreditLine
) -> None:
    # Nothing is ever paid: the 04-27 minimum is 90 days past due on 07-26.
    miss_every_minimum(world, DUE, dt.date(2026, 7, 30))
    [notice] = sent(world, EventType.LOC_CHARGED_OFF)
    stored = world.line(billed)
    assert stored.status.value == "DEFAULTED"
    assert (notice.subject_id, notice.occurred_on) == (billed.line_id, dt.date(2026, 7, 26))
    assert dict(notice.data) == {
        "line_id": billed.line_id,
        "charged_off": stored.total_balance,
        "principal": stored.principal_balance,
        "interest": stored.interest_balance,
        "fees": stored.fee_balance,
        "charged_off_on": "2026-07-26",
        "past_due_since": "2026-04-28",
    }
    assert stored.principal_balance == 40_000


def test_each_missed_minimum_is_told_once_with_its_late_fee(
    world: Deployment, billed: CreditLine
) -> None:
    # Nothing is paid: the minimums due 04-27, 05-26 and 06-26 are each missed while the
    # line stays SUSPENDED; the overdue job runs twice a day. One notice per missed cycle.
    miss_every_minimum(world, DUE, dt.date(2026, 7, 1))
    notices = sent(world, EventType.LOC_PAST_DUE)
    stored = world.line(billed)
    assert stored.fee_balance == 3 * 500
    assert [n.occurred_on for n in notices] == [
        dt.date(2026, 4, 28),
        dt.date(2026, 5, 27),
        dt.date(2026, 6, 27),
    ]
    assert [n.data["late_fee"] for n in notices] == [500, 500, 500]
    assert [n.data["statement_date"] for n in notices] == ["2026-04-05", "2026-05-05", "2026-06-05"]
    assert [n.data["past_due_since"] for n in notices] == ["2026-04-28"] * 3
    first = notices[0].data
    assert (first["past_due_amount"], first["line_status"]) == (MINIMUM, "SUSPENDED")
    assert first["next_due_date"] == "2026-05-26"  # the next statement's due date
    assert notices[-1].data["past_due_amount"] == stored.past_due_amount(dt.date(2026, 6, 27))
    # A check for $10.00 received 06-01 is keyed on 07-01: the line is replayed, still
    # past due in every cycle. It is told as booked, and no missed cycle is told again.
    for _ in range(2):  # the operator's tool sends it twice
        world.bus.handle(
            BookBackdatedLinePayment(
                billed.user_id, billed.line_id, 1_000, dt.date(2026, 6, 1), "check", "chk-1"
            )
        )
    assert world.line(billed).status.value == "SUSPENDED"
    assert len(sent(world, EventType.LOC_PAST_DUE)) == 3
    [booked] = sent(world, EventType.LOC_PAYMENT_SUCCEEDED)
    assert dict(booked.data) == {
        "amount": 1_000,
        "paid_on": "2026-06-01",
        **owed_now(world.line(billed), world.today),
    }


def test_a_draw_no_rail_sends_is_told_failed_once_and_not_owed(world: Deployment) -> None:
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.rails.handler = declining(world.sim, set(Rail))
    draw = world.draw(line, 25_000)
    world.draw(line, 25_000)  # the app asks again with the same key: the same failed draw
    [notice] = sent(world, EventType.LOC_DRAW_FAILED)
    stored = world.line(line)
    assert (notice.subject_id, notice.occurred_on) == (draw.draw_id, dt.date(2026, 3, 12))
    assert dict(notice.data) == {
        "line_id": line.line_id,
        "amount": 25_000,
        "balance": 0,
        "available_credit": 100_000,
    }
    assert (stored.total_balance, stored.available_credit) == (0, 100_000)
