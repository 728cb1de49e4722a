"""The collections worker (seed ``collections/worker.go``, ``engine.go``): autopay an installment.

Holding the loan's payment lease, the worker re-reads the loan consistently, applies the
guards (`collection_skip_reason`) and charges the installment's outstanding balance,
pinless debit first, then ACH. The rail key names the installment and the attempt
number, which only a committed attempt moves on: a retry after a crash, the same day or
later, asks the rails with the same key and gets the first answer back, so the borrower
is never charged twice for one attempt.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping

import attrs

from loc_core.errors import DomainError
from loc_core.events import AuditValue
from loc_core.installment import Loan, Process, collection_skip_reason
from loc_core.payments import Rail
from loc_core.ports import Clock, Lock, QueueMessage, UnitOfWork
from loc_core.services.kit import leased, moment, retry_on_conflict
from loc_core.services.loans.booking import LoanDebit, LoanTransfers
from loc_core.services.loans.payments import PAYMENT_LEASE, payment_lease_key
from loc_core.services.messagebus import Command
from loc_core.services.rails import RailAnswers
from loc_core.validation import Day, Id, valid_id, validated

__all__ = [
    "COLLECT_INSTALLMENT",
    "CollectInstallment",
    "CollectionOutcome",
    "CollectionResult",
    "autopay_payment_id",
    "collect_installment",
]

_ACTOR = "collections-worker"

COLLECT_INSTALLMENT = "collect_installment"
"""The `QueueMessage.kind` the collections worker handles."""


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
        """Read a queue message.

        Raises:
            DomainError: for a message of another kind or with a malformed body.
        """
        if message.kind != COLLECT_INSTALLMENT:
            raise DomainError(f"not a {COLLECT_INSTALLMENT} message: {message.kind!r}")
        body = message.body
        try:
            return cls(
                user_id=_text(body, "user_id"),
                loan_id=_text(body, "loan_id"),
                installment_id=_text(body, "installment_id"),
                due_date=dt.date.fromisoformat(_text(body, "due_date")),
            )
        except ValueError as exc:
            raise DomainError(f"malformed {COLLECT_INSTALLMENT} message: {exc}") from exc

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


def _text(body: Mapping[str, AuditValue], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise DomainError(f"{COLLECT_INSTALLMENT} message needs a {field}, got {value!r}")
    return value


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
    return f"autopay:{installment_id}:{attempt}:{rail.value}"


def collect_installment(
    command: CollectInstallment, *, transfers: LoanTransfers, lock: Lock, clock: Clock
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
    ):
        result = _collect(command, transfers, clock)
    tags = [f"reason:{result.reason}"] if result.outcome is CollectionOutcome.SKIPPED else []
    if result.rail is not None:
        tags.append(f"rail:{result.rail.value}")
    transfers.metrics.increment(f"loc.loans.collections.{result.outcome.value}", tags=tuple(tags))
    return result


def _collect(
    command: CollectInstallment, transfers: LoanTransfers, clock: Clock
) -> CollectionResult:
    _, today = moment(clock)
    installment_id = command.installment_id
    with transfers.uow as uow:
        loan = uow.loans.get(command.user_id, command.loan_id)
        skip = collection_skip_reason(loan, installment_id, today=today)
        if skip is not None:
            return CollectionResult(CollectionOutcome.SKIPPED, installment_id, reason=skip)
        installment = loan.installment(installment_id)
        amount = installment.outstanding_balance
        attempt = installment.collection_attempts + 1
    debit = LoanDebit(
        user_id=command.user_id,
        loan_id=command.loan_id,
        amount=amount,
        process=Process.AUTOPAY,
        key=lambda rail: autopay_payment_id(installment_id, attempt, rail),
        details={
            "user_id": command.user_id,
            "loan_id": command.loan_id,
            "installment_id": installment_id,
            "amount": amount,
            "attempt": attempt,
        },
    )
    answers = transfers.collect(debit)
    transfer = answers.accepted
    if transfer is None:
        if answers.unreachable:
            raise answers.failure(
                f"autopay of installment {installment_id}",
                alerter=transfers.alerter,
                details=debit.details,
            )
        return _record_decline(command, transfers.uow, answers, attempt, today)

    def record(loan: Loan) -> None:
        loan.record_collection_attempt(
            installment_id,
            today=today,
            outcome=f"accepted by {transfer.rail.value} ({transfer.confirmation_id})",
        )

    events = transfers.book(
        transfer,
        debit,
        what="autopay",
        today=today,
        actor=_ACTOR,
        request_id=f"{installment_id}:{today.isoformat()}",
        before=record,
    )
    transfers.publish(events)
    return CollectionResult(
        CollectionOutcome.CHARGED,
        installment_id,
        payment_id=transfer.idempotency_key,
        amount=amount,
        rail=transfer.rail,
        attempt=attempt,
    )


def _record_decline(
    command: CollectInstallment,
    uow: UnitOfWork,
    answers: RailAnswers,
    attempt: int,
    today: dt.date,
) -> CollectionResult:
    said = "; ".join(f"{rail.value}: {reason}" for rail, reason in answers.declined.items())

    def attempt_once() -> None:
        with uow:
            loan = uow.loans.get(command.user_id, command.loan_id)
            if loan.installment(command.installment_id).collection_attempts >= attempt:
                return  # an earlier try recorded it and its answer was lost
            loan.record_collection_attempt(
                command.installment_id, today=today, outcome=f"declined ({said})"
            )
            uow.loans.save(loan)
            uow.commit(actor=_ACTOR, request_id=f"{command.installment_id}:{today.isoformat()}")

    retry_on_conflict(attempt_once)
    return CollectionResult(
        CollectionOutcome.DECLINED, command.installment_id, reason=said, attempt=attempt
    )
