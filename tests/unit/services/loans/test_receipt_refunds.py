"""A loan payment's receipt shows its refund due: the part nothing was owed for.

Its lines (what it paid) and its refund's amount add up to its amount, whatever became
of the refund since: still due, paid out, or cancelled by the payment's return.
"""

import datetime as dt

import attrs
import pytest
from deployment import Deployment
from fakes import meanwhile, settlement

from loc_adapters.memory import InMemoryUnitOfWork
from loc_core.installment import Loan, LoanStatus, Payment, Process
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.ports import TransferRequest
from loc_core.refunds import ReceiptRefund, RefundStatus
from loc_core.services.commands import GetPaymentReceipt, PaymentReceipt, RecordRefundPaid
from loc_core.services.loans import disbursement_key

DUE = dt.date(2026, 1, 20)  # the first installment's due date
AUTOPAY = 5_250  # the installment the autopay charges


def paid_meanwhile(world: Deployment, loan: Loan, *, short_by: int = 0) -> None:
    """While the autopay charge is at the rail, a manual payment pays all but `short_by`.

    Written straight to storage, as the process that committed first did.
    """

    def pay(_: TransferRequest) -> None:
        uow = InMemoryUnitOfWork(world.database)
        with uow:
            stored = uow.loans.get(loan.user_id, loan.loan_id)
            stored.apply_payment(
                "manual-payoff",
                stored.outstanding_balance - short_by,
                process=Process.MANUAL,
                rail=Rail.ACH,
                today=DUE,
            )
            uow.loans.save(stored)
            uow.commit(actor="borrower", request_id="manual")

    world.rails.handler = meanwhile(world.sim, pay)


def the_autopay(world: Deployment, loan: Loan) -> Payment:
    (charge,) = (
        p for p in world.loan(loan.loan_id).payments.values() if p.process is Process.AUTOPAY
    )
    return charge


def receipt_of(world: Deployment, loan: Loan, payment_id: str) -> PaymentReceipt:
    return world.bus.handle(GetPaymentReceipt(loan.user_id, payment_id))


def adds_up(receipt: PaymentReceipt) -> bool:
    refunded = 0 if receipt.refund is None else receipt.refund.amount
    return sum(line.amount for line in receipt.lines) + refunded == receipt.amount


@pytest.fixture
def loan(world: Deployment) -> Loan:
    made = world.open_loan()
    world.at(DUE)
    return made


def test_an_autopay_that_landed_after_the_payoff_is_all_refund_on_its_receipt(
    world: Deployment, loan: Loan
) -> None:
    paid_meanwhile(world, loan)
    world.collect(loan)
    charge = the_autopay(world, loan)

    receipt = receipt_of(world, loan, charge.payment_id)

    assert (receipt.amount, receipt.lines, receipt.loan_status) == (
        AUTOPAY,
        (),
        LoanStatus.CLOSED,
    )
    assert receipt.refund == ReceiptRefund(
        amount=AUTOPAY,
        status=RefundStatus.DUE,
        recorded_on=DUE,
        applied=0,
        paid_amount=0,
        paid_on=None,
        paid_reference=None,
        remaining=AUTOPAY,
    )
    assert adds_up(receipt)
    # The payoff's own receipt paid exactly what was owed: no refund on it.
    payoff = receipt_of(world, loan, "manual-payoff")
    assert payoff.refund is None
    assert adds_up(payoff)
    assert world.loan(loan.loan_id).refunds_due == AUTOPAY


def test_a_payment_that_paid_part_shows_its_lines_and_the_rest_as_refund(
    world: Deployment, loan: Loan
) -> None:
    paid_meanwhile(world, loan, short_by=1_000)
    world.collect(loan)
    charge = the_autopay(world, loan)

    receipt = receipt_of(world, loan, charge.payment_id)

    assert sum(line.amount for line in receipt.lines) == 1_000
    assert receipt.refund is not None
    assert (receipt.refund.amount, receipt.refund.status, receipt.refund.remaining) == (
        AUTOPAY - 1_000,
        RefundStatus.DUE,
        AUTOPAY - 1_000,
    )
    assert adds_up(receipt)
    assert receipt.loan_outstanding_balance == 0


def test_the_receipt_shows_the_refund_paid_out_when_and_how(world: Deployment, loan: Loan) -> None:
    paid_meanwhile(world, loan)
    world.collect(loan)
    charge = the_autopay(world, loan)
    world.at(dt.date(2026, 1, 22))
    done = settlement(
        charge.payment_id, SettlementOutcome.COMPLETED, world.clock.now(), charge.rail
    )
    world.settle(done)
    payout = RecordRefundPaid(
        loan.user_id, charge.payment_id, dt.date(2026, 1, 22), "chk-77", "sent back", AUTOPAY
    )

    world.bus.handle(payout)
    world.bus.handle(payout)  # recorded twice: paid out once

    receipt = receipt_of(world, loan, charge.payment_id)
    assert receipt.status is PaymentStatus.COMPLETED
    assert receipt.refund is not None
    assert (
        receipt.refund.status,
        receipt.refund.paid_amount,
        receipt.refund.paid_on,
        receipt.refund.paid_reference,
        receipt.refund.remaining,
    ) == (RefundStatus.PAID, AUTOPAY, dt.date(2026, 1, 22), "chk-77", 0)
    assert adds_up(receipt)
    assert world.sound_loan(loan.loan_id).refunds_due == 0


def test_a_reversed_payment_keeps_its_lines_and_a_cancelled_refund(
    world: Deployment, loan: Loan
) -> None:
    paid_meanwhile(world, loan, short_by=1_000)
    world.collect(loan)
    charge = the_autopay(world, loan)
    world.at(dt.date(2026, 1, 22))
    outcome = (
        SettlementOutcome.RETURNED if charge.rail is Rail.ACH else SettlementOutcome.CHARGED_BACK
    )

    world.settle(settlement(charge.payment_id, outcome, world.clock.now(), charge.rail))

    receipt = receipt_of(world, loan, charge.payment_id)
    assert receipt.status.value == outcome.value
    # What it paid is shown as it was (owed again now), its refund cancelled: nothing
    # is owed back, and the lines and refund still account for the whole amount.
    assert sum(line.amount for line in receipt.lines) == 1_000
    assert receipt.refund is not None
    assert (receipt.refund.status, receipt.refund.remaining) == (RefundStatus.CANCELLED, 0)
    assert receipt.settled_on == dt.date(2026, 1, 22)
    assert adds_up(receipt)
    assert receipt.loan_outstanding_balance == 1_000
    assert world.sound_loan(loan.loan_id).refunds_due == 0


def test_a_loan_whose_disbursement_came_back_shows_what_was_paid_as_all_refund(
    world: Deployment,
) -> None:
    world.sim.down = {Rail.PINLESS}  # payments go by ACH, which can be returned
    loan = world.open_loan()
    world.at(dt.date(2026, 1, 7))
    paid = world.pay_loan(loan, 12_000, key="prepay")
    assert (sum(line.amount for line in paid.lines), paid.refund) == (12_000, None)
    key = disbursement_key(loan.user_id, loan.application_id, loan.disbursement_method)
    returned = settlement(
        key, SettlementOutcome.RETURNED, world.clock.now(), loan.disbursement_method
    )
    world.settle(attrs.evolve(returned, confirmation_id=loan.confirmation_id, return_code="R03"))

    cancelled = receipt_of(world, loan, paid.payment_id)
    # Nothing was ever owed: the loan's cancellation made all of it a refund due.
    assert (cancelled.lines, cancelled.loan_status) == ((), LoanStatus.CANCELLED)
    assert cancelled.refund is not None
    assert (cancelled.refund.amount, cancelled.refund.status, cancelled.refund.remaining) == (
        12_000,
        RefundStatus.DUE,
        12_000,
    )
    assert adds_up(cancelled)

    world.at(dt.date(2026, 1, 12))
    world.settle(
        settlement(paid.payment_id, SettlementOutcome.RETURNED, world.clock.now(), Rail.ACH)
    )

    bounced = receipt_of(world, loan, paid.payment_id)
    assert (bounced.status, bounced.lines) == (PaymentStatus.RETURNED, ())
    assert bounced.refund is not None
    assert (bounced.refund.status, bounced.refund.remaining) == (RefundStatus.CANCELLED, 0)
    assert adds_up(bounced)
