"""The simulation: a book of borrowers lives through the real use cases, day by day.

Each simulated day runs, on the in-memory deployment and a simulated clock, the
production jobs at their production hours (UTC):

    08:00  credit-line billing                 (loc_billing)
    10:00  borrowers act: apply, accept or let the offer expire, pay by hand, prepay,
           draw, turn autopay off; offers from yesterday expire (the TTL handler)
    12:00  the rails' settlement events that fell due are delivered
    14:00  upcoming-payment notices            (loc_upcoming)
    15:00  installment collections: job, then the worker drains the queue;
           credit-line minimum payments        (loc_due)
    16:00  credit-line overdue                 (loc_overdue)
    17:00  installment late fees, overdue, default
    18:00  invariant checks on everything written that day

Borrowers only act on the days their agenda says, and the jobs only touch what their
indexes return, so an idle borrower-day costs nothing. Every random draw comes from a
generator seeded with the scenario's seed and the borrower's id (`Dice`), so the same
scenario gives the same run on any machine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
from collections.abc import Callable, Iterator

import attrs

from loc_core.applications import ApplicationStatus
from loc_core.creditline import CreditLine, LineStatus
from loc_core.errors import DomainError, IdempotencyConflict, InvariantViolation, LocError
from loc_core.events import DomainEvent, EventType
from loc_core.installment import Loan, LoanStatus
from loc_core.ledger import Bucket, allowance, receivable
from loc_core.payments import PaymentStatus
from loc_core.ports import Severity, TransferRequest
from loc_core.services import lines as line_services
from loc_core.services import loans as loan_services
from loc_core.services.settlement import handle_settlement_event
from loc_entrypoints.simulation.dice import Dice
from loc_entrypoints.simulation.scenario import Scenario
from loc_entrypoints.simulation.tally import Tally
from loc_entrypoints.simulation.world import World

__all__ = ["InvariantBroken", "Simulation"]

_VISIBILITY = dt.timedelta(minutes=5)
_LOAN_STEP = 2_500
"""Loan requests are drawn in $25 steps."""
_DRAW_STEP = 500
_SMALLEST_DRAW = 2_000


class InvariantBroken(Exception):
    """The run stopped: an invariant failed for a borrower on a day."""

    def __init__(self, *, day: dt.date, user_id: str, invariant: str, detail: str) -> None:
        super().__init__(f"{day.isoformat()}: borrower {user_id}: {invariant}: {detail}")
        self.day = day
        self.user_id = user_id
        self.invariant = invariant
        self.detail = detail


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
    commands: int = 0
    """Commands sent so far, to give each its own idempotency key."""


@attrs.define
class Simulation:
    """One run of a scenario: build it, then `run` it."""

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

    @classmethod
    def build(cls, scenario: Scenario) -> Simulation:
        """A fresh deployment with the scenario's borrowers and their first agenda days."""
        world = World.build(scenario)
        simulation = cls(scenario, world, Tally(scenario))
        simulation.agenda = [[] for _ in range(scenario.days)]
        world.notifier.listener = simulation._react
        for number in range(1, scenario.borrowers + 1):
            user_id = f"user-{number:07d}"
            draw = Dice(f"{scenario.seed}:{user_id}")
            borrower = Borrower(user_id, draw.random() < scenario.line_share, draw)
            simulation.borrowers[user_id] = borrower
            world.users.add(user_id, active=draw.random() >= scenario.inactive_user_probability)
            if draw.random() >= scenario.debit_card_probability:
                world.rails.without_card.add(user_id)
            first = draw.randint(*scenario.arrival_days)
            simulation._plan(
                first, Act.APPLY_LINE if borrower.wants_line else Act.APPLY_LOAN, borrower
            )
            if draw.random() < scenario.distressed_probability:
                simulation._plan(first + draw.randint(0, scenario.days), Act.HARDSHIP, borrower)
        return simulation

    # --- the day loop -----------------------------------------------------------------

    def run(self, progress: Callable[[int], None] | None = None) -> Tally:
        """Live every day of the scenario; `progress` hears each finished day's number.

        Raises:
            InvariantBroken: the first invariant that failed, naming borrower and day.
        """
        for day in range(self.scenario.days):
            self.day, self.today = day, self.scenario.start + dt.timedelta(days=day)
            try:
                self._live_one_day()
            except InvariantViolation as exc:  # a use case refused an aggregate's state
                self._broken(self._owner_of(exc), "stored state verifies", str(exc))
            if progress is not None:
                progress(day + 1)
        self.tally.finish(self.world, self.products)
        return self.tally

    def _live_one_day(self) -> None:
        """The production jobs at their hours, the borrowers' acts, then the checks."""
        world, today = self.world, self.today
        world.at(today, 8)
        self._job(line_services.bill_closed_cycles, product=world.line_product)
        world.at(today, 10)
        for act, user_id, argument in self.agenda[self.day]:
            self._act(act, self.borrowers[user_id], argument)
        self.agenda[self.day] = []
        world.at(today, 12)
        self._deliver_settlements()
        world.at(today, 14)
        self._job(line_services.send_upcoming_payment_notices, product=world.line_product)
        world.at(today, 15)
        self._collect_installments()
        with self._charging():
            self._job(
                line_services.collect_due_minimum_payments,
                product=world.line_product,
                rails=world.rails,
                lock=world.lock,
                ids=world.ids,
            )
        world.at(today, 16)
        self._job(line_services.mark_overdue_lines, product=world.line_product)
        world.at(today, 17)
        loan_services.run_daily_loan_job(
            uow=world.uow, clock=world.clock, notifier=world.notifier, alerter=world.alerter
        )
        world.at(today, 18)
        self._check_day()
        self.tally.close_day(today, world, self.products)

    def _owner_of(self, exc: InvariantViolation) -> str:
        """The borrower whose loan or line `exc` is about, or ``?``."""
        if exc.user_id is not None:
            return exc.user_id
        owner = self.products.get(exc.entity_id or "")
        return "?" if owner is None else owner[1]

    @contextlib.contextmanager
    def _charging(self, installment_id: str | None = None) -> Iterator[None]:
        """Note the transfers the rails accept in the block as charges of `installment_id`.

        None: of the line each transfer is for (its `reference`).
        """
        start = len(self.world.sim_rails.submitted)
        try:
            yield
        finally:
            self.job_charges += [
                (installment_id or request.reference, request)
                for request in self.world.sim_rails.submitted[start:]
            ]

    def _job(self, job: Callable[..., object], **ports: object) -> None:
        world = self.world
        job(
            uow=world.uow,
            clock=world.clock,
            notifier=world.notifier,
            alerter=world.alerter,
            **ports,
        )

    def _collect_installments(self) -> None:
        world = self.world
        loan_services.enqueue_due_installments(uow=world.uow, queue=world.queue, clock=world.clock)
        while batch := world.queue.receive(max_messages=10, visibility=_VISIBILITY):
            for received in batch:
                command = loan_services.CollectInstallment.from_message(received.message)
                try:
                    with self._charging(command.installment_id):
                        loan_services.collect_installment(
                            command,
                            uow=world.uow,
                            rails=world.rails,
                            lock=world.lock,
                            clock=world.clock,
                            notifier=world.notifier,
                            alerter=world.alerter,
                            worker_id="sim-worker",
                        )
                except LocError as exc:  # left on the queue: delivered again tomorrow
                    self.tally.refused("collect_installment", exc)
                    continue
                world.queue.ack(received)

    def _deliver_settlements(self) -> None:
        world = self.world
        for event in world.sim_rails.due_events():
            settled = handle_settlement_event(
                event,
                uow=world.uow,
                clock=world.clock,
                line_product=world.line_product,
                notifier=world.notifier,
                alerter=world.alerter,
            )
            self.tally.settled(settled.product, event.outcome, settled.handling)

    # --- borrowers --------------------------------------------------------------------

    def _plan(self, day: int, act: Act, borrower: Borrower, argument: str = "") -> None:
        """Put an act on a borrower's agenda, never earlier than tomorrow once running."""
        day = max(day, self.day + 1)
        if day < self.scenario.days:
            self.agenda[day].append((act, borrower.user_id, argument))

    def _act(self, act: Act, borrower: Borrower, argument: str) -> None:
        try:
            _ACTIONS[act](self, borrower, argument)
        except InvariantViolation as exc:
            self._broken(borrower.user_id, f"{act.value} hit an inconsistent aggregate", str(exc))
        except (DomainError, IdempotencyConflict, LocError) as exc:
            self.tally.refused(act.value, exc)

    def _apply_loan(self, borrower: Borrower, _argument: str) -> None:
        world, scenario = self.world, self.scenario
        low, high = scenario.loan_request
        amount = borrower.draw.randrange(low, high + 1, _LOAN_STEP)
        application = loan_services.apply_for_loan(
            loan_services.ApplyForLoan(borrower.user_id, amount, self._key(borrower, "loan")),
            uow=world.uow,
            users=world.users,
            underwriting=world.underwriting,
            ids=world.ids,
            lock=world.lock,
            idempotency=world.idempotency,
            clock=world.clock,
            product=world.loan_product,
        )
        approved = application.status is ApplicationStatus.APPROVED
        self.tally.applied("installment", approved=approved)
        if not approved:
            return
        borrower.application_id = application.application_id
        if borrower.draw.random() >= scenario.accept_offer_probability:
            self._plan(self.day + 1, Act.EXPIRE_LOAN_OFFER, borrower, application.application_id)
            return
        try:
            loan = loan_services.accept_offer(
                loan_services.AcceptOffer(borrower.user_id, application.application_id),
                uow=world.uow,
                rails=world.rails,
                users=world.users,
                ids=world.ids,
                clock=world.clock,
                notifier=world.notifier,
                alerter=world.alerter,
                product=world.loan_product,
            )
        except LocError:
            self._plan(self.day + 1, Act.EXPIRE_LOAN_OFFER, borrower, application.application_id)
            raise
        borrower.loan_id = loan.loan_id

    def _expire_loan_offer(self, borrower: Borrower, application_id: str) -> None:
        world = self.world
        outcome = loan_services.abandon_expired_application(
            loan_services.AbandonExpiredApplication(borrower.user_id, application_id),
            uow=world.uow,
            clock=world.clock,
        )
        self.tally.expired("installment", outcome.value)

    def _autopay_off(self, borrower: Borrower, loan_id: str) -> None:
        world = self.world
        loan_services.set_autopay(
            loan_services.SetAutopay(borrower.user_id, loan_id, enabled=False),
            uow=world.uow,
            clock=world.clock,
        )

    def _pay_installment(self, borrower: Borrower, argument: str) -> None:
        loan_id, _, installment_id = argument.partition("|")
        loan = self._loan(borrower, loan_id)
        if borrower.in_hardship or loan is None or loan.status is LoanStatus.CLOSED:
            return
        owed = loan.installment(installment_id).outstanding_balance
        if owed > 0:
            self._pay_loan(borrower, loan, min(owed, loan.outstanding_balance), "manual")

    def _prepay(self, borrower: Borrower, loan_id: str) -> None:
        loan = self._loan(borrower, loan_id)
        if borrower.in_hardship or loan is None or loan.status is LoanStatus.CLOSED:
            return
        if not any(p.status is PaymentStatus.PENDING for p in loan.payments.values()):
            self._pay_loan(borrower, loan, loan.outstanding_balance, "prepay")

    def _pay_loan(self, borrower: Borrower, loan: Loan, amount: int, why: str) -> None:
        world = self.world
        loan_services.make_payment(
            loan_services.MakePayment(
                borrower.user_id, loan.loan_id, amount, self._key(borrower, why)
            ),
            uow=world.uow,
            rails=world.rails,
            lock=world.lock,
            idempotency=world.idempotency,
            clock=world.clock,
            notifier=world.notifier,
            alerter=world.alerter,
        )

    def _apply_line(self, borrower: Borrower, _argument: str) -> None:
        world = self.world
        application = line_services.apply_for_line(
            line_services.ApplyForLine(borrower.user_id, self._key(borrower, "line")),
            uow=world.uow,
            users=world.users,
            underwriting=world.underwriting,
            ids=world.ids,
            lock=world.lock,
            idempotency=world.idempotency,
            clock=world.clock,
            product=world.line_product,
            notifier=world.notifier,
            alerter=world.alerter,
        )
        approved = application.status is ApplicationStatus.APPROVED
        self.tally.applied("creditline", approved=approved)
        if not approved:
            return
        if borrower.draw.random() >= self.scenario.accept_offer_probability:
            self._plan(self.day + 1, Act.EXPIRE_LINE_OFFER, borrower, application.application_id)
            return
        line = line_services.accept_line_offer(
            line_services.AcceptLineOffer(borrower.user_id, application.application_id),
            uow=world.uow,
            users=world.users,
            ids=world.ids,
            clock=world.clock,
            product=world.line_product,
            notifier=world.notifier,
            alerter=world.alerter,
        )
        borrower.line_id = line.line_id
        self.products[line.line_id] = ("creditline", borrower.user_id)
        self.tally.opened_line()
        self._plan(self.day + borrower.draw.randint(0, 3), Act.FIRST_DRAW, borrower, line.line_id)

    def _expire_line_offer(self, borrower: Borrower, application_id: str) -> None:
        world = self.world
        line_services.abandon_expired_line_application(
            line_services.AbandonExpiredLineApplication(borrower.user_id, application_id),
            uow=world.uow,
            clock=world.clock,
            notifier=world.notifier,
            alerter=world.alerter,
        )
        self.tally.expired("creditline", "ABANDONED")

    def _draw(self, borrower: Borrower, line_id: str, *, first: bool = False) -> None:
        """Draw part of the available credit; each month the borrower may draw again."""
        world, scenario = self.world, self.scenario
        self._plan(self.day + borrower.draw.randint(25, 35), Act.DRAW, borrower, line_id)
        if not first and borrower.draw.random() >= scenario.draws_per_month:
            return
        line = self._line(borrower, line_id)
        if line is None or borrower.in_hardship:
            return
        share = borrower.draw.randint(*scenario.draw_share)
        amount = line.available_credit * share // 100 // _DRAW_STEP * _DRAW_STEP
        if amount < _SMALLEST_DRAW or line.status is not LineStatus.ACTIVE:
            return
        line_services.draw_from_line(
            line_services.DrawFromLine(
                borrower.user_id, line_id, amount, self._key(borrower, "draw")
            ),
            uow=world.uow,
            rails=world.rails,
            flags=world.flags,
            clock=world.clock,
            product=world.line_product,
            notifier=world.notifier,
            alerter=world.alerter,
        )

    def _pay_line(self, borrower: Borrower, line_id: str, *, full: bool) -> None:
        line = self._line(borrower, line_id)
        if line is None or borrower.in_hardship:
            return
        amount = line.total_balance if full else line.minimum_payment_outstanding
        if amount <= 0:
            return
        world = self.world
        line_services.pay_line(
            line_services.PayLine(borrower.user_id, line_id, amount, self._key(borrower, "pay")),
            uow=world.uow,
            rails=world.rails,
            lock=world.lock,
            ids=world.ids,
            clock=world.clock,
            product=world.line_product,
            notifier=world.notifier,
            alerter=world.alerter,
        )

    def _key(self, borrower: Borrower, what: str) -> str:
        """A fresh idempotency key for one command of a borrower's."""
        borrower.commands += 1
        return f"{what}-{self.day}-{borrower.commands}"

    def _hardship(self, borrower: Borrower, _argument: str) -> None:
        borrower.in_hardship = True
        self.world.rails.in_hardship.add(borrower.user_id)
        self.tally.hardships += 1

    def _loan(self, borrower: Borrower, loan_id: str) -> Loan | None:
        with self.world.uow as uow:
            return uow.loans.get(borrower.user_id, loan_id) if loan_id else None

    def _line(self, borrower: Borrower, line_id: str) -> CreditLine | None:
        with self.world.uow as uow:
            return uow.lines.get(borrower.user_id, line_id) if line_id else None

    # --- borrowers react to what they are told ----------------------------------------

    def _react(self, event: DomainEvent) -> None:
        borrower = self.borrowers.get(event.user_id)
        if borrower is None:
            return
        if event.type is EventType.LOAN_DISBURSED:
            self._plan_loan(borrower, event.subject_id)
        elif event.type is EventType.LOAN_CLOSED and not borrower.in_hardship:
            if borrower.draw.random() < self.scenario.reborrow_probability:
                delay = borrower.draw.randint(*self.scenario.reborrow_delay_days)
                self._plan(self.day + max(delay, 1), Act.APPLY_LOAN, borrower)
        elif event.type is EventType.LOC_STATEMENT_READY and not borrower.in_hardship:
            roll = borrower.draw.random()
            if roll < self.scenario.pay_full_probability:
                self._plan(
                    self.day + borrower.draw.randint(1, 15),
                    Act.PAY_LINE_FULL,
                    borrower,
                    event.subject_id,
                )
            elif roll < self.scenario.pay_full_probability + self.scenario.pay_minimum_probability:
                self._plan(
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
            self._plan(self.day + 1, Act.AUTOPAY_OFF, borrower, loan_id)
            for installment in loan.installments:
                if draw.random() < scenario.manual_pay_probability:
                    due = (installment.due_date - self.scenario.start).days
                    self._plan(
                        due - draw.randint(0, 2),
                        Act.PAY_INSTALLMENT,
                        borrower,
                        f"{loan_id}|{installment.installment_id}",
                    )
        if draw.random() < scenario.prepay_probability:
            second, last = loan.installments[1].due_date, loan.installments[-2].due_date
            when = (second - scenario.start).days + draw.randint(0, (last - second).days)
            self._plan(when, Act.PREPAY, borrower, loan_id)

    # --- invariants -------------------------------------------------------------------

    def _broken(self, user_id: str, invariant: str, detail: str) -> None:
        self.tally.invariant_violations += 1
        raise InvariantBroken(day=self.today, user_id=user_id, invariant=invariant, detail=detail)

    def _check_day(self) -> None:
        world = self.world
        critical = [a for a in world.alerter.posted if a.severity is Severity.CRITICAL]
        if critical:
            alert = critical[0]
            self._broken(str(alert.details.get("user_id", "?")), "operations alert", alert.title)
        self.tally.warnings += len(world.alerter.posted)
        world.alerter.posted.clear()
        if world.database.ledger.trial_balance() != 0:
            self._broken(
                "-", "ledger balanced", f"trial balance {world.database.ledger.trial_balance()}"
            )
        for kind, user_id, entity_id in world.database.take_touched():
            if kind == "loan":
                self._check_loan(user_id, entity_id)
            elif kind == "line":
                self._check_line(user_id, entity_id)
        self._check_no_double_charge()

    def _check_loan(self, user_id: str, loan_id: str) -> None:
        loan: Loan = self.world.database.peek(("loan", user_id, loan_id))
        problems = loan.problems()
        if problems:
            self._broken(user_id, "outstanding = total - applications", problems[0])
        self._check_buckets(user_id, loan_id, loan.bucket_balances())
        reserved = -self.world.database.ledger.balance(allowance(loan_id))
        expected = loan.outstanding_balance if loan.status is LoanStatus.DEFAULTED else 0
        if reserved != expected:
            self._broken(
                user_id, "reconciliation clean", f"{loan_id} allowance {reserved} != {expected}"
            )

    def _check_line(self, user_id: str, line_id: str) -> None:
        line: CreditLine = self.world.database.peek(("line", user_id, line_id))
        owed = {
            Bucket.PRINCIPAL: line.principal_balance,
            Bucket.INTEREST: line.interest_balance,
            Bucket.FEE: line.fee_balance,
        }
        self._check_buckets(user_id, line_id, owed)
        if not 0 <= line.available_credit <= line.credit_limit:
            self._broken(
                user_id, "available credit within the limit", f"{line_id} {line.available_credit}"
            )

    def _check_buckets(self, user_id: str, owner_id: str, owed: dict[Bucket, int]) -> None:
        """Every bucket is owed a non-negative amount, and the ledger says the same."""
        ledger = self.world.database.ledger
        for bucket, amount in owed.items():
            if amount < 0:
                self._broken(user_id, "no negative balance", f"{owner_id} {bucket.value} {amount}")
            booked = ledger.balance(receivable(owner_id, bucket))
            if booked != amount:
                self._broken(
                    user_id,
                    "ledger equals balances",
                    f"{owner_id} {bucket.value}: ledger {booked} != aggregate {amount}",
                )

    def _check_no_double_charge(self) -> None:
        """No installment or line is charged twice by autopay or the due job in one day."""
        self.world.sim_rails.take_submitted()  # the borrowers' own transfers are not checked
        seen: set[str] = set()
        for charged, request in self.job_charges:
            if charged in seen:
                self._broken(
                    request.user_id, "no double charge", f"{charged} charged twice on {self.today}"
                )
            seen.add(charged)
        self.job_charges.clear()


_ACTIONS: dict[Act, Callable[[Simulation, Borrower, str], None]] = {
    Act.APPLY_LOAN: Simulation._apply_loan,  # noqa: SLF001 - the table is the class's own
    Act.EXPIRE_LOAN_OFFER: Simulation._expire_loan_offer,  # noqa: SLF001
    Act.AUTOPAY_OFF: Simulation._autopay_off,  # noqa: SLF001
    Act.PAY_INSTALLMENT: Simulation._pay_installment,  # noqa: SLF001
    Act.PREPAY: Simulation._prepay,  # noqa: SLF001
    Act.APPLY_LINE: Simulation._apply_line,  # noqa: SLF001
    Act.EXPIRE_LINE_OFFER: Simulation._expire_line_offer,  # noqa: SLF001
    Act.FIRST_DRAW: lambda s, b, a: s._draw(b, a, first=True),  # noqa: SLF001
    Act.DRAW: Simulation._draw,  # noqa: SLF001
    Act.PAY_LINE_FULL: lambda s, b, a: s._pay_line(b, a, full=True),  # noqa: SLF001
    Act.PAY_LINE_MINIMUM: lambda s, b, a: s._pay_line(b, a, full=False),  # noqa: SLF001
    Act.HARDSHIP: Simulation._hardship,  # noqa: SLF001
}
