"""A host with worker threads: commands for one borrower racing on the embedded default.

docs/architecture.md, "One command at a time": one bus runs one command at a time,
whatever thread hands it one; a unit of work's pending writes belong to one thread, and a
second thread entering it is refused instead of mixing its writes into the first's.
"""

import threading
from collections.abc import Callable

import pytest
from deployment import LINES_OPENED, Deployment

from loc_adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from loc_core.errors import DomainError, InvalidConfiguration
from loc_core.events import DomainEvent
from loc_core.ports import TransferRequest, TransferResult, UnitOfWork
from loc_core.services.commands import DrawFromLine, GetLoan, MakePayment


def race(*calls: Callable[[], object]) -> list[object]:
    """Run each call in its own thread, all released at once; each answer or error."""
    start = threading.Barrier(len(calls))
    answers: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        start.wait()
        try:
            answers[index] = call()
        except DomainError as refused:
            answers[index] = refused

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_draws_racing_a_limit_and_a_repeated_key_on_one_bus_draw_once_each() -> None:
    """Four web threads on one line of $1,000: two $600 draws, one $100 draw sent twice."""
    world = Deployment.build(now=LINES_OPENED)
    line = world.open_line()

    def draw(amount: int, key: str) -> Callable[[], object]:
        return lambda: world.bus.handle(DrawFromLine(line.user_id, line.line_id, amount, key))

    answers = race(draw(60_000, "a"), draw(60_000, "b"), draw(10_000, "c"), draw(10_000, "c"))
    refused = [answer for answer in answers if isinstance(answer, DomainError)]
    assert len(refused) == 1  # one of the $600 draws: the other took the credit
    drawn = world.line(line)
    assert drawn.principal_balance == 70_000
    assert len(world.sim.submitted) == 2
    assert world.database.ledger.trial_balance() == 0


class ParkingUnitOfWork(InMemoryUnitOfWork):
    """Runs `meanwhile` in another thread at the commit after `arm`, then commits."""

    def __init__(self, database: InMemoryDatabase) -> None:
        super().__init__(database)
        self.armed = False
        self.meanwhile: Callable[[], object] = lambda: None
        self.outcome: list[object] = []

    def commit(self, *, actor: str, request_id: str) -> list[DomainEvent]:
        if self.armed:
            self.armed = False

            def other() -> None:
                try:
                    self.outcome.append(self.meanwhile())
                except InvalidConfiguration as refused:
                    self.outcome.append(refused)

            thread = threading.Thread(target=other)
            thread.start()
            thread.join()
        return super().commit(actor=actor, request_id=request_id)


def test_a_unit_of_work_wired_into_two_buses_refuses_the_second_thread() -> None:
    """A host gave one unit of work to two deployments; a payment is about to book when
    the other deployment's thread reads: the read is refused, the payment is booked."""
    world = Deployment.build()
    loan = world.open_loan()
    shared = ParkingUnitOfWork(world.database)
    paying = world.replacing(UnitOfWork, shared)
    other = Deployment.build(overrides={UnitOfWork: shared})
    shared.meanwhile = lambda: other.bus.handle(GetLoan(loan.user_id, loan.loan_id))

    def accepted_then_arm(request: TransferRequest) -> TransferResult:
        shared.armed = True  # the next commit books what the rail took
        return world.sim.submit(request)

    world.rails.handler = accepted_then_arm
    receipt = paying.handle(MakePayment(loan.user_id, loan.loan_id, 5_250, "pay-1"))
    [refused] = shared.outcome
    assert isinstance(refused, InvalidConfiguration)
    assert refused.invariant == "one_thread_per_unit_of_work"
    assert receipt.loan_outstanding_balance == 26_250
    assert world.sound_loan(loan.loan_id).outstanding_balance == 26_250


@pytest.mark.parametrize(
    "shared", [pytest.param(True, id="same-uow"), pytest.param(False, id="own-uow")]
)
def test_a_replaced_bus_keeps_the_one_command_lock_only_with_the_same_unit_of_work(
    shared: bool,  # noqa: FBT001 - a pytest parameter
) -> None:
    """`replacing` that keeps the unit of work is the same bus to a threaded caller."""
    world = Deployment.build()
    swapped = InMemoryUnitOfWork(world.database)
    other = world.bus.replacing({} if shared else {UnitOfWork: swapped})
    held: list[bool] = []

    def probe() -> None:
        held.append(not other._serial.acquire(blocking=False))  # the bus's own lock

    with world.bus._serial:  # as a command in flight holds it
        thread = threading.Thread(target=probe)
        thread.start()
        thread.join()
    assert held == [shared]
