"""A borrower's payoff, prepayment and overpayment on both products, as a hostile user tries them.

The defect these tests keep fixed: a payment (manual or autopay) whose first attempt died
before any rail took the money was resumed by its retry without being checked again, so
a retry that came after the borrower paid the loan or line off took the money anyway and
owed it back as a refund due. Now a resumed movement that no rail has taken is checked
as a new one would be, and money a rail did take is still booked whatever is owed now.
The other tests pin what was tried and found right (docs/installment-loans.md#payoff).
"""

import datetime as dt
from collections.abc import Callable

import pytest
from deployment import LINES_OPENED, Deployment
from fakes import Crash, dying_before, meanwhile, settlement, timing_out

from loc_core.creditline import CreditLine
from loc_core.errors import (
    ExternalServiceError,
    InvalidTransition,
    LockNotAcquired,
    Overpayment,
)
from loc_core.installment import InstallmentStatus, Loan, LoanStatus
from loc_core.intents import IntentStatus
from loc_core.ledger import CLEARING
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.ports import UnitOfWork
from loc_core.services.commands import MakePayment, ReconcileLine, RecoverTransfers
from loc_core.services.loans import CollectionOutcome


def _intent_status(world: Deployment, intent_id: str) -> IntentStatus:
    with world.bus.get(UnitOfWork) as uow:
        stored = uow.intents.find(intent_id)
    assert stored is not None
    return stored.status


def _debits(world: Deployment) -> list[tuple[str, int]]:
    """The transfers the rails received, after the disbursement or draw."""
    return [(request.idempotency_key, request.amount) for request in world.sim.submitted[1:]]


def died_before_the_rail(world: Deployment, act: Callable[[], object]) -> None:
    """`act` dies before any rail receives its money; the rails then work again."""
    world.rails.handler = dying_before(world.sim)
    with pytest.raises(Crash):
        act()
    world.rails.handler = world.sim.submit


# --- installment loans ------------------------------------------------------------------


@pytest.fixture
def world() -> Deployment:
    made = Deployment.build()
    made.users.add("user-1")
    return made


@pytest.fixture
def loan(world: Deployment) -> Loan:
    """$300.00 lent on 2026-01-05 with a $15.00 fee: six installments of $52.50."""
    made = world.open_loan()
    world.settle_due()
    world.at(dt.date(2026, 1, 12))
    return made


def test_a_retried_payment_no_rail_took_is_refused_once_the_loan_is_paid_off(
    world: Deployment, loan: Loan
) -> None:
    died_before_the_rail(world, lambda: world.pay_loan(loan, 20_000, key="first"))
    world.pay_loan(loan, 31_500, key="payoff")
    with pytest.raises(InvalidTransition, match="CLOSED"):
        world.pay_loan(loan, 20_000, key="first")  # the app retries its first request
    assert _debits(world) == [(f"manual:{loan.loan_id}:payoff:pinless", 31_500)]
    stored = world.sound_loan(loan.loan_id)
    assert (stored.status, stored.refunds_due) == (LoanStatus.CLOSED, 0)
    assert _intent_status(world, f"manual:{loan.loan_id}:first") is IntentStatus.ABANDONED
    assert "refund_due" not in world.sent()


def test_a_retried_payment_above_what_is_owed_now_is_refused(world: Deployment, loan: Loan) -> None:
    died_before_the_rail(world, lambda: world.pay_loan(loan, 20_000, key="first"))
    world.pay_loan(loan, 20_000, key="second")
    with pytest.raises(Overpayment, match=r"\$115\.00 owed"):
        world.pay_loan(loan, 20_000, key="first")
    assert world.sound_loan(loan.loan_id).outstanding_balance == 11_500
    world.pay_loan(loan, 11_500, key="third")  # a quote paid exactly closes the loan
    assert world.sound_loan(loan.loan_id).status is LoanStatus.CLOSED


def test_a_payoff_books_a_payment_a_rail_took_unbooked_first_and_is_refused_as_a_stale_quote(
    world: Deployment, loan: Loan
) -> None:
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})
    with pytest.raises(ExternalServiceError):
        world.pay_loan(loan, 20_000, key="first")
    world.rails.handler = world.sim.submit
    with pytest.raises(Overpayment, match=r"\$115\.00 owed"):
        world.pay_loan(loan, 31_500, key="payoff")  # books the $200.00 first: the quote is stale
    receipt = world.pay_loan(loan, 20_000, key="first")  # the money moved: booked
    assert receipt.amount == 20_000
    world.pay_loan(loan, 11_500, key="payoff")  # the payoff quoted now
    stored = world.sound_loan(loan.loan_id)
    assert (stored.status, stored.refunds_due) == (LoanStatus.CLOSED, 0)
    assert world.ledger(loan.loan_id).balance(CLEARING) == 31_500


def test_a_redelivered_autopay_no_rail_took_does_not_charge_a_loan_paid_off_meanwhile(
    world: Deployment, loan: Loan
) -> None:
    world.at(loan.installments[0].due_date)
    died_before_the_rail(world, lambda: world.collect(loan))
    world.pay_loan(loan, 31_500, key="payoff")
    redelivered = world.collect(loan)
    assert (redelivered.outcome, redelivered.reason) == (CollectionOutcome.SKIPPED, "LOAN_CLOSED")
    assert _debits(world) == [(f"manual:{loan.loan_id}:payoff:pinless", 31_500)]
    assert world.sound_loan(loan.loan_id).refunds_due == 0
    installment_id = loan.installments[0].installment_id
    assert _intent_status(world, f"autopay:{installment_id}:1") is IntentStatus.ABANDONED


def test_a_redelivered_autopay_no_rail_took_skips_an_installment_the_borrower_paid(
    world: Deployment, loan: Loan
) -> None:
    world.at(loan.installments[0].due_date)
    died_before_the_rail(world, lambda: world.collect(loan))
    world.pay_loan(loan, 5_250, key="installment-1")
    world.settle_due()
    assert world.collect(loan).reason == "PAID"
    assert world.sound_loan(loan.loan_id).outstanding_balance == 26_250


def test_an_autopay_no_rail_took_charges_what_the_installment_owes_when_it_is_tried_again(
    world: Deployment, loan: Loan
) -> None:
    world.at(loan.installments[0].due_date)
    # The worker read $52.50 owed, then died before the rail.
    died_before_the_rail(world, lambda: world.collect(loan))
    world.pay_loan(loan, 3_000, key="part")
    world.at(loan.installments[0].due_date + dt.timedelta(days=1), 3)
    world.settle_due()
    world.bus.handle(RecoverTransfers())  # abandons it: no rail received it
    world.at(world.today)
    charged = world.collect(loan)
    assert (charged.outcome, charged.amount) == (CollectionOutcome.CHARGED, 2_250)
    stored = world.sound_loan(loan.loan_id)
    assert [i.outstanding_balance for i in stored.installments[:2]] == [0, 5_250]


def test_two_payments_each_under_the_balance_but_together_above_it_are_not_both_taken(
    world: Deployment, loan: Loan
) -> None:
    """Tried and right: the second waits for the lease, then is refused for the balance."""
    second = MakePayment(loan.user_id, loan.loan_id, 20_000, "second")
    refusals: list[Exception] = []

    def pay_meanwhile(_: object) -> None:
        try:
            world.another_process().handle(second)
        except LockNotAcquired as refused:
            refusals.append(refused)

    world.rails.handler = meanwhile(world.sim, pay_meanwhile)
    world.pay_loan(loan, 20_000, key="first")
    world.rails.handler = world.sim.submit
    assert len(refusals) == 1
    with pytest.raises(Overpayment):
        world.bus.handle(second)
    assert _debits(world) == [(f"manual:{loan.loan_id}:first:pinless", 20_000)]
    assert world.sound_loan(loan.loan_id).outstanding_balance == 11_500


def test_an_autopay_in_flight_is_netted_from_the_payoff_and_its_return_reopens_the_loan(
    world: Deployment, loan: Loan
) -> None:
    """Tried and right: the quote after an ACH autopay is net of it; no money taken twice."""
    world.sim.down = {Rail.PINLESS}
    world.at(loan.installments[0].due_date)
    autopay = world.collect(loan)
    assert world.loan(loan.loan_id).outstanding_balance == 26_250  # the payoff quote
    world.sim.down = set()
    with pytest.raises(Overpayment):
        world.pay_loan(loan, 26_251, key="a-cent-more")
    world.pay_loan(loan, 26_250, key="payoff")
    assert world.sound_loan(loan.loan_id).status is LoanStatus.CLOSED
    returned = settlement(
        autopay.payment_id,
        SettlementOutcome.RETURNED,
        world.clock.now() + dt.timedelta(days=2),
        Rail.ACH,
    )
    world.settle(returned)
    stored = world.sound_loan(loan.loan_id)
    assert (stored.status, stored.outstanding_balance, stored.refunds_due) == (
        LoanStatus.OPEN,
        5_250,
        0,
    )
    assert stored.payments[autopay.payment_id].status is PaymentStatus.RETURNED
    assert [i.status for i in stored.installments] == [InstallmentStatus.COMPLETED] * 5 + [
        InstallmentStatus.SCHEDULED
    ]


# --- lines of credit --------------------------------------------------------------------


@pytest.fixture
def lines() -> Deployment:
    return Deployment.build(now=LINES_OPENED, seed=11)


@pytest.fixture
def drawn(lines: Deployment) -> CreditLine:
    """A $1,000.00 line opened 2026-03-05 (cycle day 5), $400.00 drawn 03-12, now 03-20."""
    line = lines.open_line()
    lines.at(dt.date(2026, 3, 12))
    lines.draw(line, 40_000)
    lines.at(dt.date(2026, 3, 20))
    return line


def _line_sound(world: Deployment, line: CreditLine) -> CreditLine:
    assert world.bus.handle(ReconcileLine(line.user_id, line.line_id)).matches
    return world.line(line)


def test_a_retried_line_payment_no_rail_took_is_refused_once_the_line_is_paid_off(
    lines: Deployment, drawn: CreditLine
) -> None:
    lines.rails.handler = dying_before(lines.sim)
    with pytest.raises(Crash):
        lines.pay_line(drawn, 30_000, key="first")
    lines.rails.handler = lines.sim.submit
    lines.pay_line(drawn, 40_000, key="payoff")
    with pytest.raises(Overpayment, match=r"\$0\.00 owed"):
        lines.pay_line(drawn, 30_000, key="first")
    assert _debits(lines) == [(f"pay:{drawn.line_id}:payoff:pinless", 40_000)]
    stored = _line_sound(lines, drawn)
    assert (stored.total_balance, stored.refunds_due) == (0, 0)
    assert _intent_status(lines, f"pay:{drawn.line_id}:first") is IntentStatus.ABANDONED


def test_a_line_payoff_books_a_payment_a_rail_took_unbooked_first_and_refuses_a_stale_quote(
    lines: Deployment, drawn: CreditLine
) -> None:
    lines.rails.handler = timing_out(lines.sim, {Rail.PINLESS})
    with pytest.raises(ExternalServiceError):
        lines.pay_line(drawn, 30_000, key="first")
    lines.rails.handler = lines.sim.submit
    with pytest.raises(Overpayment, match=r"\$100\.00 owed"):
        lines.pay_line(drawn, 40_000, key="payoff")  # books the $300.00 first
    lines.pay_line(drawn, 30_000, key="first")
    lines.pay_line(drawn, 10_000, key="payoff")
    assert _line_sound(lines, drawn).refunds_due == 0


def test_a_line_paid_off_mid_cycle_is_charged_interest_for_the_days_it_owed_only(
    lines: Deployment, drawn: CreditLine
) -> None:
    """Tried and right: daily balance; the payment day's end-of-day principal is zero."""
    lines.pay_line(drawn, 40_000, key="payoff")
    with pytest.raises(InvalidTransition, match="interest accruing"):
        lines.close(drawn)
    lines.at(dt.date(2026, 4, 5), 8)
    lines.bill()
    billed = lines.line(drawn)
    assert billed.last_statement is not None
    # 03-12 to 03-19: eight days of $400.00 at 29.99%: 320,000 cent-days, $2.63
    assert (billed.last_statement.cent_days, billed.interest_balance) == (320_000, 263)
    lines.at(dt.date(2026, 4, 6))
    lines.pay_line(drawn, 263, key="interest")
    assert lines.close(drawn).total_balance == 0


def test_a_due_debit_no_rail_took_collects_what_is_unpaid_of_the_minimum_when_run_again(
    lines: Deployment, drawn: CreditLine
) -> None:
    lines.at(dt.date(2026, 4, 5), 8)
    lines.bill()  # $407.89 owed, minimum $19.89 due 04-27
    lines.at(dt.date(2026, 4, 27), 15)
    lines.rails.handler = dying_before(lines.sim)
    assert lines.due().failed == (drawn.line_id,)  # died before the rail: nothing moved
    lines.rails.handler = lines.sim.submit
    lines.at(dt.date(2026, 4, 27), 16)
    lines.pay_line(drawn, 1_000, key="part")
    lines.bus.handle(RecoverTransfers())  # abandons it: no rail received it
    lines.at(dt.date(2026, 4, 27), 17)
    assert lines.due().acted == (drawn.line_id,)
    stored = _line_sound(lines, drawn)
    due_payment = stored.payments[f"due:{drawn.line_id}:2026-04-27:pinless"]
    assert (due_payment.amount, stored.paid_since_statement) == (989, 1_989)
    assert (stored.total_balance, stored.refunds_due) == (40_789 - 1_989, 0)
