"""A line debit whose rail outcome is unknown holds back every other debit on the line."""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import timing_out

from loc_core.creditline import CreditLine
from loc_core.errors import DebitUnconfirmed, ExternalServiceError
from loc_core.payments import Direction, Rail

DUE = dt.date(2026, 4, 27)  # `billed`'s due date: a 1,989 minimum


def debits(world: Deployment) -> list[int]:
    return [r.amount for r in world.sim.submitted if r.direction is Direction.DEBIT]


@pytest.mark.parametrize(("paid", "due_job_takes"), [(1_500, [489]), (1_989, []), (3_000, [])])
def test_the_due_job_takes_only_what_an_unconfirmed_payment_leaves_of_the_minimum(
    world: Deployment, billed: CreditLine, paid: int, due_job_takes: list[int]
) -> None:
    world.at(DUE, 10)
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})  # the rail took it
    with pytest.raises(ExternalServiceError):
        world.pay_line(billed, paid)
    world.at(DUE, 15)
    world.due()
    assert debits(world) == [paid, *due_job_takes]
    world.pay_line(billed, paid)  # the borrower's retry books what the rail took
    line = world.line(billed)
    assert (line.minimum_payment_outstanding, line.refunds_due) == (0, 0)
    assert debits(world) == [paid, *due_job_takes]


def test_a_second_payment_is_refused_while_the_first_is_unconfirmed(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(DUE, 10)
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})
    with pytest.raises(ExternalServiceError):
        world.pay_line(billed, 5_000)
    with pytest.raises(DebitUnconfirmed, match=r"earlier debit of \$50\.00 on line .* not conf"):
        world.pay_line(billed, 5_000, key="pay-2")
    assert debits(world) == [5_000]
    world.pay_line(billed, 5_000)
    world.pay_line(billed, 5_000, key="pay-2")
    assert debits(world) == [5_000, 5_000]
    assert world.line(billed).principal_balance == 40_000 - 4_211 - 5_000
