"""The collections worker (seed ``collections/worker.go``, ``engine.go``): autopay an installment.

Holding the loan's payment lease, the worker re-reads the loan consistently, applies the
guards (`collection_skip_reason`) and charges the installment's outstanding balance less
any unpaid late fee (`represented_amount`), pinless debit first, then ACH. The rail key
names the installment and the attempt number, which only a committed attempt moves on:
a retry after a crash, the same day or later, asks the rails with the same key and gets
the first answer back, so the borrower is never charged twice for one attempt.
"""

from __future__ import annotations

import datetime as dt
import enum

import attrs

from loc_core.events import DomainEvent
from loc_core.installment import (
    CollectionSkip,
    Loan,
    Process,
    autopay_amount,
    collection_skip_reason,
)
from loc_core.intents import IntentKind, IntentStatus, TransferIntent, request_fingerprint
from loc_core.payments import REPAYMENT_RAILS, Direction, Rail
from loc_core.ports import Clock, Lease, Lock, QueueMessage
from loc_core.services.kit import (
    iso_date,
    leased,
    moment,
    read_message,
    reading,
    retry_on_conflict,
)
from loc_core.services.loans.booking import LoanTransfers, intent_details
from loc_core.services.loans.notices import announce_autopay_declined
from loc_core.services.loans.payments import PAYMENT_LEASE, payment_lease_key
from loc_core.services.messagebus import Command, Publisher
from loc_core.services.rails import RailAnswers, Transfer
from loc_core.validation import Day, Id, instance_of, valid_id, validated

__all__ = [
    "COLLECT_INSTALLMENT",
    "CollectInstallment",
    "CollectionOutcome",
    "CollectionResult",
    "autopay_intent",
    "autopay_payment_id",
    "book_autopay",
    "collect_installment",
    "represented_amount",
]

_ACTOR = "collections-worker"

COLLECT_INSTALLMENT = "collect_installment"
"""The `QueueMessage.kind` the collections worker handles."""


@attrs.frozen(field_transformer=validated)
class _CollectBody:
    """The body of a ``collect_installment`` message, as read."""

    user_id: Id
    loan_id: Id
    installment_id: Id
    due_date: str = attrs.field(validator=instance_of(str))
    """The installment's due date, ``YYYY-MM-DD``."""


@attrs.frozen(field_transformer=validated)
class CollectInstallment(Command["CollectionResult"]):
    """Try autopay on one installment (the body of a ``collect_installment`` message)."""

    user_id: Id
    loan_id: Id
    installment_id: Id
    due_date: Day
    worker_id: str = attrs.field(default="collections-worker", eq=False, validator=valid_id)
    """Who holds the loan's payment lease while this message is worked (the lease owner)."""

    @classmethod
    def from_message(cls, message: QueueMessage) -> CollectInstallment:
        """Read a ``collect_installment`` queue message (what `message` wrote).

        Raises:
            MalformedMessage: a message of another kind or version, or a body that does
                not make the command (a field missing, unknown or malformed).
        """
        body = read_message(_CollectBody, message, COLLECT_INSTALLMENT)
        with reading(message):
            return cls(
                body.user_id,
                body.loan_id,
                body.installment_id,
                iso_date(body.due_date, "due_date"),
            )

    def message(self, today: dt.date) -> QueueMessage:
        """The queue message for this installment on `today`'s run."""
        return QueueMessage(
            kind=COLLECT_INSTALLMENT,
            body={
                "user_id": self.user_id,
                "loan_id": self.loan_id,
                "installment_id": self.installment_id,
                "due_date": self.due_date.isoformat(),
            },
            deduplication_id=f"{self.installment_id}:{today.isoformat()}",
        )


class CollectionOutcome(enum.Enum):
    """What the worker did with an installment."""

    CHARGED = "charged"
    """A rail accepted the charge and the payment is booked (PENDING until it settles)."""
    SKIPPED = "skipped"
    """A guard said not to charge; `reason` is its `CollectionSkip` code."""
    DECLINED = "declined"
    """Every rail declined; the attempt is recorded and counts against the limit."""


@attrs.frozen
class CollectionResult:
    """The worker's answer for one message."""

    outcome: CollectionOutcome
    installment_id: str
    reason: str = ""
    """The skip code, or what the rails said when they declined."""
    payment_id: str = ""
    amount: int = 0
    rail: Rail | None = None
    attempt: int = 0
    """The attempt's number on the installment (0 when skipped)."""


def autopay_payment_id(installment_id: str, attempt: int, rail: Rail) -> str:
    """The rail key of an autopay attempt, which is also the id of the payment it books."""
    return f"{_autopay_prefix(installment_id)}{attempt}:{rail.value}"


def _autopay_prefix(installment_id: str) -> str:
    """How the rail key of every autopay attempt on the installment begins."""
    return f"autopay:{installment_id}:"


def collect_installment(
    command: CollectInstallment,
    *,
    transfers: LoanTransfers,
    lock: Lock,
    clock: Clock,
    publish: Publisher,
) -> CollectionResult:
    """Charge one installment by autopay if the guards allow; the lease is always released.

    Raises:
        LockNotAcquired: while another worker or a manual payment holds the loan's lease
            (the message is delivered again later).
        NotFound: for an unknown loan or installment.
        ExternalServiceError: when no rail accepted and one could not be reached
            (`RailUnavailable`), or a rail failed with its outcome unknown; no attempt is
            recorded, so the redelivery asks again with the same transfer keys.
    """
    with leased(
        lock,
        payment_lease_key(command.user_id, command.loan_id),
        owner=command.worker_id,
        ttl=PAYMENT_LEASE,
    ) as lease:
        result = _collect(command, transfers, clock, lease, publish)
    tags = [f"reason:{result.reason}"] if result.outcome is CollectionOutcome.SKIPPED else []
    if result.rail is not None:
        tags.append(f"rail:{result.rail.value}")
    transfers.metrics.increment(f"loc.loans.collections.{result.outcome.value}", tags=tuple(tags))
    return result


def autopay_intent(
    loan: Loan, installment_id: str, *, attempt: int, now: dt.datetime
) -> TransferIntent:
    """The intent of one autopay attempt: the installment's scheduled part unpaid, now.

    A late fee never rides on it, and a re-presentment (an earlier attempt on the
    installment was returned) takes no more than the returned entry: NACHA's re-presented
    entry is the original's amount (`represented_amount`).
    """
    today = now.date()
    return TransferIntent(
        intent_id=f"autopay:{installment_id}:{attempt}",
        user_id=loan.user_id,
        kind=IntentKind.AUTOPAY,
        account_id=loan.loan_id,
        item_id=installment_id,
        direction=Direction.DEBIT,
        amount=represented_amount(loan, installment_id),
        rails=REPAYMENT_RAILS,
        fingerprint=request_fingerprint("autopay", loan.user_id, installment_id, attempt),
        request_key=f"{installment_id}:{today.isoformat()}",
        created_at=now,
        updated_at=now,
    )


def represented_amount(loan: Loan, installment_id: str) -> int:
    """What autopay charges the installment: its scheduled part still unpaid, never a fee.

    `autopay_amount`: autopay's attempts on an installment take no more than its scheduled
    amount (Regulation E 1005.10(d)); its late fee is the borrower's to pay.
    When an earlier autopay attempt on the installment came back (RETURNED or
    CHARGED_BACK), the charge is also at most the last returned entry's amount (NACHA's
    re-presentment).
    """
    outstanding = autopay_amount(loan.installment(installment_id))
    prefix = _autopay_prefix(installment_id)
    returned = [
        payment
        for payment_id, payment in loan.payments.items()
        if payment_id.startswith(prefix) and payment.status.reversed
    ]
    if not returned:
        return outstanding
    last = max(returned, key=lambda payment: (payment.submitted_on, payment.payment_id))
    return min(outstanding, last.amount)


def _collect(
    command: CollectInstallment,
    transfers: LoanTransfers,
    clock: Clock,
    lease: Lease,
    publish: Publisher,
) -> CollectionResult:
    now, today = moment(clock)
    installment_id = command.installment_id
    attempt, wanted, stored, skip = _guarded(command, transfers, lease, now=now, today=today)
    if (stored is None or not stored.is_open) and skip is not None:
        return CollectionResult(CollectionOutcome.SKIPPED, installment_id, reason=skip)
    intent = transfers.movements.open(wanted, client=False)
    if intent.status is IntentStatus.BOOKED:
        transfers.movements.finish(intent)
        return _charged(intent, attempt)
    if stored is not None:
        resumed = _resume(transfers, intent, skip=skip, amount=wanted.amount)
        if resumed is None:
            return CollectionResult(CollectionOutcome.SKIPPED, installment_id, reason=skip or "")
        intent = resumed
    answers = transfers.movements.send(intent)
    transfer = answers.accepted
    if transfer is None:
        if answers.unreachable:
            error = answers.failure(
                f"autopay of installment {installment_id}",
                alerter=transfers.alerter,
                details=intent_details(intent),
            )
            transfers.movements.abandon(intent, str(error))
            raise error
        return _record_decline(transfers, intent, answers, attempt, today=today, publish=publish)
    booked = book_autopay(transfers, intent, transfer, today=today, lease=lease)
    transfers.movements.finish(booked)
    return _charged(booked, attempt)


def _guarded(
    command: CollectInstallment,
    transfers: LoanTransfers,
    lease: Lease,
    *,
    now: dt.datetime,
    today: dt.date,
) -> tuple[int, TransferIntent, TransferIntent | None, str | None]:
    """The attempt, its intent, the stored one (if any) and the guards' skip code.

    The other debits on the loan are read after the guards pass: one a rail took and
    nobody booked is booked now (`Movements.unconfirmed_debits`), and the loan is read
    again; one a rail cannot tell about skips the day (``DEBIT_UNCONFIRMED``).
    """
    installment_id = command.installment_id
    while True:
        with transfers.uow as uow:
            loan = uow.loans.get(command.user_id, command.loan_id)
            attempt = loan.installment(installment_id).collection_attempts + 1
            wanted = autopay_intent(loan, installment_id, attempt=attempt, now=now)
            stored = uow.intents.find(wanted.intent_id)
            skip = collection_skip_reason(loan, installment_id, today=today)
        if skip is not None:
            return attempt, wanted, stored, skip
        found = transfers.movements.unconfirmed_debits(wanted, lease=lease)
        if not found.booked:  # else an earlier debit was booked: the loan changed
            unconfirmed = CollectionSkip.DEBIT_UNCONFIRMED.value if found.left else None
            return attempt, wanted, stored, unconfirmed


def _resume(
    transfers: LoanTransfers, intent: TransferIntent, *, skip: str | None, amount: int
) -> TransferIntent | None:
    """The stored attempt to send again, or None when it is abandoned for `skip`.

    An attempt whose worker died before any rail took the money moved nothing, so its
    redelivery (or the next day's try of the same attempt, once the recovery job
    abandoned it) is a new charge: it is held to the guards like one (a loan paid off
    meanwhile is SKIPPED, never charged to owe the money back as a refund due), and when
    no rail even received it, it charges what the installment owes now (`amount`), not
    what it owed when the dead worker read it. Money a rail took is booked as stored.
    """
    if skip is not None and transfers.movements.look_up(intent) is None:
        transfers.movements.abandon(intent, f"skipped when resumed: {skip}")
        return None
    return transfers.movements.resized(intent, amount)


def book_autopay(
    transfers: LoanTransfers,
    intent: TransferIntent,
    transfer: Transfer,
    *,
    today: dt.date,
    lease: Lease | None,
    actor: str = _ACTOR,
    attempted_on: dt.date | None = None,
) -> TransferIntent:
    """Book an autopay charge a rail accepted, recording the attempt on the installment.

    `actor` is who books it, for the audit: the worker, or whoever finishes an attempt
    whose worker lost its answer (the recovery job, an operator, the next debit on the
    loan). The attempt is recorded on the day it was made, `attempted_on` (`today` when
    not given; the recovery paths give the day its worker first sent it, the intent's
    creation): one booked days later by another is still that day's attempt, so a
    return that reopens the installment on the booking day does not find that day
    attempted. The commit is fenced by the loan's payment `lease` when
    one is given. A charge that
    leaves the installment owing only its late fee's worth (``SCHEDULE_PAID``) tells the
    borrower what is left to pay by hand, in the same commit (`Loan.announce_left_to_pay`).
    """

    def record(loan: Loan) -> None:
        loan.record_collection_attempt(
            intent.item_id,
            today=today if attempted_on is None else attempted_on,
            outcome=f"accepted by {transfer.rail.value} ({transfer.confirmation_id})",
        )

    return transfers.book(
        intent,
        transfer,
        process=Process.AUTOPAY,
        what="autopay",
        today=today,
        actor=actor,
        before=record,
        after=lambda loan: loan.announce_left_to_pay(intent.item_id, today=today),
        lease=lease,
    )


def _charged(intent: TransferIntent, attempt: int) -> CollectionResult:
    rail = intent.accepted_rail
    return CollectionResult(
        CollectionOutcome.CHARGED,
        intent.item_id,
        payment_id=intent.outcome,
        amount=intent.amount,
        rail=rail,
        attempt=attempt,
    )


def _record_decline(
    transfers: LoanTransfers,
    intent: TransferIntent,
    answers: RailAnswers,
    attempt: int,
    *,
    today: dt.date,
    publish: Publisher,
) -> CollectionResult:
    """Record the declined attempt and tell the borrower (``autopay_declined``) at once.

    Only the commit that records the attempt tells it: one attempt a day at most, and a
    redelivery that finds the intent finished tells nothing.
    """
    said = "; ".join(f"{rail.value}: {reason}" for rail, reason in answers.declined.items())
    uow = transfers.uow

    def attempt_once() -> list[DomainEvent]:
        with uow:
            stored = uow.intents.get(intent.user_id, intent.intent_id)
            if stored.status is not IntentStatus.PENDING:
                return []  # an earlier try recorded it and its answer was lost
            loan = uow.loans.get(intent.user_id, intent.account_id)
            if loan.installment(intent.item_id).collection_attempts < attempt:
                loan.record_collection_attempt(
                    intent.item_id, today=today, outcome=f"declined ({said})"
                )
                announce_autopay_declined(
                    loan, intent.item_id, amount=intent.amount, attempt=attempt, today=today
                )
                uow.loans.save(loan)
            stored.abandon(f"declined ({said})", now=transfers.movements.clock.now())
            uow.intents.save(stored)
            return uow.commit(actor=_ACTOR, request_id=intent.request_key)

    publish(retry_on_conflict(attempt_once))
    return CollectionResult(
        CollectionOutcome.DECLINED, intent.item_id, reason=said, attempt=attempt
    )
