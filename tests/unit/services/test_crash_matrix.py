"""The crash matrix: every money-moving command, killed at every recovery point, recovers.

One table: each money-moving command (`MOVEMENTS`) in a world where it can run, times
each point its process can die (`FailurePoint`, injected by a fault adapter raising
`Crash`), times the two ways the work is finished (`Recovery`): the same command again
(the client's retry, the queue's redelivery, the job's next run) followed by one run of
the recovery job, or no retry and only the recovery job once `RECOVERY_AFTER` passed.
Every case must end the same: each transfer key at most once at the rail and one
accepted transfer for the movement (none when the process died before any rail was
asked and only the recovery job ran: it never moves money), the movement booked exactly
as often, the ledger equal to the balances, no intent left open, and each borrower
notification the happy path sends sent exactly once.

The storage is a fixture (`storage`): in memory here; the DynamoDB suite runs the same
table over the moto server (tests/integration/test_crash_matrix_on_dynamodb.py).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping

import attrs
import pytest
from deployment import LINES_OPENED, LOANS_OPENED, Deployment
from fakes import (
    Crash,
    CrashingNotifier,
    CrashingOnBooking,
    dying_after_acceptance,
    dying_before,
)

from loc_core.creditline import DrawStatus
from loc_core.intents import intent_id_of
from loc_core.ports import Notifier, UnitOfWork
from loc_core.services.commands import (
    AcceptOffer,
    CollectDueMinimums,
    CollectInstallment,
    DrawFromLine,
    MakePayment,
    PayLine,
    ReconcileLine,
    RecoverTransfers,
    RecoveryReport,
)
from loc_core.services.lines.drawing import draw_id_for
from loc_core.services.lines.due import due_intent_id
from loc_core.services.loans.disbursement import disbursement_intent_id
from loc_core.services.messagebus import Command, MessageBus
from loc_core.services.moving import RECOVERY_AFTER
from loc_core.testing.installment import ledger_problems

Storage = Callable[[Deployment], Mapping[type, object]]
"""The adapters a deployment stores in, by port (`{UnitOfWork: ...}`); none: in memory."""

FAR_FUTURE = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
LEASE_RUN_OUT = dt.timedelta(minutes=3)
"""A retry comes after the dead process's lease ran out (every lease is shorter)."""
PAST_RECOVERY = RECOVERY_AFTER + dt.timedelta(minutes=1)


@pytest.fixture
def storage() -> Storage:
    """The deployment's own in-memory storage; the DynamoDB suite overrides this."""
    return lambda _world: {}


# --- the commands ----------------------------------------------------------------------


@attrs.frozen
class Movement:
    """One money-moving command, ready to run in its world, and how to read its booking."""

    command: Command[object]
    intent_id: str
    """The stem of the movement's transfer keys (``<intent id>:<rail>``)."""
    booked: Callable[[Deployment], int]
    """How many times the movement is booked (loans made, payments or draws applied)."""
    problems: Callable[[Deployment], list[str]]
    """Where the loan's or line's ledger disagrees with its balances (or breaks a rule)."""
    notices: tuple[str, ...]
    """The borrower notifications its booking sends on the happy path, in order (a
    payment's borrower hears when it settles, not when it is booked)."""
    not_sent: tuple[str, ...] = ()
    """What the borrower is told when the recovery job finds no rail moved the money
    (a draw they asked for FAILS: told at once, by that run)."""


def _loan_checks(world: Deployment, user_id: str) -> list[str]:
    with world.bus.get(UnitOfWork) as uow:
        loans = uow.loans.for_user(user_id)
    found: list[str] = []
    for loan in loans:
        found += loan.problems() + ledger_problems(loan, world.ledger(loan.loan_id))
    return found


def _line_checks(world: Deployment, user_id: str, line_id: str) -> list[str]:
    reconciled = world.bus.handle(ReconcileLine(user_id, line_id))
    found = [f"{name}: line {a} != ledger {b}" for name, (a, b) in reconciled.mismatches.items()]
    with world.bus.get(UnitOfWork) as uow:
        line = uow.lines.get(user_id, line_id)
    if not 0 <= line.available_credit <= line.credit_limit:
        found.append(f"available credit {line.available_credit} out of bounds")
    return found


def _line_payments(user_id: str, line_id: str, stem: str) -> Callable[[Deployment], int]:
    def count(world: Deployment) -> int:
        with world.bus.get(UnitOfWork) as uow:
            line = uow.lines.get(user_id, line_id)
        return sum(1 for key in line.payments if intent_id_of(key) == stem)

    return count


def _loan_payments(user_id: str, loan_id: str, stem: str) -> Callable[[Deployment], int]:
    def count(world: Deployment) -> int:
        return sum(1 for key in world.loan(loan_id, user_id).payments if intent_id_of(key) == stem)

    return count


def accept_offer(world: Deployment) -> Movement:
    world.users.add("user-1")
    offer = world.apply_loan()

    def loans(world: Deployment) -> int:
        with world.bus.get(UnitOfWork) as uow:
            return len(uow.loans.for_user("user-1"))

    return Movement(
        AcceptOffer("user-1", offer.application_id),
        disbursement_intent_id("user-1", offer.application_id),
        loans,
        lambda world: _loan_checks(world, "user-1"),
        ("loan_disbursed",),
    )


def make_payment(world: Deployment) -> Movement:
    loan = world.open_loan(autopay=False)
    world.at(dt.date(2026, 1, 12))
    stem = f"manual:{loan.loan_id}:pay-1"
    return Movement(
        MakePayment("user-1", loan.loan_id, 5_000, "pay-1"),
        stem,
        _loan_payments("user-1", loan.loan_id, stem),
        lambda world: _loan_checks(world, "user-1"),
        (),
    )


def collect_installment(world: Deployment) -> Movement:
    loan = world.open_loan()
    first = loan.installments[0]
    world.at(first.due_date)
    stem = f"autopay:{first.installment_id}:1"
    return Movement(
        CollectInstallment("user-1", loan.loan_id, first.installment_id, first.due_date),
        stem,
        _loan_payments("user-1", loan.loan_id, stem),
        lambda world: _loan_checks(world, "user-1"),
        (),
    )


def draw_from_line(world: Deployment) -> Movement:
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    command = DrawFromLine("user-1", line.line_id, 40_000, "draw-1")
    draw_id = draw_id_for(command)

    def disbursed(world: Deployment) -> int:
        draw = world.line(line).draws.get(draw_id)
        return int(draw is not None and draw.status is DrawStatus.DISBURSED)

    return Movement(
        command,
        draw_id,
        disbursed,
        lambda world: _line_checks(world, "user-1", line.line_id),
        ("loc_draw_disbursed",),
        not_sent=("loc_draw_failed",),
    )


def _billed_line(world: Deployment) -> str:
    """A $1,000.00 line with $400.00 drawn 03-12, billed 04-05: 1,989 due 04-27."""
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    world.at(dt.date(2026, 4, 5), 8)
    world.bill()
    return line.line_id


def pay_line(world: Deployment) -> Movement:
    line_id = _billed_line(world)
    world.at(dt.date(2026, 4, 10))
    stem = f"pay:{line_id}:pay-1"
    return Movement(
        PayLine("user-1", line_id, 5_000, "pay-1"),
        stem,
        _line_payments("user-1", line_id, stem),
        lambda world: _line_checks(world, "user-1", line_id),
        (),
    )


def collect_due_minimums(world: Deployment) -> Movement:
    line_id = _billed_line(world)
    due = world.at(dt.date(2026, 4, 27))
    stem = due_intent_id(line_id, due)
    return Movement(
        CollectDueMinimums(),
        stem,
        _line_payments("user-1", line_id, stem),
        lambda world: _line_checks(world, "user-1", line_id),
        (),
    )


MOVEMENTS: dict[str, tuple[Callable[[Deployment], Movement], dt.datetime, int]] = {
    "accept_offer": (accept_offer, LOANS_OPENED, 0),
    "make_payment": (make_payment, LOANS_OPENED, 0),
    "autopay": (collect_installment, LOANS_OPENED, 0),
    "draw": (draw_from_line, LINES_OPENED, 11),
    "pay_line": (pay_line, LINES_OPENED, 11),
    "due_job": (collect_due_minimums, LINES_OPENED, 11),
}
"""Each money-moving command: its world's setup, the moment the world starts, its rail seed."""


# --- the failure points and the recoveries ---------------------------------------------


class FailurePoint(enum.Enum):
    """Where the process dies (each injected by a fault adapter raising `Crash`)."""

    BEFORE_RAIL = "before_rail"
    """The intent is committed; the process dies before its request reaches any rail."""
    AFTER_RAIL = "after_rail"
    """A rail accepted (the money moved); the process dies before the booking commit."""
    AT_COMMIT = "at_commit"
    """The booking's commit (the intent PENDING -> BOOKED) dies, writing nothing."""
    AFTER_COMMIT = "after_commit"
    """The booking committed; the process dies before publishing anything."""
    IN_PUBLISH = "in_publish"
    """The booking committed; the process dies on its first borrower notification
    (only for the commands whose booking notifies the borrower)."""


class Recovery(enum.Enum):
    """How the dead process's work is finished."""

    RETRY = "retry"
    """The same command again (same key; redelivery; the job's next run), then the job."""
    RECOVERY_JOB = "recovery_job"
    """No retry: only `RecoverTransfers`, once the intent is older than `RECOVERY_AFTER`."""


@attrs.frozen
class Fault:
    """A failure point set up in a world: the bus to crash on, and whether it fired."""

    bus: MessageBus
    fired: Callable[[], bool]
    undo: Callable[[], None]


def inject(world: Deployment, point: FailurePoint) -> Fault:
    """Install the fault adapter for `point`; `undo` puts the healthy adapter back."""
    healthy = world.rails.handler
    calls_before = len(world.rails.calls)

    def restore_rails() -> None:
        world.rails.handler = healthy

    if point is FailurePoint.BEFORE_RAIL:
        world.rails.handler = dying_before(world.sim)
        submitted = len(world.sim.submitted)
        return Fault(
            world.bus,
            lambda: len(world.rails.calls) > calls_before and len(world.sim.submitted) == submitted,
            restore_rails,
        )
    if point is FailurePoint.AFTER_RAIL:
        world.rails.handler = dying_after_acceptance(world.sim)
        return Fault(world.bus, lambda: len(world.rails.calls) > calls_before, restore_rails)
    if point in {FailurePoint.AT_COMMIT, FailurePoint.AFTER_COMMIT}:
        uow = CrashingOnBooking(
            world.bus.get(UnitOfWork), after_commit=point is FailurePoint.AFTER_COMMIT
        )
        return Fault(world.replacing(UnitOfWork, uow), lambda: uow.crashed, lambda: None)
    notifier = CrashingNotifier(world.notifier)
    return Fault(world.replacing(Notifier, notifier), lambda: notifier.crashed, lambda: None)


def run_dying(fault: Fault, command: Command[object]) -> None:
    """Run `command` on the faulty bus: the process dies (a job alerts and goes on)."""
    try:
        fault.bus.handle(command)
    except Crash:
        pass
    finally:
        fault.undo()
    assert fault.fired(), "the fault never fired: the case does not test what it names"


def recover(world: Deployment) -> RecoveryReport:
    """One run of the recovery job, once every intent left behind is old enough."""
    world.clock.advance(PAST_RECOVERY)
    return world.bus.handle(RecoverTransfers())


def open_intents(world: Deployment) -> list[str]:
    with world.bus.get(UnitOfWork) as uow:
        return [ref.intent_id for ref in uow.intents.open_before(FAR_FUTURE)]


@attrs.frozen
class Outcome:
    """What a movement left behind, as the matrix checks it."""

    transfers: list[str]
    """The keys of the movement's transfers that moved money at the rail."""
    booked: int
    problems: list[str]
    notices: list[str]
    """The borrower notifications about the movement, by type."""
    repeated: list[str]
    """Notifications (by type) sent more than once."""


def outcome(world: Deployment, movement: Movement, sent_before: int) -> Outcome:
    keys = [
        request.idempotency_key
        for request in world.sim.submitted
        if intent_id_of(request.idempotency_key) == movement.intent_id
    ]
    sent = world.notifier.sent[sent_before:]
    return Outcome(
        transfers=keys,
        booked=movement.booked(world),
        problems=movement.problems(world),
        notices=[event.type.value for event in sent],
        repeated=[event.type.value for event in sent if sent.count(event) > 1],
    )


def build(name: str, storage: Storage) -> tuple[Deployment, Movement]:
    setup, now, seed = MOVEMENTS[name]
    world = Deployment.build(now=now, seed=seed)
    world.bus = world.bus.replacing(storage(world))
    return world, setup(world)


# --- the matrix ------------------------------------------------------------------------

NOTIFYING = ("accept_offer", "draw")
"""The commands whose booking notifies the borrower (the control row checks which)."""


@pytest.mark.parametrize("name", MOVEMENTS)
def test_the_happy_path_sends_what_the_matrix_expects(name: str, storage: Storage) -> None:
    """The control row: no fault, the command once; the expectations below hold for it."""
    world, movement = build(name, storage)
    sent_before = len(world.notifier.sent)
    world.bus.handle(movement.command)
    done = outcome(world, movement, sent_before)
    assert (len(done.transfers), done.booked, done.problems) == (1, 1, [])
    assert (done.notices, done.repeated) == (list(movement.notices), [])
    assert bool(movement.notices) is (name in NOTIFYING)
    assert open_intents(world) == []


CASES = [
    pytest.param(name, point, recovery, id=f"{name}-{point.value}-{recovery.value}")
    for name in MOVEMENTS
    for point in FailurePoint
    if point is not FailurePoint.IN_PUBLISH or name in NOTIFYING
    for recovery in Recovery
]
"""Commands x failure points x recoveries."""

RETRIES = [
    pytest.param(name, point, id=f"{name}-{point.value}")
    for name in MOVEMENTS
    for point in FailurePoint
    if point is not FailurePoint.IN_PUBLISH or name in NOTIFYING
]
"""Commands x failure points, for the retry alone."""


def crash(world: Deployment, movement: Movement, point: FailurePoint) -> int:
    """Kill the movement's process at `point`; check it died there. Returns the sent count."""
    sent_before = len(world.notifier.sent)
    run_dying(inject(world, point), movement.command)
    at_crash = outcome(world, movement, sent_before)
    sent = point is not FailurePoint.BEFORE_RAIL
    committed = point in {FailurePoint.AFTER_COMMIT, FailurePoint.IN_PUBLISH}
    assert (len(at_crash.transfers), at_crash.booked, at_crash.notices) == (
        int(sent),
        int(committed),
        [],
    ), "the process died where the case says"
    left_open = not committed or bool(movement.notices)  # a booking with nothing to publish closes
    assert open_intents(world) == ([movement.intent_id] if left_open else [])
    return sent_before


def retry(world: Deployment, movement: Movement, sent_before: int) -> Outcome:
    """The same command again once the dead process's lease ran out; it books once."""
    world.clock.advance(LEASE_RUN_OUT)
    world.bus.handle(movement.command)
    retried = outcome(world, movement, sent_before)
    assert (len(retried.transfers), retried.booked) == (1, 1), "the retry books it once"
    return retried


@pytest.mark.parametrize(("name", "point", "recovery"), CASES)
def test_a_crash_at_every_point_is_recovered_exactly_once(
    name: str, point: FailurePoint, recovery: Recovery, storage: Storage
) -> None:
    world, movement = build(name, storage)
    sent_before = crash(world, movement, point)
    if recovery is Recovery.RETRY:
        retry(world, movement, sent_before)
    report = recover(world)
    assert (report.failed, report.busy) == (0, 0)
    assert open_intents(world) == [], "one recovery run leaves no intent open"
    moved = not (point is FailurePoint.BEFORE_RAIL and recovery is Recovery.RECOVERY_JOB)
    done = outcome(world, movement, sent_before)
    assert sorted(set(done.transfers)) == sorted(done.transfers), "a key twice at the rail"
    assert len(done.transfers) == int(moved), "one accepted transfer (none if never sent)"
    assert done.booked == int(moved), "booked exactly once (never if nothing moved)"
    assert done.problems == [], "the ledger equals the balances"
    assert done.notices == list(movement.notices if moved else movement.not_sent)
    assert done.repeated == [], "no notification sent twice"


@pytest.mark.parametrize(("name", "point"), RETRIES)
def test_the_retry_alone_finishes_the_movement(
    name: str, point: FailurePoint, storage: Storage
) -> None:
    """Without waiting for the recovery job: the retry leaves nothing open, nothing unsent."""
    world, movement = build(name, storage)
    retried = retry(world, movement, crash(world, movement, point))
    assert open_intents(world) == [], "the retry finishes what it resumed"
    assert (retried.notices, retried.repeated) == (list(movement.notices), [])
    assert retried.problems == []


__all__ = [
    "FailurePoint",
    "Recovery",
    "Storage",
    "storage",
    "test_a_crash_at_every_point_is_recovered_exactly_once",
    "test_the_happy_path_sends_what_the_matrix_expects",
    "test_the_retry_alone_finishes_the_movement",
]
