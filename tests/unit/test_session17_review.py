"""Session 17 review: defects a money auditor or an unlucky operator would hit.

- ``loc autopay`` refused while a debit is being sent says so, and to try again, rather
  than printing the lease's key and holder.
- An installment autopay charged late leaves its late fee's worth (SCHEDULE_PAID), which
  no debit takes: the borrower is told what is left to pay by hand, with the charge, not
  only by the overdue notice sent before it that named the whole balance (unpaid, the
  fee's worth defaulted the loan 60 days later).
- A line payment's receipt adds up (paid + refund == amount) after its refund was partly
  applied to a later draw and the payment then came back.
"""

import datetime as dt

import pytest
from click.testing import CliRunner
from deployment import Deployment
from fakes import settlement

from loc_core.events import DomainEvent, EventType
from loc_core.installment import InstallmentStatus, Loan
from loc_core.payments import Rail, SettlementOutcome
from loc_core.services.commands import GetLinePaymentReceipt, GetLoan, LinePaymentReceipt
from loc_core.services.kit import lock_key
from loc_core.services.lines.paying import DEBIT_LOCK_PROCESS
from loc_core.services.loans.payments import payment_lease_key
from loc_entrypoints.cli import main

WORKER = dt.timedelta(minutes=5)


@pytest.fixture
def world() -> Deployment:
    return Deployment.build(now=dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), seed=5)


def _adds_up(receipt: LinePaymentReceipt) -> bool:
    refunded = 0 if receipt.refund is None else receipt.refund.amount
    return receipt.paid.total + refunded == receipt.amount


@pytest.mark.parametrize(
    "outcome",
    [
        pytest.param(SettlementOutcome.RETURNED, id="returned"),
        pytest.param(SettlementOutcome.CHARGED_BACK, id="charged-back"),
    ],
)
def test_a_line_refund_applied_to_a_draw_then_its_payment_returned_still_adds_up(
    world: Deployment, outcome: SettlementOutcome
) -> None:
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    drawn = world.draw(line, 10_000)
    paid = world.pay_line(line, 10_000)
    world.at(dt.date(2026, 3, 16), 12)
    world.settle(
        settlement(f"{drawn.draw_id}:rtp", SettlementOutcome.RETURNED, world.clock.now(), Rail.RTP)
    )
    world.at(dt.date(2026, 3, 17), 12)
    world.draw(line, 3_000, key="draw-2")
    applied = world.bus.handle(GetLinePaymentReceipt(line.user_id, line.line_id, paid.payment_id))
    assert applied.refund is not None
    assert (applied.refund.applied, applied.refund.remaining) == (3_000, 7_000)  # partly applied
    assert _adds_up(applied)
    world.at(dt.date(2026, 3, 18), 12)
    world.settle(settlement(paid.payment_id, outcome, world.clock.now(), paid.rail))

    receipt = world.bus.handle(GetLinePaymentReceipt(line.user_id, line.line_id, paid.payment_id))
    assert receipt.refund is not None
    assert (receipt.refund.remaining, receipt.refund.applied) == (0, 0)
    assert _adds_up(receipt)
    assert world.line(line).principal_balance == 3_000  # the later draw is owed again
    assert world.line(line).refunds_due == 0


@pytest.mark.parametrize(
    "kind",
    [pytest.param("loan", id="loan"), pytest.param("line", id="line")],
)
def test_loc_autopay_while_a_debit_is_being_sent_says_nothing_changed_and_to_retry(
    world: Deployment, kind: str
) -> None:
    world.users.add("user-1")
    if kind == "loan":
        entity_id = world.open_loan("user-1").loan_id
        key = payment_lease_key("user-1", entity_id)
    else:
        entity_id = world.open_line("user-1").line_id
        key = lock_key(DEBIT_LOCK_PROCESS, user_id="user-1", item_id=entity_id)
    world.lock.acquire(key, owner="collections-worker", ttl=WORKER)

    result = CliRunner().invoke(
        main,
        ["autopay", kind, entity_id, "--user", "user-1", "--off", "--reason", "by phone"],
        obj={"bus": world.bus},
    )

    assert result.exit_code == 1
    said = result.output.splitlines()[-1]
    assert said == (
        f"Error: autopay of {kind} {entity_id} not changed: a payment or debit is being "
        "sent for it right now; try again in a few minutes"
    )
    assert "collections-worker" not in said  # not the lease's holder and key
    if kind == "loan":
        assert world.bus.handle(GetLoan("user-1", entity_id)).autopay_enabled


def _overdue_notices(world: Deployment) -> list[DomainEvent]:
    return [e for e in world.notifier.sent if e.type is EventType.INSTALLMENT_OVERDUE]


def _charged_late(world: Deployment) -> tuple[Loan, str]:
    """The last installment charged by autopay after its grace days (rails down till then)."""
    loan = world.open_loan()
    world.settle_due()
    for installment in loan.installments[:-1]:
        world.at(installment.due_date)
        world.run_collections()
        world.settle_due()
    last = loan.installments[-1]
    world.sim.down = {Rail.PINLESS, Rail.ACH}
    for late in range(6):
        world.at(last.due_date + dt.timedelta(days=late), 17)
        world.run_daily_loan_job()
    world.sim.down = set()
    world.at(last.due_date + dt.timedelta(days=6))
    return loan, last.installment_id


def test_autopay_that_leaves_the_late_fees_worth_tells_the_borrower_to_pay_it_by_hand() -> None:
    world = Deployment.build()
    loan, last_id = _charged_late(world)
    (before,) = _overdue_notices(world)
    late_fee, owed = before.data["late_fee"], before.data["outstanding_balance"]
    assert isinstance(late_fee, int)
    assert isinstance(owed, int)
    assert late_fee > 0

    charged = world.collect(loan, len(loan.installments))
    assert world.collect(loan, len(loan.installments)).reason == "SCHEDULE_PAID"  # redelivered
    world.settle_due()

    left = world.loan(loan.loan_id).installment(last_id)
    assert (left.status, left.outstanding_balance) == (InstallmentStatus.OVERDUE, late_fee)
    assert charged.amount == owed - late_fee  # the schedule's
    [_, told] = _overdue_notices(world)  # once, with the charge
    assert (told.subject_id, told.occurred_on) == (last_id, world.today)
    assert (told.data["outstanding_balance"], told.data["late_fee"]) == (late_fee, late_fee)


def test_autopay_that_pays_the_installment_sends_no_second_overdue_notice() -> None:
    world = Deployment.build()
    loan = world.open_loan()
    world.settle_due()
    for installment in loan.installments:
        world.at(installment.due_date)
        world.run_collections()
        world.settle_due()
    assert _overdue_notices(world) == []
    assert world.loan(loan.loan_id).outstanding_balance == 0
