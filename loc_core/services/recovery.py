"""The recovery job: finish every money movement a dead process left half done.

Scheduled daily first thing (before the jobs that read balances, so a paid minimum is
never taken for a missed one) and safe to run at any time, any number of times. It reads
the open intents older than `RECOVERY_AFTER` (every lease a live attempt could hold has
run out by then) and, for each, under the same lease the command holds:

- BOOKED with events to publish or settlement events held: publishes and applies them;
- PENDING: asks each rail what it did with the intent's key (`PaymentRails.find`, which
  moves nothing). A rail that accepted: the money is booked exactly as the command
  would have booked it, with the intent, in one commit. No rail that accepted: nothing
  moved, the intent is ABANDONED (a draw FAILS and its hold is released);
- a rail that cannot tell, or a booking that fails, leaves the intent PENDING for the
  next run and is a CRITICAL alert: money may have moved that the books do not show.

The job never submits a transfer: a movement whose process died before its rail call
is abandoned, not carried out a day late.

Then it publishes the domain events a commit kept in the `EventOutbox` and no process
published (it died between its commit and its publish) once they are older than
`RECOVERY_AFTER`: a settlement's, a job's or an application's notification is sent late,
never lost. Handlers drop a repeat by the event's identity. A kept item this release
cannot read (a newer release's event type, after a rollback; a damaged item) holds back
none of them: it is left kept for a release that reads it, alerted (WARNING) the first
time a run meets it, and counted in every run's report (`unreadable`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress

import attrs

from loc_core.creditline import DrawStatus
from loc_core.errors import (
    CorrectionTooOld,
    ExternalServiceError,
    IdempotencyConflict,
    InvalidRequest,
    InvalidTransition,
    LocError,
    LockNotAcquired,
    Ref,
)
from loc_core.events import AuditValue, DomainEvent
from loc_core.installment import Process
from loc_core.intents import (
    IntentKind,
    IntentStatus,
    TransferIntent,
    intent_id_of,
    request_fingerprint,
)
from loc_core.payments import Direction, Rail
from loc_core.ports import (
    EventOutbox,
    IntentRef,
    Lease,
    Lock,
    Metrics,
    Severity,
    TransferResult,
    UnreadableEvent,
)
from loc_core.services.kit import (
    committed_alert,
    leased,
    lock_key,
    moment,
    post_alert,
    retry_on_conflict,
)
from loc_core.services.lines import LineWriter
from loc_core.services.lines._unit import LEASE_TTL
from loc_core.services.lines.booking import LineDebits
from loc_core.services.lines.drawing import abandon_draw, book_draw
from loc_core.services.lines.paying import DEBIT_LOCK_PROCESS
from loc_core.services.loans.booking import LoanTransfers
from loc_core.services.loans.collections_worker import book_autopay
from loc_core.services.loans.disbursement import AUTOPAY_CHOICE, Originator, book_disbursement
from loc_core.services.loans.payments import PAYMENT_LEASE, payment_lease_key
from loc_core.services.messagebus import Command
from loc_core.services.moving import RECOVERY_AFTER, BookTakenDebit, Movements, intent_details
from loc_core.services.rails import Transfer
from loc_core.validation import Cents, Flag, Id, Text, TransferKey, instance_of, validated

__all__ = [
    "BookLostTransfer",
    "RecoverTransfers",
    "RecoveryReport",
    "SettleTransferByHand",
    "book_lost_transfer",
    "book_taken_debit",
    "recover_transfers",
    "settle_transfer_by_hand",
]

_ACTOR = "recovery"
_AUTOPAY_ENABLED = {choice: enabled for enabled, choice in AUTOPAY_CHOICE.items()}


@attrs.frozen
class RecoverTransfers(Command["RecoveryReport"]):
    """Run the recovery job: finish the intents dead processes left open."""


@attrs.frozen
class RecoveryReport:
    """What one run of the recovery job found and did."""

    examined: int = 0
    """Open intents older than `RECOVERY_AFTER`."""
    booked: int = 0
    """Money a rail moved that is now booked."""
    abandoned: int = 0
    """Intents no rail had moved money for: closed with nothing booked."""
    finished: int = 0
    """Booked intents whose events were published (or held events applied)."""
    busy: int = 0
    """Intents whose lease a live process holds: left for the next run."""
    failed: int = 0
    """Intents the job could not finish (alerted, CRITICAL): still open."""
    republished: int = 0
    """Committed events a dead process never published, published now (`EventOutbox`)."""
    unpublished: int = 0
    """Such events whose handlers failed again (alerted): kept for the next run."""
    unreadable: int = 0
    """Kept items this release cannot read (`UnreadableEvent`): left kept for a release
    that reads them (or an operator), alerted the first time a run meets each."""

    @property
    def still_open(self) -> int:
        """How many intents this run left open."""
        return self.busy + self.failed


@attrs.frozen(field_transformer=validated)
class SettleTransferByHand(Command[str]):
    """An operator settles a money movement no rail can tell about; answers what was done.

    `moved`: the money moved (the operator saw it at the bank: on `rail`, with its
    `confirmation_id`), so it is booked as the recovery job books one; or nothing moved,
    so the movement is abandoned. `reason` is why the operator knows (it goes into the
    alert that records the settlement).
    """

    user_id: Id
    intent_id: TransferKey
    """The movement's intent (the stem of its transfer keys, as the alerts name it)."""
    moved: Flag
    reason: Text
    rail: Rail | None = attrs.field(default=None, validator=instance_of(Rail, optional=True))
    confirmation_id: str = attrs.field(default="", validator=instance_of(str))

    def __attrs_post_init__(self) -> None:
        """A movement that moved names its rail and confirmation; one that did not, neither.

        Raises:
            InvalidRequest: naming the field that does not fit `moved`.
        """
        if self.moved and (self.rail is None or not self.confirmation_id.strip()):
            raise InvalidRequest(
                "money that moved is booked with the rail and the confirmation the bank gave",
                key="rail" if self.rail is None else "confirmation_id",
            )
        if not self.moved and (self.rail is not None or self.confirmation_id):
            raise InvalidRequest(
                "a movement that moved nothing names no rail and no confirmation",
                key="rail" if self.rail is not None else "confirmation_id",
            )


@attrs.frozen
class _Recovery:
    movements: Movements
    loans: LoanTransfers
    debits: LineDebits
    lines: LineWriter
    originator: Originator
    actor: str = _ACTOR
    """Who books what this finishes (the recovery job, or an operator by hand)."""

    def run(self, user_id: str, intent_id: str, lease: Lease | None) -> str | None:
        """Finish one intent, read afresh; the report counter it adds to (None: none)."""
        with self.movements.uow as uow:
            intent = uow.intents.get(user_id, intent_id)
        if not intent.is_open:
            return None
        if intent.status is IntentStatus.BOOKED or (
            intent.status is IntentStatus.ABANDONED and intent.to_publish
        ):
            self.movements.finish(intent)
            return "finished"
        transfer = self.movements.look_up(intent)
        if transfer is None:
            self._abandon(intent)
            return "abandoned"
        self.movements.finish(self._book(intent, transfer, lease))
        return "booked"

    def _book(
        self, intent: TransferIntent, transfer: Transfer, lease: Lease | None
    ) -> TransferIntent:
        today = self.lines.today
        kind = intent.kind
        _require_lost_debits_day(intent, transfer)
        taken_at = transfer.taken_before(today)
        if kind is IntentKind.DISBURSEMENT:
            make_loan = self.originator.maker(
                intent.user_id, autopay_enabled=_AUTOPAY_ENABLED.get(intent.item_id, True)
            )
            return book_disbursement(self.loans, intent, transfer, make_loan)[1]
        if kind is IntentKind.LOAN_PAYMENT:
            return self.loans.book(
                intent,
                transfer,
                process=Process.MANUAL,
                what=f"manual payment (booked by {self.actor})",
                today=today,
                actor=self.actor,
                lease=lease,
            )
        if kind is IntentKind.AUTOPAY:  # the attempt is the day its worker first sent it
            return book_autopay(
                self.loans,
                intent,
                transfer,
                today=today,
                lease=lease,
                actor=self.actor,
                attempted_on=min(today, (taken_at or intent.created_at).date()),
            )
        if kind is IntentKind.DRAW:
            book_draw(intent, transfer, lines=self.lines, movements=self.movements)
            with self.lines.uow as uow:
                return uow.intents.get(intent.user_id, intent.intent_id)
        return self.debits.book(intent, transfer, actor=self.actor, lease=lease)[1]

    def _abandon(
        self,
        intent: TransferIntent,
        reason: str = "no rail received the transfer (found by the recovery job)",
    ) -> None:
        if intent.kind is IntentKind.DRAW and self._has_pending_draw(intent):
            abandon_draw(
                intent, reason, lines=self.lines, movements=self.movements, actor=self.actor
            )
            return
        self.movements.abandon(intent, reason)

    def _has_pending_draw(self, intent: TransferIntent) -> bool:
        with self.lines.uow as uow:
            draw = uow.lines.get(intent.user_id, intent.account_id).draws.get(intent.intent_id)
        return draw is not None and draw.status is DrawStatus.PENDING


def _lease(ref: TransferIntent, lock: Lock, owner: str) -> AbstractContextManager[Lease | None]:
    """The lease the intent's command holds, so a live attempt is never raced."""
    if ref.kind in {IntentKind.LOAN_PAYMENT, IntentKind.AUTOPAY}:
        return leased(
            lock, payment_lease_key(ref.user_id, ref.account_id), owner=owner, ttl=PAYMENT_LEASE
        )
    if ref.kind in {IntentKind.LINE_PAYMENT, IntentKind.DUE_PAYMENT}:
        key = lock_key(DEBIT_LOCK_PROCESS, user_id=ref.user_id, item_id=ref.account_id)
        return leased(lock, key, owner=owner, ttl=LEASE_TTL)
    return nullcontext()


@contextmanager
def _counted(report: dict[str, int], ref: IntentRef, movements: Movements) -> Iterator[None]:
    try:
        yield
    except LockNotAcquired:
        report["busy"] += 1
    except LocError as exc:
        report["failed"] += 1
        post_alert(
            movements.alerter,
            "money movement left open: the recovery job could not finish it",
            {
                "user_id": ref.user_id,
                "intent_id": ref.intent_id,
                "held_back": "every other debit on its loan or line waits until it is settled;"
                " if its rail can never tell, settle it by hand: loc transfers settle",
            },
            error=exc,
        )


def recover_transfers(
    _command: RecoverTransfers,
    *,
    movements: Movements,
    loans: LoanTransfers,
    debits: LineDebits,
    lines: LineWriter,
    originator: Originator,
    lock: Lock,
    metrics: Metrics,
    outbox: EventOutbox,
) -> RecoveryReport:
    """Finish the open intents, then publish stranded events (see the module's rule)."""
    now, _ = moment(movements.clock)
    recovery = _Recovery(movements, loans, debits, lines, originator)
    with movements.uow as uow:
        refs = uow.intents.open_before(now - RECOVERY_AFTER)
    counts = dict.fromkeys(("booked", "abandoned", "finished", "busy", "failed"), 0)
    for ref in refs:
        with _counted(counts, ref, movements):
            with movements.uow as uow:
                intent = uow.intents.get(ref.user_id, ref.intent_id)
            if intent.is_open:
                with _lease(intent, lock, owner=f"{_ACTOR}:{now.isoformat()}") as lease:
                    done = recovery.run(ref.user_id, ref.intent_id, lease)
                if done is not None:
                    counts[done] += 1
    for name, value in counts.items():
        if value:
            metrics.increment(f"loc.recovery.{name}", value)
    if counts["failed"]:
        post_alert(
            movements.alerter,
            f"recovery job left {counts['failed']} money movements open",
            {"examined": len(refs), **{k: v for k, v in counts.items() if v}},
        )
    republished, unpublished, unreadable = _republish(outbox, movements, now)
    if republished:
        metrics.increment("loc.recovery.republished", republished)
    if unreadable:
        metrics.increment("loc.recovery.unreadable", unreadable)
    return RecoveryReport(
        examined=len(refs),
        **counts,
        republished=republished,
        unpublished=unpublished,
        unreadable=unreadable,
    )


_REPUBLISH_PAGE = 500
"""How many kept events the recovery job reads from the outbox at a time."""


def _republish(outbox: EventOutbox, movements: Movements, now: dt.datetime) -> tuple[int, int, int]:
    """Publish, oldest first, the events kept since `RECOVERY_AFTER` before `now`.

    Answers (published, failed, unreadable). Each event goes alone, so one whose handler
    fails (alerted, kept for the next run) never holds back the rest; nor does an item
    this release cannot read (`_report_unreadable`).
    """
    published, failed, seen = 0, 0, set[str]()
    unreadable: list[UnreadableEvent] = []
    while True:
        # What this run already met stays listed while the outbox fails to clear it (the
        # bus counts that and goes on), and so does every item it cannot read: each is
        # handled at most once a run.
        limit = _REPUBLISH_PAGE + len(seen)
        page = outbox.undelivered(committed_before=now - RECOVERY_AFTER, limit=limit)
        fresh = [kept.event for kept in page.events if kept.event.event_id not in seen]
        strange = [item for item in page.unreadable if item.event_id not in seen]
        seen.update(item.event_id for item in strange)
        unreadable += strange
        for event in fresh:
            seen.add(event.event_id)
            try:
                movements.bus.publish([event])
            except Exception as exc:  # noqa: BLE001 - one event's failure never stops the job
                failed += 1
                post_alert(
                    movements.alerter,
                    f"committed event {event.type.value} could not be published",
                    {"event_id": event.event_id, "user_id": event.user_id},
                    error=exc,
                )
            else:
                published += 1
        if not (fresh or strange) or len(page.events) + len(page.unreadable) < limit:
            _report_unreadable(outbox, movements, unreadable, now)
            return published, failed, len(unreadable)


def _report_unreadable(
    outbox: EventOutbox, movements: Movements, unreadable: list[UnreadableEvent], now: dt.datetime
) -> None:
    """Alert each kept item this release cannot read, once: the first run that meets it.

    A WARNING, not CRITICAL: nothing is lost (the item stays kept; a newer release rolled
    forward, or an operator, delivers it), but a borrower's notice or an alert waits on
    it. Later runs only count it (`RecoveryReport.unreadable`, ``loc.recovery.unreadable``),
    so a rollback that lasts days does not post it every quarter hour. A store that cannot
    note the alert leaves it to be posted again by the next run, never unsaid.
    """
    new = [item for item in unreadable if not item.reported]
    for item in new:
        post_alert(
            movements.alerter,
            f"kept event of type {item.type!r} cannot be read by this release: left kept",
            {
                "event_id": item.event_id,
                "type": item.type,
                "problem": item.problem,
                "to_deliver": "roll forward a release that knows the type (its recovery job"
                " publishes it); a damaged item is an operator's to repair or remove",
            },
            severity=Severity.WARNING,
        )
    if new:
        with suppress(ExternalServiceError):  # posted again next run: a repeat, never a silence
            outbox.reported(new, at=now)


def settle_transfer_by_hand(
    command: SettleTransferByHand,
    *,
    movements: Movements,
    loans: LoanTransfers,
    debits: LineDebits,
    lines: LineWriter,
    originator: Originator,
    lock: Lock,
) -> str:
    """Book or abandon, as the operator says, a PENDING movement no rail can tell about.

    A movement whose rail cannot say what it did stays PENDING through every recovery
    run (each alerts it CRITICAL), and it holds back every other debit on its loan or
    line (`Movements.unconfirmed_debits`). When the operator learns its fate elsewhere
    (the bank's report, the processor's portal), this settles it under the same lease
    the command holds: `moved` books it on `rail` with `confirmation_id`, as the recovery
    job would have; otherwise it is ABANDONED (a draw FAILS and releases its hold). The
    settlement is alerted (WARNING) with the operator's reason. A rail that can answer
    is never overruled: such a movement is the recovery job's. Answers ``booked`` or
    ``abandoned``.

    Raises:
        NotFound: no such intent for the user.
        InvalidTransition: the movement is not PENDING (booked or abandoned already).
        InvalidRequest: a rail answers for it (run the recovery job), `rail` is not one
            the movement was offered to, or it began less than `RECOVERY_AFTER` ago (its
            live attempt may still be asking a rail: a draw or a disbursement holds no
            lease to wait on).
        LockNotAcquired: a live attempt holds its lease; try again shortly.
    """
    with movements.uow as uow:
        intent = uow.intents.get(command.user_id, command.intent_id)
    about = Ref("intent", intent.intent_id, intent.user_id)
    _settleable_by_hand(intent, about)
    now, _ = moment(movements.clock)
    if intent.created_at > now - RECOVERY_AFTER:
        # A draw or a disbursement holds no lease the operator could wait on: only its
        # age says that no live attempt is still asking a rail (the recovery job's rule).
        raise InvalidRequest(
            f"transfer {intent.intent_id} began at {intent.created_at.isoformat()}: its "
            f"live attempt may still be moving the money; settle it by hand from "
            f"{(intent.created_at + RECOVERY_AFTER).isoformat()} on",
            key="intent_id",
            about=about,
        )
    if command.rail is not None and command.rail not in intent.rails:
        offered = ", ".join(rail.value for rail in intent.rails)
        raise InvalidRequest(
            f"transfer {intent.intent_id} was offered to {offered}, not {command.rail.value}",
            key="rail",
            about=about,
        )
    try:
        taken = movements.look_up(intent)
    except ExternalServiceError:
        pass  # the rail cannot tell: the operator's word is what there is
    else:
        said = "it moved" if taken is not None else "nothing moved"
        raise InvalidRequest(
            f"a rail answers for transfer {intent.intent_id} ({said}): the recovery job "
            "settles it; only a movement no rail can tell about is settled by hand",
            key="intent_id",
            about=about,
        )
    recovery = _Recovery(movements, loans, debits, lines, originator, actor=_OPERATOR)
    outcome = "booked" if command.moved and command.rail is not None else "abandoned"
    with _lease(intent, lock, owner=f"{_OPERATOR}:{intent.intent_id}") as lease:
        with movements.uow as uow:  # read afresh: an attempt may have finished it meanwhile
            intent = uow.intents.get(command.user_id, command.intent_id)
        _settleable_by_hand(intent, about)
        # The operator's alert is noted on the intent first, so the settlement's commit
        # carries it and whoever finishes the intent (this, or the recovery job after a
        # crash) posts it: never lost to a process that dies after settling. It says what
        # the operator asked: a process that died before settling leaves the intent to the
        # recovery job, which finishes it as the rails then say (the intent shows which).
        alert = _operator_alert(
            f"money movement settled by hand: the operator asked it {outcome}",
            intent,
            now,
            reason=command.reason,
            rail=command.rail and command.rail.value,
            confirmation_id=command.confirmation_id.strip(),
        )
        intent = _noted(movements, intent, alert)
        if command.moved and command.rail is not None:
            key = intent.transfer_key(command.rail)
            transfer = Transfer(command.rail, key, command.confirmation_id.strip())
            movements.finish(recovery._book(intent, transfer, lease))  # noqa: SLF001 - this module's own
        else:
            recovery._abandon(intent, f"settled by hand: nothing moved ({command.reason})")  # noqa: SLF001 - same
            movements.finish_stored(intent.user_id, intent.intent_id)
    return outcome


def _operator_alert(
    title: str, intent: TransferIntent, now: dt.datetime, **details: AuditValue
) -> DomainEvent:
    """The WARNING an operator's settlement of `intent` posts, to note on the intent."""
    return committed_alert(
        title,
        {**intent_details(intent), **details},
        user_id=intent.user_id,
        subject_id=intent.intent_id,
        on=now.date(),
    )


def _noted(movements: Movements, intent: TransferIntent, alert: DomainEvent) -> TransferIntent:
    """`intent` with `alert` noted on it, in a commit of its own (`TransferIntent.note`)."""

    def attempt() -> TransferIntent:
        with movements.uow as uow:
            stored = uow.intents.get(intent.user_id, intent.intent_id)
            stored.note([alert], movements.clock.now())
            uow.intents.save(stored)
            uow.commit(actor=_OPERATOR, request_id=intent.request_key)
        return stored

    return retry_on_conflict(attempt)


def _settleable_by_hand(intent: TransferIntent, about: Ref) -> None:
    """Refuse settling by hand a movement that is not PENDING.

    Raises:
        InvalidTransition: it is booked or abandoned already.
    """
    if intent.status is not IntentStatus.PENDING:
        raise InvalidTransition(
            f"transfer {intent.intent_id} is {intent.status.value}: only a PENDING one is "
            "settled by hand",
            about=about,
        )


_OPERATOR = "operator"
"""Who books or abandons a movement settled by hand (`SettleTransferByHand`)."""

_LATER_DEBIT = "later-debit"
"""Who books a lost debit that the next debit on its account found (`BookTakenDebit`)."""


def book_taken_debit(
    command: BookTakenDebit,
    *,
    movements: Movements,
    loans: LoanTransfers,
    debits: LineDebits,
    lines: LineWriter,
    originator: Originator,
) -> None:
    """Book a PENDING debit its rail took, for a later debit that found it (`BookTakenDebit`).

    The later debit holds the account's lease (`command.lease`), which fences this
    booking's commit as it fences the recovery job's; the booking is the recovery job's
    (`_Recovery`), then its events are published and its held settlement events applied.
    A debit booked or abandoned meanwhile is left as it is.
    """
    with movements.uow as uow:
        intent = uow.intents.get(command.user_id, command.intent_id)
    if intent.status is not IntentStatus.PENDING:
        return
    recovery = _Recovery(movements, loans, debits, lines, originator, actor=_LATER_DEBIT)
    movements.finish(recovery._book(intent, command.transfer, command.lease))  # noqa: SLF001 - this module's own


@attrs.frozen(field_transformer=validated)
class BookLostTransfer(Command[str]):
    """An operator books a debit a rail took that the table has no record of.

    After the table is restored from a backup behind the rails (or an item is lost), a
    rail holds transfers whose intent, payment and entries are gone: the debit moved the
    borrower's money and nothing shows it, so the next debit takes the same money again.
    The operator finds them on the processor's report (and in the CRITICAL alerts
    "settlement event for a transfer no loan or line records") and books each here: the
    rail's `transfer_key`, the loan or line it paid (`account_id`), the `amount` the
    report shows and its `confirmation_id`, which the rail must confirm. Answers
    ``booked``.
    """

    user_id: Id
    account_id: Id
    """The loan (``manual:``, ``autopay:`` keys) or line (``pay:``, ``due:``) it paid."""
    transfer_key: TransferKey
    """The transfer's key at the rail: ``<intent id>:<rail>``."""
    amount: Cents
    confirmation_id: Text
    reason: Text


_LOST_KINDS = {
    "manual": IntentKind.LOAN_PAYMENT,
    "autopay": IntentKind.AUTOPAY,
    "pay": IntentKind.LINE_PAYMENT,
    "due": IntentKind.DUE_PAYMENT,
}
"""The debits a lost transfer can be booked as, by their key's first field."""


def book_lost_transfer(
    command: BookLostTransfer,
    *,
    movements: Movements,
    loans: LoanTransfers,
    debits: LineDebits,
    lines: LineWriter,
    originator: Originator,
    lock: Lock,
) -> str:
    """Book a debit its rail took that no intent records (`BookLostTransfer`).

    The transfer is checked against what the table and the rail know before anything is
    written: its key must be a debit's key on `account_id` (a credit, a disbursement or a
    draw, is handled by hand: its offer or draw record is lost too), the table must
    record no movement under it (an open one is the recovery job's or `loc transfers
    settle`'s; a booked or abandoned one is not lost), and the rail must say it accepted
    the transfer with `confirmation_id`. Then the debit's intent is committed PENDING, as
    its command would have committed it, and booked under the account's lease exactly as
    the recovery job books one a rail took (a payment on a loan or line already paid
    becomes a refund due); a booking that fails leaves the intent PENDING, and the
    recovery job books it. The booking is alerted (WARNING) with the operator's reason.

    The debit counts from the day its rail took it (`TransferResult.accepted_at`): taken
    before today, it is booked as an effective-dated correction of the loan or line as of
    that day (`LoanTransfers.book`, `LineDebits.book`: `Transfer.taken_before`), whoever books the
    intent (this, or the recovery job after a crash: `_require_lost_debits_day`).

    Raises:
        InvalidRequest: the key is not a debit's on the account, the table records it, or
            the rail did not take it with `confirmation_id`, or does not say when it took
            it, or took it before the loan or line began.
        CorrectionTooOld: the rail took it further back than the product's correction
            reach (or on a loan adopted from the Go service): nothing is written, and
            operations are alerted (CRITICAL) to book it by hand.
        NotFound: the user has no such loan or line, or the loan no such installment.
        ExternalServiceError: the rail cannot tell now; try again later.
        LockNotAcquired: a debit on the account is being sent; try again shortly.
    """
    key = command.transfer_key
    intent_id = intent_id_of(key)
    about = Ref("intent", intent_id or key, command.user_id)
    kind = _LOST_KINDS.get(key.partition(":")[0])
    if intent_id is None or kind is None:
        raise InvalidRequest(
            f"{key!r} is not the transfer key of a debit (manual:, autopay:, pay: or due:, "
            "ending in its rail): a lost disbursement or draw is handled by hand",
            key="transfer_key",
            about=about,
        )
    rail = Rail(key.rpartition(":")[2])
    item_id = _lost_item(command, kind, intent_id, lines, about)
    with movements.uow as uow:
        stored = uow.intents.find(intent_id)
        paid = uow.loans.find_payment(key) or uow.lines.find_payment(key)
    if stored is not None or paid is not None:
        status = "a booked payment" if stored is None else f"its movement {stored.status.value}"
        raise InvalidRequest(
            f"the table records transfer {key} ({status}): it is not lost; an open one is "
            "the recovery job's (or loc transfers settle's)",
            key="transfer_key",
            about=about,
        )
    found = movements.rails.find(key)
    if found is None or not found.accepted:
        said = "never received it" if found is None else "declined it"
        raise InvalidRequest(
            f"the {rail.value} rail {said}: transfer {key} moved nothing, there is nothing to book",
            key="transfer_key",
            about=about,
        )
    if found.confirmation_id != command.confirmation_id.strip():
        raise InvalidRequest(
            f"the {rail.value} rail confirms transfer {key} as {found.confirmation_id!r}, "
            f"not {command.confirmation_id!r}: check the report",
            key="confirmation_id",
            about=about,
        )
    _check_rail_record(command, found, rail, about)
    now, today = moment(movements.clock)
    transfer = Transfer(rail, key, found.confirmation_id, found.accepted_at)
    taken_at = transfer.taken_before(today)
    taken_on = today if taken_at is None else taken_at.date()
    try:
        if taken_at is not None:
            _check_reach(command, kind, taken_on=taken_on, today=today, lines=lines, about=about)
    except CorrectionTooOld as exc:  # money moved that the books will not show: page
        post_alert(
            movements.alerter,
            "lost transfer too old to book as of its day: book it by hand",
            {
                "user_id": command.user_id,
                "account_id": command.account_id,
                "transfer_key": key,
                "amount": command.amount,
                "confirmation_id": found.confirmation_id,
                "taken_on": taken_on.isoformat(),
                "reason": command.reason,
            },
            error=exc,
        )
        raise
    intent = TransferIntent(
        intent_id=intent_id,
        user_id=command.user_id,
        kind=kind,
        account_id=command.account_id,
        item_id=item_id,
        direction=Direction.DEBIT,
        amount=command.amount,
        rails=(rail,),
        fingerprint=_lost_fingerprint(command.user_id, key, command.amount),
        request_key=intent_id.removeprefix(f"{key.partition(':')[0]}:{command.account_id}:"),
        created_at=now,
        updated_at=now,
    )
    # Committed with the intent: whoever books it (this, or the recovery job after a
    # crash) posts the operator's alert with the booking's events, once.
    intent.note(
        [
            _operator_alert(
                "lost transfer booked by hand",
                intent,
                now,
                reason=command.reason,
                rail=rail.value,
                confirmation_id=found.confirmation_id,
            )
        ],
        now,
    )
    with movements.uow as uow:
        if uow.intents.find(intent_id) is not None:  # booked meanwhile by its own retry
            raise IdempotencyConflict(
                f"transfer {key} was recorded meanwhile: run the recovery job",
                about=about,
                key=intent_id,
            )
        uow.intents.add(intent)
        uow.commit(actor=_OPERATOR, request_id=intent_id)
    recovery = _Recovery(movements, loans, debits, lines, originator, actor=_OPERATOR)
    with _lease(intent, lock, owner=f"{_OPERATOR}:{intent_id}") as lease:
        movements.finish(recovery._book(intent, transfer, lease))  # noqa: SLF001 - this module's own
    return "booked"


def _check_rail_record(
    command: BookLostTransfer, found: TransferResult, rail: Rail, about: Ref
) -> None:
    """Refuse a lost debit whose amount or direction the rail does not record as typed.

    The books take the rail's word, not the operator's: a typo in `amount` would owe the
    borrower money, or take it twice, and a credit's key is never a debit. A rail that
    does not say when it took the debit is refused too: the booking counts from that day,
    and today would be a guess that charges the borrower for days they had paid.
    """
    key = command.transfer_key
    if found.amount is None or found.direction is None:
        raise InvalidRequest(
            f"the {rail.value} rail does not say what transfer {key} moved, so the amount "
            "cannot be checked: handle it by hand with the processor",
            key="amount",
            about=about,
        )
    if found.accepted_at is None or found.accepted_at.utcoffset() is None:
        raise InvalidRequest(
            f"the {rail.value} rail does not say when it took transfer {key}, so the day "
            "the borrower paid is not known: handle it by hand with the processor",
            key="transfer_key",
            about=about,
        )
    if found.direction is not Direction.DEBIT:
        raise InvalidRequest(
            f"the {rail.value} rail records transfer {key} as a {found.direction.value}, "
            "not a debit: a lost credit is handled by hand",
            key="transfer_key",
            about=about,
        )
    if found.amount != command.amount:
        raise InvalidRequest(
            f"the {rail.value} rail records transfer {key} as {found.amount} cents, not "
            f"{command.amount}: check the report",
            key="amount",
            about=about,
        )


def _lost_fingerprint(user_id: str, transfer_key: str, amount: int) -> str:
    """The fingerprint of the intent `book_lost_transfer` commits for a lost debit.

    Only such an intent has it, so whoever books the intent (the operator's command, or
    the recovery job after it died) knows to book it as of the day its rail took it.
    """
    return request_fingerprint("lost", user_id, transfer_key, amount)


def _require_lost_debits_day(intent: TransferIntent, transfer: Transfer) -> None:
    """Refuse to book a lost debit (`book_lost_transfer`'s intent) its rail gives no day for.

    Every debit counts from the day its rail took it (`Transfer.taken_before`); one whose
    rail does not say is booked as of today, except a lost debit's: the operator booked
    it for its day, which is then never guessed (it stays PENDING, alerted).

    Raises:
        InvalidRequest: the intent is a lost debit's and the rail no longer says when it
            took it.
    """
    if transfer.accepted_at is not None or intent.direction is not Direction.DEBIT:
        return
    key = transfer.idempotency_key
    if intent.fingerprint != _lost_fingerprint(intent.user_id, key, intent.amount):
        return
    raise InvalidRequest(
        f"the {transfer.rail.value} rail does not say when it took lost transfer {key}, "
        "so the day it counts from is not known: left PENDING; ask the processor",
        key="transfer_key",
        about=Ref("intent", intent.intent_id, intent.user_id),
    )


def _check_reach(
    command: BookLostTransfer,
    kind: IntentKind,
    *,
    taken_on: dt.date,
    today: dt.date,
    lines: LineWriter,
    about: Ref,
) -> None:
    """Refuse, before anything is written, a lost debit the books cannot date back to.

    Booked as of `taken_on`, the day before `today` its rail took it, the debit corrects
    its loan or line as of then: a day further back than the product's correction reach
    (or a loan adopted from the Go service, whose history is not here to replay) is
    refused, and the operator handles it by hand.

    Raises:
        CorrectionTooOld: naming the day the rail took it.
        InvalidRequest: a day before the loan was disbursed or the line opened.
    """
    key = command.transfer_key
    with lines.uow as uow:
        if kind in {IntentKind.LOAN_PAYMENT, IntentKind.AUTOPAY}:
            loan = uow.loans.get(command.user_id, command.account_id)
            adopted = not loan.replayable(uow.journal.entries_for(loan.loan_id))
            policy, opened_on = loan.product.corrections, loan.disbursement_date
        else:
            line = uow.lines.get(command.user_id, command.account_id)
            adopted, policy, opened_on = False, lines.product.corrections, line.opened_on
    if taken_on < opened_on:
        raise InvalidRequest(
            f"the rail took transfer {key} on {taken_on}, before {command.account_id} "
            f"was opened ({opened_on}): check the report",
            key="transfer_key",
            about=about,
        )
    if adopted or taken_on < today - policy.reach:
        why = (
            f"loan {command.account_id} was adopted from the Go service, whose history is "
            "not here to correct"
            if adopted
            else f"more than {policy.reach.days} days (the correction reach) before {today}"
        )
        raise CorrectionTooOld(
            f"transfer {key} was taken on {taken_on}, {why}: it cannot be booked as of "
            "that day; nothing was booked, handle it by hand",
            about=about,
        )


def _lost_item(
    command: BookLostTransfer, kind: IntentKind, intent_id: str, lines: LineWriter, about: Ref
) -> str:
    """The installment a lost autopay debit charged ("" for another debit), checked.

    Raises:
        InvalidRequest: the key is not a debit's on `command.account_id`.
        NotFound: no such loan, line or installment of the user's.
    """
    prefix = f"{intent_id.partition(':')[0]}:"
    on_account = f"{prefix}{command.account_id}:"
    with lines.uow as uow:
        if kind is IntentKind.AUTOPAY:
            installment_id, _, attempt = intent_id.removeprefix(prefix).rpartition(":")
            loan = uow.loans.get(command.user_id, command.account_id)
            if not attempt.isdigit() or installment_id not in {
                i.installment_id for i in loan.installments
            }:
                raise InvalidRequest(
                    f"{command.transfer_key!r} is not an autopay attempt on an installment "
                    f"of loan {command.account_id}",
                    key="transfer_key",
                    about=about,
                )
            return installment_id
        if not intent_id.startswith(on_account) or intent_id == on_account:
            raise InvalidRequest(
                f"{command.transfer_key!r} is not a debit on {command.account_id}",
                key="transfer_key",
                about=about,
            )
        if kind is IntentKind.LOAN_PAYMENT:
            uow.loans.get(command.user_id, command.account_id)
        else:
            uow.lines.get(command.user_id, command.account_id)
    return ""
