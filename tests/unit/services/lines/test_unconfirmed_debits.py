"""Another debit on a line whose rail outcome was lost, as the next debit finds it.

The next debit, holding the line's lease, books one its rail answers for first; one its
rail cannot tell about holds it back (the due job counts it as paid; a payment waits).
"""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import Silent, timing_out

from loc_core.creditline import CreditLine
from loc_core.errors import DebitUnconfirmed, ExternalServiceError
from loc_core.payments import Direction, Rail
from loc_core.ports import PaymentRails
from loc_core.services.commands import PayLine

DUE = dt.date(2026, 4, 27)  # `billed`'s due date: a 1,989 minimum


def debits(world: Deployment) -> list[int]:
    return [r.amount for r in world.sim.submitted if r.direction is Direction.DEBIT]


def lost_payment(world: Deployment, line: CreditLine, amount: int) -> None:
    """The borrower pays `amount`; the rail takes it and the answer is lost."""
    world.at(DUE, 10)
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})
    with pytest.raises(ExternalServiceError):
        world.pay_line(line, amount)


@pytest.mark.parametrize(("paid", "due_job_takes"), [(1_500, [489]), (1_989, []), (3_000, [])])
@pytest.mark.parametrize(
    "rail_tells",
    [pytest.param(True, id="booked first"), pytest.param(False, id="rail cannot tell")],
)
def test_the_due_job_takes_only_what_a_lost_payment_leaves_of_the_minimum(
    world: Deployment,
    billed: CreditLine,
    paid: int,
    due_job_takes: list[int],
    rail_tells: bool,  # noqa: FBT001 - a parameter
) -> None:
    lost_payment(world, billed, paid)
    world.at(DUE, 15)
    (world if rail_tells else world.using(PaymentRails, Silent(world.sim.submit))).due()
    assert debits(world) == [paid, *due_job_takes]
    world.pay_line(billed, paid)  # the borrower's retry: booked (now or by the job)
    line = world.line(billed)
    assert (line.minimum_payment_outstanding, line.refunds_due) == (0, 0)
    assert debits(world) == [paid, *due_job_takes]


def test_a_second_payment_books_the_first_when_its_rail_answers_and_waits_when_not(
    world: Deployment, billed: CreditLine
) -> None:
    lost_payment(world, billed, 5_000)
    silent = world.using(PaymentRails, Silent(world.sim.submit))
    with pytest.raises(DebitUnconfirmed, match=r"earlier debit of \$50\.00 on line .* not conf"):
        silent.bus.handle(PayLine(billed.user_id, billed.line_id, 5_000, "pay-2"))
    assert debits(world) == [5_000]
    world.pay_line(billed, 5_000, key="pay-2")  # books pay-1 first, then takes pay-2
    assert debits(world) == [5_000, 5_000]
    assert len(world.line(billed).payments) == 2
    assert world.line(billed).principal_balance == 40_000 - 4_211 - 5_000
