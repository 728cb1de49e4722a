"""Borrower behaviour: what each borrower of the book does, and how they react to news.

Borrowers only act on the days their agenda says; every act is a command sent through
the bus, exactly as a borrower's app would send it. Every random draw comes from the
borrower's own generator (`Dice`), seeded with the scenario's seed and the borrower's
id, so the same scenario gives the same run on any machine.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from typing import Any

import attrs

from loc_core.applications import ApplicationStatus
from loc_core.creditline import CreditLine, LineStatus
from loc_core.errors import DomainError, IdempotencyConflict, InvariantViolation, LocError
from loc_core.events import DomainEvent, EventType
from loc_core.installment import Loan, LoanStatus
from loc_core.payments import PaymentStatus
from loc_core.ports import TransferRequest
from loc_core.services.commands import (
    AbandonExpiredApplication,
    AbandonExpiredLineApplication,
    AcceptLineOffer,
    AcceptOffer,
    ApplyForLine,
    ApplyForLoan,
    DrawFromLine,
    GetLine,
    GetLoan,
    MakePayment,
    PayLine,
    SetAutopay,
)
from loc_entrypoints.simulation.crashes import ProcessCrashed
from loc_entrypoints.simulation.dice import Dice
from loc_entrypoints.simulation.scenario import LOAN_STEP, Scenario
from loc_entrypoints.simulation.tally import Tally
from loc_entrypoints.simulation.world import World

__all__ = ["Act", "Book", "Borrower", "InvariantBroken"]

_DRAW_STEP = 500
_SMALLEST_DRAW = 2_000


_ENDED = frozenset({LoanStatus.CLOSED, LoanStatus.CANCELLED})
"""A loan nobody pays any more: paid off, or void because its disbursement came back."""
_LOAN_ENDED = frozenset({EventType.LOAN_CLOSED, EventType.LOAN_CANCELLED})
"""What may lead a borrower to apply again (with `reborrow_probability`)."""


class InvariantBroken(Exception):
    """The run stopped: an invariant failed for a borrower on a day."""

    def __init__(self, *, day: dt.date, user_id: str, invariant: str, detail: str) -> None:
        super().__init__(f"{day.isoformat()}: borrower {user_id}: {invariant}: {detail}")
        self.day = day
        self.user_id = user_id
        self.invariant = invariant
        self.detail = detail

    def __reduce__(self) -> tuple[Callable[..., InvariantBroken], tuple[Any, ...]]:
        """Pickle by fields (keyword-only), so a partition's violation crosses processes."""
        return _invariant_broken, (self.day, self.user_id, self.invariant, self.detail)


def _invariant_broken(day: dt.date, user_id: str, invariant: str, detail: str) -> InvariantBroken:
    return InvariantBroken(day=day, user_id=user_id, invariant=invariant, detail=detail)


class Act(enum.Enum):
    """What a borrower does on an agenda day."""

    APPLY_LOAN = "apply_loan"
    EXPIRE_LOAN_OFFER = "expire_loan_offer"
    AUTOPAY_OFF = "autopay_off"
    PAY_INSTALLMENT = "pay_installment"
    PREPAY = "prepay"
    APPLY_LINE = "apply_line"
    EXPIRE_LINE_OFFER = "expire_line_offer"
    FIRST_DRAW = "first_draw"
    DRAW = "draw"
    PAY_LINE_FULL = "pay_line_full"
    PAY_LINE_MINIMUM = "pay_line_minimum"
    HARDSHIP = "hardship"


@attrs.define(slots=True)
class Borrower:
    """One borrower: what they want, how they behave, and what they hold."""

    user_id: str
    wants_line: bool
    draw: Dice
    loan_id: str = ""
    line_id: str = ""
    application_id: str = ""
    in_hardship: bool = False
    keyed_on: int = -1
    """The day `keyed` counts the commands of."""
    keyed: dict[str, int] = attrs.field(factory=dict)
    """The commands of each kind sent on `keyed_on`, to give each its own idempotency key."""


@attrs.define
class Book:
    """The book of borrowers: who they are, their agendas, and what they hold."""

    scenario: Scenario
    world: World
    tally: Tally
    borrowers: dict[str, Borrower] = attrs.field(factory=dict)
    agenda: list[list[tuple[Act, str, str]]] = attrs.field(factory=list)
    products: dict[str, tuple[str, str]] = attrs.field(factory=dict)
    """Loan or line id -> (``installment`` or ``creditline``, user id)."""
    day: int = -1
    """The day being simulated (0-based); -1 before the run starts."""
    today: dt.date = dt.date.min
    job_charges: list[tuple[str, TransferRequest]] = attrs.field(factory=list)
    """What autopay and the due job charged today: (installment or line id, the transfer)."""

    def charging(self, installment_id: str | None = None) -> _Charging:
        """Note the transfers the rails accept in the block as charges of `installment_id`.

        None: of the line each transfer is for (its `reference`).
        """
        return _Charging(self, installment_id)

    def populate(self, numbers: range | None = None) -> None:
        """Create the scenario's borrowers and put their first acts on the agenda.

        `numbers`: which of the book's borrowers (numbered from 1) live here (None: all).
        A borrower is the same whichever others share the run: its id and its draws
        derive from the scenario's seed and its number alone.
        """
        scenario, world = self.scenario, self.world
        self.agenda = [[] for _ in range(scenario.days)]
        world.notifier.listener = self.react
        for number in range(1, scenario.borrowers + 1) if numbers is None else numbers:
            user_id = f"user-{number:07d}"
            draw = Dice(f"{scenario.seed}:{user_id}")
            borrower = Borrower(user_id, draw.random() < scenario.line_share, draw)
            self.borrowers[user_id] = borrower
            world.users.add(user_id, active=draw.random() >= scenario.inactive_user_probability)
            if draw.random() >= scenario.debit_card_probability:
                world.rails.without_card.add(user_id)
            first = draw.randint(*scenario.arrival_days)
            self.plan(first, Act.APPLY_LINE if borrower.wants_line else Act.APPLY_LOAN, borrower)
            if draw.random() < scenario.distressed_probability:
                self.plan(first + draw.randint(0, scenario.days), Act.HARDSHIP, borrower)

    def start_day(self, day: int) -> None:
        """Make `day` (0-based) the day being lived."""
        self.day, self.today = day, self.scenario.start + dt.timedelta(days=day)

    def act_today(self) -> None:
        """Every act on today's agenda, in the order planned."""
        for act, user_id, argument in self.agenda[self.day]:
            self._act(act, self.borrowers[user_id], argument)
        self.agenda[self.day] = []

    def plan(self, day: int, act: Act, borrower: Borrower, argument: str = "") -> None:
        """Put an act on a borrower's agenda, never earlier than tomorrow once running."""
        day = max(day, self.day + 1)
        if day < self.scenario.days:
            self.agenda[day].append((act, borrower.user_id, argument))

    def broken(self, user_id: str, invariant: str, detail: str) -> None:
        """Count the violation and stop the run, naming the borrower and the day."""
        self.tally.invariant_violations += 1
        raise InvariantBroken(day=self.today, user_id=user_id, invariant=invariant, detail=detail)

    # --- acts ---------------------------------------------------------------------------

    def _act(self, act: Act, borrower: Borrower, argument: str) -> None:
        try:
            _ACTIONS[act](self, borrower, argument)
        except InvariantViolation as exc:
            self.broken(borrower.user_id, f"{act.value} hit an inconsistent aggregate", str(exc))
        except (DomainError, IdempotencyConflict, LocError) as exc:
            self.tally.refused(act.value, exc)
        except ProcessCrashed:  # the borrower's request died with the process: no retry
            self.tally.crashed(act.value)

    def _apply_loan(self, borrower: Borrower, _argument: str) -> None:
        bus, scenario = self.world.bus, self.scenario
        low, high = scenario.loan_request
        amount = borrower.draw.randrange(low, high + 1, LOAN_STEP)
        application = bus.handle(
            ApplyForLoan(borrower.user_id, amount, self._key(borrower, "loan"))
        )
        approved = application.status is ApplicationStatus.APPROVED
        self.tally.applied("installment", approved=approved)
        if not approved:
            return
        borrower.application_id = application.application_id
        if borrower.draw.random() >= scenario.accept_offer_probability:
            self.plan(self.day + 1, Act.EXPIRE_LOAN_OFFER, borrower, application.application_id)
            return
        try:
            loan = bus.handle(AcceptOffer(borrower.user_id, application.application_id))
        except LocError:
            self.plan(self.day + 1, Act.EXPIRE_LOAN_OFFER, borrower, application.application_id)
            raise
        borrower.loan_id = loan.loan_id

    def _expire_loan_offer(self, borrower: Borrower, application_id: str) -> None:
        outcome = self.world.bus.handle(AbandonExpiredApplication(borrower.user_id, application_id))
        self.tally.expired("installment", outcome.value)

    def _autopay_off(self, borrower: Borrower, loan_id: str) -> None:
        self.world.bus.handle(SetAutopay(borrower.user_id, loan_id, enabled=False))

    def _pay_installment(self, borrower: Borrower, argument: str) -> None:
        loan_id, _, installment_id = argument.partition("|")
        loan = self._loan(borrower, loan_id)
        if borrower.in_hardship or loan is None or loan.status in _ENDED:
            return
        owed = loan.installment(installment_id).outstanding_balance
        if owed > 0:
            self._pay_loan(borrower, loan, min(owed, loan.outstanding_balance), "manual")

    def _prepay(self, borrower: Borrower, loan_id: str) -> None:
        loan = self._loan(borrower, loan_id)
        if borrower.in_hardship or loan is None or loan.status in _ENDED:
            return
        if not any(p.status is PaymentStatus.PENDING for p in loan.payments.values()):
            self._pay_loan(borrower, loan, loan.outstanding_balance, "prepay")

    def _pay_loan(self, borrower: Borrower, loan: Loan, amount: int, why: str) -> None:
        self.world.bus.handle(
            MakePayment(borrower.user_id, loan.loan_id, amount, self._key(borrower, why))
        )

    def _apply_line(self, borrower: Borrower, _argument: str) -> None:
        bus = self.world.bus
        application = bus.handle(ApplyForLine(borrower.user_id, self._key(borrower, "line")))
        approved = application.status is ApplicationStatus.APPROVED
        self.tally.applied("creditline", approved=approved)
        if not approved:
            return
        if borrower.draw.random() >= self.scenario.accept_offer_probability:
            self.plan(self.day + 1, Act.EXPIRE_LINE_OFFER, borrower, application.application_id)
            return
        line = bus.handle(AcceptLineOffer(borrower.user_id, application.application_id))
        borrower.line_id = line.line_id
        self.products[line.line_id] = ("creditline", borrower.user_id)
        self.tally.opened_line()
        self.plan(self.day + borrower.draw.randint(0, 3), Act.FIRST_DRAW, borrower, line.line_id)

    def _expire_line_offer(self, borrower: Borrower, application_id: str) -> None:
        self.world.bus.handle(AbandonExpiredLineApplication(borrower.user_id, application_id))
        self.tally.expired("creditline", "ABANDONED")

    def _draw(self, borrower: Borrower, line_id: str, *, first: bool = False) -> None:
        """Draw part of the available credit; each month the borrower may draw again."""
        scenario = self.scenario
        self.plan(self.day + borrower.draw.randint(25, 35), Act.DRAW, borrower, line_id)
        if not first and borrower.draw.random() >= scenario.draws_per_month:
            return
        line = self._line(borrower, line_id)
        if line is None or borrower.in_hardship:
            return
        share = borrower.draw.randint(*scenario.draw_share)
        amount = line.available_credit * share // 100 // _DRAW_STEP * _DRAW_STEP
        if amount < _SMALLEST_DRAW or line.status is not LineStatus.ACTIVE:
            return
        self.world.bus.handle(
            DrawFromLine(borrower.user_id, line_id, amount, self._key(borrower, "draw"))
        )

    def _pay_line(self, borrower: Borrower, line_id: str, *, full: bool) -> None:
        line = self._line(borrower, line_id)
        if line is None or borrower.in_hardship:
            return
        amount = line.total_balance if full else line.minimum_payment_outstanding
        if amount <= 0:
            return
        self.world.bus.handle(
            PayLine(borrower.user_id, line_id, amount, self._key(borrower, "pay"))
        )

    def _key(self, borrower: Borrower, what: str) -> str:
        """A fresh idempotency key for one command of a borrower's: its kind, day and count.

        Counted by kind within the day, never over the run: the rails draw a transfer's
        fate from its key, so a policy that makes a borrower send one command more or
        fewer (a comparison's second scenario) must not renumber, and so redraw, every
        later transfer of that borrower.
        """
        if borrower.keyed_on != self.day:
            borrower.keyed_on, borrower.keyed = self.day, {}
        count = borrower.keyed.get(what, 0) + 1
        borrower.keyed[what] = count
        return f"{what}-{self.day}-{count}"

    def _hardship(self, borrower: Borrower, _argument: str) -> None:
        borrower.in_hardship = True
        self.world.rails.in_hardship.add(borrower.user_id)
        self.tally.hardships += 1

    def _loan(self, borrower: Borrower, loan_id: str) -> Loan | None:
        return self.world.bus.handle(GetLoan(borrower.user_id, loan_id)) if loan_id else None

    def _line(self, borrower: Borrower, line_id: str) -> CreditLine | None:
        return self.world.bus.handle(GetLine(borrower.user_id, line_id)) if line_id else None

    # --- borrowers react to what they are told ------------------------------------------

    def react(self, event: DomainEvent) -> None:
        """A borrower hears about an event and plans what to do about it."""
        borrower = self.borrowers.get(event.user_id)
        if borrower is None:
            return
        scenario = self.scenario
        if event.type is EventType.LOAN_DISBURSED:
            self._plan_loan(borrower, event.subject_id)
        elif event.type in _LOAN_ENDED and not borrower.in_hardship:
            if borrower.draw.random() < scenario.reborrow_probability:
                delay = borrower.draw.randint(*scenario.reborrow_delay_days)
                self.plan(self.day + max(delay, 1), Act.APPLY_LOAN, borrower)
        elif event.type is EventType.LOC_STATEMENT_READY and not borrower.in_hardship:
            roll = borrower.draw.random()
            if roll < scenario.pay_full_probability:
                self.plan(
                    self.day + borrower.draw.randint(1, 15),
                    Act.PAY_LINE_FULL,
                    borrower,
                    event.subject_id,
                )
            elif roll < scenario.pay_full_probability + scenario.pay_minimum_probability:
                self.plan(
                    self.day + borrower.draw.randint(5, 20),
                    Act.PAY_LINE_MINIMUM,
                    borrower,
                    event.subject_id,
                )

    def _plan_loan(self, borrower: Borrower, loan_id: str) -> None:
        self.products[loan_id] = ("installment", borrower.user_id)
        self.tally.opened_loan()
        loan = self._loan(borrower, loan_id)
        if loan is None:
            return
        scenario, draw = self.scenario, borrower.draw
        if draw.random() < scenario.autopay_off_probability:
            self.plan(self.day + 1, Act.AUTOPAY_OFF, borrower, loan_id)
            for installment in loan.installments:
                if draw.random() < scenario.manual_pay_probability:
                    due = (installment.due_date - scenario.start).days
                    self.plan(
                        due - draw.randint(0, 2),
                        Act.PAY_INSTALLMENT,
                        borrower,
                        f"{loan_id}|{installment.installment_id}",
                    )
        if draw.random() < scenario.prepay_probability:
            second, last = loan.installments[1].due_date, loan.installments[-2].due_date
            when = (second - scenario.start).days + draw.randint(0, (last - second).days)
            self.plan(when, Act.PREPAY, borrower, loan_id)


class _Charging:
    """The context `Book.charging` returns (a class: the jobs enter one per charge)."""

    __slots__ = ("_book", "_installment_id", "_start", "_submitted")

    def __init__(self, book: Book, installment_id: str | None) -> None:
        self._book, self._installment_id = book, installment_id
        self._submitted: list[TransferRequest] = []
        self._start = 0

    def __enter__(self) -> None:
        self._submitted = submitted = self._book.world.sim_rails.submitted
        self._start = len(submitted)

    def __exit__(self, *_exc: object) -> None:
        installment_id = self._installment_id
        self._book.job_charges += [
            (installment_id or request.reference, request)
            for request in self._submitted[self._start :]
        ]


_ACTIONS: dict[Act, Callable[[Book, Borrower, str], None]] = {
    Act.APPLY_LOAN: Book._apply_loan,  # noqa: SLF001 - the table is the class's own
    Act.EXPIRE_LOAN_OFFER: Book._expire_loan_offer,  # noqa: SLF001 - the class's own table
    Act.AUTOPAY_OFF: Book._autopay_off,  # noqa: SLF001 - the class's own table
    Act.PAY_INSTALLMENT: Book._pay_installment,  # noqa: SLF001 - the class's own table
    Act.PREPAY: Book._prepay,  # noqa: SLF001 - the class's own table
    Act.APPLY_LINE: Book._apply_line,  # noqa: SLF001 - the class's own table
    Act.EXPIRE_LINE_OFFER: Book._expire_line_offer,  # noqa: SLF001 - the class's own table
    Act.FIRST_DRAW: lambda b, w, a: b._draw(w, a, first=True),  # noqa: SLF001 - the class's own table
    Act.DRAW: Book._draw,  # noqa: SLF001 - the class's own table
    Act.PAY_LINE_FULL: lambda b, w, a: b._pay_line(w, a, full=True),  # noqa: SLF001 - the class's own table
    Act.PAY_LINE_MINIMUM: lambda b, w, a: b._pay_line(w, a, full=False),  # noqa: SLF001 - the class's own table
    Act.HARDSHIP: Book._hardship,  # noqa: SLF001 - the class's own table
}
