"""An operator waives a line's late fee: a correction as of the day the fee was assessed.

The `billed` line: 40,000 drawn 03-12, billed 04-05 (789 interest, 1,989 due 04-27). No
due job runs, so the overdue job of 04-28 suspends it and charges the cycle's 500 fee.
"""

import datetime as dt
from typing import Any

import attrs
import pytest
from deployment import Deployment
from fakes import settlement

from loc_adapters.iterable import contract
from loc_core.creditline import CreditLine, LineStatus
from loc_core.errors import (
    CorrectionTooOld,
    IdempotencyConflict,
    InvalidRequest,
    LocError,
    NoLateFee,
    NotFound,
    RefundAlreadyPaid,
)
from loc_core.events import EventType
from loc_core.ledger import Bucket, JournalEntry, income, receivable, refund_due
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import Severity
from loc_core.services.commands import (
    ReconcileLine,
    RecordRefundPaid,
    SettlementHandling,
    WaiveLineLateFee,
)
from loc_core.services.lines import LINE_FEE_WAIVER_TOO_OLD

CYCLE = dt.date(2026, 4, 5)
"""The cycle whose 1,989 minimum (due 04-27) was missed."""
ASSESSED = dt.date(2026, 4, 28)
FEE = 500


@pytest.fixture
def late(world: Deployment, billed: CreditLine) -> CreditLine:
    """`billed`, past due: SUSPENDED on 04-28 with the cycle's 500 late fee."""
    world.sim.down = {Rail.PINLESS}  # payments go by ACH, which can be returned
    world.at(ASSESSED, 16)
    world.overdue()
    line = world.line(billed)
    assert (line.status, line.fee_balance, line.late_fee_cycle) == (
        LineStatus.SUSPENDED,
        FEE,
        CYCLE,
    )
    return billed


def waiver(line: CreditLine, **changes: Any) -> WaiveLineLateFee:
    command = WaiveLineLateFee(
        user_id=line.user_id,
        line_id=line.line_id,
        late_fee_cycle=CYCLE,
        reason="the due debit was never presented: every rail was down",
        idempotency_key="waive-1",
    )
    return attrs.evolve(command, **changes)


def entries(world: Deployment, line: CreditLine) -> dict[str, JournalEntry]:
    return {entry.entry_id: entry for entry in world.ledger(line.line_id)}


def sound(world: Deployment, line: CreditLine) -> CreditLine:
    """The stored line, its balanced books equal to its buckets, reconciliation clean."""
    stored = world.line(line)
    books = world.ledger(line.line_id)
    assert books.trial_balance() == 0
    for bucket, owed in (
        (Bucket.PRINCIPAL, stored.principal_balance),
        (Bucket.INTEREST, stored.interest_balance),
        (Bucket.FEE, stored.fee_balance),
    ):
        assert books.balance(receivable(line.line_id, bucket)) == owed
    assert -books.balance(refund_due(line.line_id)) == stored.refunds_due
    assert world.bus.handle(ReconcileLine(line.user_id, line.line_id)).matches
    return stored


def test_an_unpaid_fee_waived_is_owed_no_more_and_never_charged_again(
    world: Deployment, late: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 30), 10)
    waived = world.bus.handle(waiver(late))

    assert (waived.amount, waived.effective_on, waived.waived_on, waived.balance) == (
        FEE,
        ASSESSED,
        dt.date(2026, 4, 30),
        40_789,
    )
    stored = sound(world, late)
    assert (stored.fee_balance, stored.status) == (0, LineStatus.SUSPENDED)  # 1,989 still late
    adjustment = entries(world, late)[f"{late.line_id}:{CYCLE}:fee_waived:adjust"]
    assert adjustment.effective_date == dt.date(2026, 4, 30)
    assert adjustment.net(income(Bucket.FEE)) == FEE
    assert adjustment.net(receivable(late.line_id, Bucket.FEE)) == -FEE
    [told] = [e for e in world.notifier.sent if e.type is EventType.LOC_LATE_FEE_WAIVED]
    assert set(told.data) == contract.DATA_FIELDS[EventType.LOC_LATE_FEE_WAIVED]
    assert (told.data["amount"], told.data["due_date"], told.data["balance"]) == (
        FEE,
        "2026-04-27",
        40_789,
    )
    [created] = world.audit("late_fee_waiver", waived.fee_reference)
    assert (created.change.process, created.actor) == ("FEE_WAIVER", "operator")
    assert "FEE_WAIVER" in world.audit_processes("line", late.line_id)

    # The overdue job of the following days charges it no more.
    for day in (dt.date(2026, 4, 30), dt.date(2026, 5, 1)):
        world.at(day, 16)
        world.overdue()
    assert sound(world, late).fee_balance == 0
    # A payment returned later replays the line's history: the fee stays waived.
    world.at(dt.date(2026, 5, 2), 10)
    paid = world.pay_line(late, 1_000)
    world.at(dt.date(2026, 5, 4), 9)
    returned = settlement(paid.payment_id, SettlementOutcome.RETURNED, world.clock.now(), Rail.ACH)
    assert world.settle(returned) is SettlementHandling.REVERSED
    after = sound(world, late)
    assert (after.fee_balance, after.principal_balance, after.status) == (
        0,
        40_000,
        LineStatus.SUSPENDED,
    )
    # The next statement shows the waiver as an adjustment and no fee in its year.
    world.at(dt.date(2026, 5, 5), 8)
    world.bill()
    statement = world.line(late).last_statement
    assert statement is not None
    assert [(a.amount, a.effect.fees) for a in statement.adjustments] == []  # fee never billed
    assert (statement.fees_charged, statement.fees_year_to_date) == (0, 0)
    sound(world, late)


def test_a_fee_on_an_issued_statement_is_an_adjustment_on_the_next_one(
    world: Deployment, late: CreditLine
) -> None:
    world.at(dt.date(2026, 5, 5), 8)
    world.bill()
    issued = world.line(late).last_statement
    assert issued is not None
    assert (issued.fees_charged, issued.fees_year_to_date) == (FEE, FEE)
    world.at(dt.date(2026, 5, 6), 10)

    world.bus.handle(waiver(late))

    world.at(dt.date(2026, 5, 27), 16)
    world.overdue()  # the 05-05 minimum is missed too: that cycle's fee stands
    world.at(dt.date(2026, 6, 5), 8)
    world.bill()
    statement = sound(world, late).last_statement
    assert statement is not None
    fees = [a for a in statement.adjustments if a.effect.fees]
    assert [(a.on, a.effect.fees) for a in fees] == [(ASSESSED, -FEE)]
    assert (statement.fees_charged, statement.fees_year_to_date) == (FEE, FEE)


def test_a_paid_fee_waived_pays_what_the_payment_would_have_paid_without_it(
    world: Deployment, late: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 29), 10)
    paid = world.pay_line(late, 1_989 + FEE)  # fee 500, interest 789, principal 1,200
    assert world.line(late).status is LineStatus.ACTIVE
    world.at(dt.date(2026, 4, 30), 10)

    world.bus.handle(waiver(late))

    stored = sound(world, late)
    payment = stored.payments[paid.payment_id]
    assert (payment.paid_fees, payment.paid_interest, payment.paid_principal) == (0, 789, 1_700)
    assert stored.balances.total == 38_300
    assert (stored.status, stored.refunds_due) == (LineStatus.ACTIVE, 0)


def test_a_fee_waived_after_payoff_is_a_refund_due_of_exactly_the_fee(
    world: Deployment, late: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 29), 10)
    paid = world.pay_line(late, 40_789 + FEE)
    world.at(dt.date(2026, 4, 30), 10)
    sent = len(world.notifier.sent)

    waived = world.bus.handle(waiver(late))

    assert (waived.balance, waived.refunds_due) == (0, FEE)
    stored = sound(world, late)
    refund = stored.payments[paid.payment_id].refund
    assert refund is not None
    assert (refund.amount, refund.recorded_on) == (FEE, dt.date(2026, 4, 30))
    assert [e.type.value for e in world.notifier.sent[sent:]] == [
        "refund_due",
        "loc_late_fee_waived",
    ]
    [alert] = world.alerts(Severity.WARNING)
    assert (alert.title, alert.details["amount"]) == ("refund due", FEE)


def test_a_line_past_due_only_for_the_waived_fee_is_cured(
    world: Deployment, late: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 29), 10)
    world.pay_line(late, 1_989, key="pay-1")  # the missed minimum: cured (the fee paid first)
    world.at(dt.date(2026, 5, 5), 8)
    world.bill()
    statement = world.line(late).last_statement
    assert statement is not None
    assert statement.fees_charged == FEE  # in the new minimum
    world.at(dt.date(2026, 5, 20), 10)
    world.pay_line(late, statement.minimum_payment - FEE, key="pay-2")  # all but the fee
    day_after = statement.due_date + dt.timedelta(days=1)
    world.at(day_after, 16)
    world.overdue()
    suspended = world.line(late)  # 500 short: past due again, and the second cycle's fee
    assert (suspended.status, suspended.fee_balance) == (LineStatus.SUSPENDED, FEE)

    world.at(day_after + dt.timedelta(days=1), 10)
    world.bus.handle(waiver(late))

    # Without the first fee the second minimum was met: never late, no second fee.
    stored = sound(world, late)
    assert (stored.status, stored.past_due_since, stored.fee_balance) == (
        LineStatus.ACTIVE,
        None,
        0,
    )


def test_the_same_waiver_again_answers_the_same_and_changes_nothing(
    world: Deployment, late: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 30), 10)
    first = world.bus.handle(waiver(late))
    before = (world.line(late), entries(world, late), len(world.notifier.sent))

    assert world.bus.handle(waiver(late)) == first
    assert (world.line(late), entries(world, late), len(world.notifier.sent)) == before


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        pytest.param({"reason": "another reason"}, IdempotencyConflict, id="another-reason"),
        pytest.param({"idempotency_key": "waive-2"}, IdempotencyConflict, id="another-key"),
        pytest.param(
            {"late_fee_cycle": dt.date(2026, 5, 5)}, IdempotencyConflict, id="key-on-another-cycle"
        ),
        pytest.param(
            {"late_fee_cycle": dt.date(2026, 5, 5), "idempotency_key": "waive-2"},
            NoLateFee,
            id="no-fee-for-the-cycle",
        ),
        pytest.param(
            {"late_fee_cycle": dt.date(2026, 4, 6), "idempotency_key": "waive-2"},
            NoLateFee,
            id="not-a-cycle",
        ),
        pytest.param({"line_id": "nope"}, NotFound, id="unknown-line"),
        pytest.param({"user_id": "user-2"}, NotFound, id="another-borrowers-line"),
        pytest.param({"reason": "   "}, InvalidRequest, id="blank-reason"),
        pytest.param({"reason": "x" * 501}, InvalidRequest, id="reason-too-long"),
        pytest.param({"idempotency_key": "a#b"}, InvalidRequest, id="bad-key"),
        pytest.param({"late_fee_cycle": "2026-04-05"}, InvalidRequest, id="cycle-not-a-date"),
    ],
)
def test_a_refused_waiver_changes_nothing(
    world: Deployment, late: CreditLine, changes: dict[str, Any], error: type[LocError]
) -> None:
    world.at(dt.date(2026, 4, 30), 10)
    world.bus.handle(waiver(late))
    before = (world.line(late), entries(world, late), len(world.notifier.sent))

    with pytest.raises(error):
        world.bus.handle(waiver(late, **changes))

    assert (world.line(late), entries(world, late), len(world.notifier.sent)) == before


def test_a_fee_older_than_the_correction_reach_is_refused_and_alerted(
    world: Deployment, late: CreditLine
) -> None:
    world.at(ASSESSED + dt.timedelta(days=121), 10)
    before = (world.line(late), entries(world, late))

    with pytest.raises(CorrectionTooOld):
        world.bus.handle(waiver(late))

    assert (world.line(late), entries(world, late)) == before
    [alert] = world.alerts(Severity.CRITICAL)
    assert (alert.title, alert.details["line_id"]) == (LINE_FEE_WAIVER_TOO_OLD, late.line_id)


def test_a_waiver_that_would_change_a_refund_paid_out_is_refused(
    world: Deployment, late: CreditLine
) -> None:
    world.at(dt.date(2026, 5, 5), 8)
    world.bill()
    world.at(dt.date(2026, 5, 27), 16)
    world.overdue()  # the 05-05 minimum missed too: a second fee
    assert world.line(late).fee_balance == 2 * FEE
    world.at(dt.date(2026, 5, 28), 10)
    paid = world.pay_line(late, world.line(late).total_balance)
    world.at(dt.date(2026, 5, 29), 10)
    world.bus.handle(waiver(late))  # the first fee: a refund due of 500, paid out
    world.bus.handle(
        RecordRefundPaid(
            late.user_id,
            paid.payment_id,
            world.today,
            "chk-1",
            "mailed",
            FEE,
            before_settlement=True,  # its ACH payment is still PENDING: sent anyway
        )
    )
    before = (world.line(late), entries(world, late), len(world.notifier.sent))

    second = waiver(late, late_fee_cycle=dt.date(2026, 5, 5), idempotency_key="waive-2")
    with pytest.raises(RefundAlreadyPaid):
        world.bus.handle(second)

    assert (world.line(late), entries(world, late), len(world.notifier.sent)) == before
