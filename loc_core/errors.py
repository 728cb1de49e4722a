"""The one error tree of `loc`.

Every error the library raises on purpose is a `LocError`. Adapters translate third-party
errors (botocore, httpx) into this tree with ``raise ... from exc``; only entrypoints turn
errors into HTTP statuses or exit codes.

    LocError
    ├── DomainError                     the request breaks a business rule; nothing changed
    │   ├── InvalidRequest              a command or event field out of bounds (`key` names it)
    │   ├── InvalidAmount               zero, negative, float or non-integer cents
    │   ├── InvalidRate                 float, non-finite or out-of-bounds rate/percent
    │   ├── InvalidTimestamp            a naive or non-UTC timestamp
    │   ├── InvalidConfiguration        a product configuration that cannot work
    │   │   └── ScheduleError           a schedule that cannot be built from it
    │   ├── InvalidTransition           the entity's status does not allow the command
    │   │   ├── LoanCancelled           a payment on a loan whose disbursement came back
    │   │   └── NoLateFee               a waiver of a late fee the installment or line lacks
    │   ├── CorrectionTooOld            a correction reaches further back than the policy allows
    │   ├── ApplicationError
    │   │   ├── ApplicationNotApproved  rejected or abandoned: nothing to accept
    │   │   ├── ApplicationExpired      accepted after its offer expired
    │   │   ├── ApplicationAlreadyConverted
    │   │   └── TermsChanged            accepted after its schedule moved: disclosed again
    │   ├── NotEligible                 the eligibility pre-check failed (carries reasons)
    │   ├── PaymentError
    │   │   ├── Overpayment             more than the balance owed
    │   │   ├── DuplicatePayment        the same payment applied twice
    │   │   ├── PaymentNotApplied       settling or reversing a payment this entity never saw
    │   │   ├── PaymentAlreadyReversed  a second return or chargeback of one payment
    │   │   │   └── DrawAlreadyReturned a second return of one draw's credit
    │   │   ├── PaymentAlreadySettled   a second completion of one payment
    │   │   ├── DebitUnconfirmed        a debit while an earlier one's outcome is unknown
    │   │   ├── PaymentLimitReached     a borrower's manual payment past the loan's bound
    │   │   ├── RefundNotDue            a refund paid out that the payment does not owe
    │   │   ├── RefundNotSettled        a refund paid out while its payment may still come back
    │   │   └── RefundAlreadyPaid       a correction that would change a refund already paid out
    │   └── CreditLineError
    │       ├── InsufficientCredit      a draw above the available credit
    │       ├── LineNotActive           a draw on a suspended, defaulted or closed line
    │       ├── CycleNotClosed          a statement for a cycle that has not closed
    │       ├── DisputeLimitReached     a billing-error notice past the line's open-dispute bound
    │       ├── MovementLimitReached    a borrower's draw or payment past the cycle's bound
    │       └── OutOfOrder              dated before the latest activity or past an unbilled close
    ├── LedgerError                     an unbalanced or malformed journal entry
    ├── InvariantViolation              stored or computed state contradicts itself
    ├── MalformedMessage                a queue message that cannot be read into its command
    ├── NotFound                        no such entity
    ├── ConcurrencyConflict             a stale version lost a conditional write
    ├── LockNotAcquired                 another owner holds the lease
    │   └── LeaseLost                   a fenced commit's lease was taken over; nothing written
    ├── IdempotencyConflict             an idempotency key reused with a different request
    └── ExternalServiceError            an outside service failed; the outcome may be unknown
        ├── RailDeclined                a payment rail declined the transfer
        ├── RailUnavailable             a payment rail could not be reached and took nothing
        └── WebhookRejected             a webhook failed its signature, timestamp or shape check

Domain errors are raised before an aggregate changes, so a caller that catches one can
rely on the aggregate being exactly as it was; `TermsChanged` alone is raised after its
offer's new terms were committed (no money moved, no loan was made).

Every `LocError` carries what it is about as attributes (None where the raise site does
not know it), so no caller ever parses a message; the message is for people:

    entity      the kind of entity: ``loan``, ``installment``, ``payment``, ``application``,
                ``line``, ``draw``, ``statement``, ``user``, ``idempotency``, ``lease``, ...
    entity_id   that entity's id (a loan id, a line id, a payment id, ...)
    user_id     the borrower who owns it
    key         the idempotency key, lock key or field name the error is about
    invariant   the name of the rule that failed (``loan_consistent``, ``version_current``, ...)

``raise NotFound("no loan", entity="loan", entity_id=loan_id, user_id=user_id)``; where an
entity is at hand, ``about=loan`` (any `Subject`) names all three, and ``about=Ref("payment",
payment_id, user_id)`` names one that no object stands for yet.
"""

from __future__ import annotations

from typing import Protocol

import attrs

__all__ = [
    "ApplicationAlreadyConverted",
    "ApplicationError",
    "ApplicationExpired",
    "ApplicationNotApproved",
    "ConcurrencyConflict",
    "CorrectionTooOld",
    "CreditLineError",
    "CycleNotClosed",
    "DebitUnconfirmed",
    "DisputeLimitReached",
    "DomainError",
    "DrawAlreadyReturned",
    "DuplicatePayment",
    "ExternalServiceError",
    "IdempotencyConflict",
    "InsufficientCredit",
    "InvalidAmount",
    "InvalidConfiguration",
    "InvalidRate",
    "InvalidRequest",
    "InvalidTimestamp",
    "InvalidTransition",
    "InvariantViolation",
    "LeaseLost",
    "LedgerError",
    "LineNotActive",
    "LoanCancelled",
    "LocError",
    "LockNotAcquired",
    "MalformedMessage",
    "MovementLimitReached",
    "NoLateFee",
    "NotEligible",
    "NotFound",
    "OutOfOrder",
    "Overpayment",
    "PaymentAlreadyReversed",
    "PaymentAlreadySettled",
    "PaymentError",
    "PaymentLimitReached",
    "PaymentNotApplied",
    "RailDeclined",
    "RailUnavailable",
    "Ref",
    "RefundAlreadyPaid",
    "RefundNotDue",
    "RefundNotSettled",
    "ScheduleError",
    "Subject",
    "TermsChanged",
    "WebhookRejected",
]


class Subject(Protocol):
    """An entity an error can be about: it names its kind, id and owner (as audited)."""

    @property
    def user_id(self) -> str:
        """The borrower who owns the entity."""
        ...

    def audit_key(self) -> tuple[str, str]:
        """The entity's kind (``loan``, ``line``, ...) and id."""
        ...


@attrs.frozen
class Ref:
    """A `Subject` named by its parts, for an entity no object stands for (yet).

    An error about a payment not yet made, or about an application (which errors call
    ``loan_application`` or ``line_application``), says `about=Ref(kind, id, user)`.
    """

    kind: str
    entity_id: str
    user_id: str

    def audit_key(self) -> tuple[str, str]:
        """The entity's kind and id."""
        return (self.kind, self.entity_id)


class LocError(Exception):
    """Base of every error `loc` raises on purpose; its context is in its attributes."""

    def __init__(
        self,
        message: str = "",
        /,
        *,
        about: Subject | None = None,
        entity: str | None = None,
        entity_id: str | None = None,
        user_id: str | None = None,
        key: str | None = None,
        invariant: str | None = None,
    ) -> None:
        super().__init__(message)
        if about is not None:
            entity, entity_id = about.audit_key()
            user_id = about.user_id
        self.entity = entity
        """The kind of entity the error is about (``loan``, ``line``, ``payment``, ...)."""
        self.entity_id = entity_id
        """The id of that entity."""
        self.user_id = user_id
        """The borrower who owns the entity."""
        self.key = key
        """The idempotency key, lock key or field name the error is about."""
        self.invariant = invariant
        """The name of the rule that failed."""

    @property
    def context(self) -> dict[str, str]:
        """The attributes that are known, for a log line or a problem response."""
        known = {
            "entity": self.entity,
            "entity_id": self.entity_id,
            "user_id": self.user_id,
            "key": self.key,
            "invariant": self.invariant,
        }
        return {name: value for name, value in known.items() if value is not None}


class DomainError(LocError):
    """A command broke a business rule; the aggregate it targeted is unchanged."""


class InvalidRequest(DomainError, ValueError):
    """A command or settlement event built with a field outside its bounds.

    Raised when the value is built, before anything reads or moves money; `key` names the
    field (``user_id``, ``idempotency_key``, ``amount``, ...). The bounds are in
    `loc_core.validation`.
    """


class InvalidAmount(DomainError, ValueError):
    """An amount is not a positive (or, where allowed, non-negative) integer of cents."""


class InvalidRate(DomainError, ValueError):
    """A rate or percentage is a float, not finite, or outside its allowed bounds."""


class InvalidTimestamp(DomainError, ValueError):
    """A timestamp without a time zone, or in a zone other than UTC."""


class InvalidConfiguration(DomainError, ValueError):
    """A product configuration whose values contradict each other or the rules."""


class ScheduleError(InvalidConfiguration):
    """A repayment schedule cannot be built from the given amount and configuration."""


class InvalidTransition(DomainError):
    """The entity's current status does not allow this command."""


class CorrectionTooOld(DomainError):
    """A correction effective further back than the policy's reach: left to operations."""


class ApplicationError(DomainError):
    """An application cannot be accepted or converted."""


class ApplicationNotApproved(ApplicationError):
    """The application was rejected or abandoned, so there is no offer to accept."""


class ApplicationExpired(ApplicationError):
    """The offer's time to live passed before the borrower accepted it."""


class ApplicationAlreadyConverted(ApplicationError):
    """The application already became a loan or a line; it converts once."""


class TermsChanged(ApplicationError):
    """The offer's terms moved with the disbursement date: review the new agreement.

    Raised when an offer is accepted on a day whose loan would not have the schedule (or
    the APR, within Regulation Z's tolerance) its agreement disclosed. Before anything
    was disbursed, the offer was disclosed again as of that day (its new terms committed,
    its new agreement filed, 12 CFR 1026.17(f)); accepting again takes them.
    """


class NotEligible(DomainError):
    """The eligibility pre-check failed; `reasons` says why, one code per rule."""

    def __init__(self, reasons: tuple[str, ...], *, user_id: str | None = None) -> None:
        super().__init__("not eligible: " + ", ".join(reasons), user_id=user_id)
        self.reasons = reasons


class PaymentError(DomainError):
    """A payment cannot be applied, settled or reversed as asked."""


class Overpayment(PaymentError):
    """A payment above the balance owed."""


class DuplicatePayment(PaymentError):
    """A payment id that was already applied to this loan or line."""


class PaymentNotApplied(PaymentError):
    """A settlement or reversal for a payment that was never applied here."""


class PaymentAlreadyReversed(PaymentError):
    """A payment that was already returned or charged back."""


class PaymentAlreadySettled(PaymentError):
    """A completion reported again for a payment already COMPLETED."""


class DebitUnconfirmed(PaymentError):
    """A debit refused while an earlier debit on the same loan or line is unconfirmed.

    The earlier one's rail failed with its outcome unknown (or its process died), and the
    rail still cannot tell whether it took the money, so the loan or line may not show
    it; a second debit sized to what they show could take it twice. Its retry, the next
    debit once the rail can tell, or the recovery job confirms it
    (`loc_core.services.moving.Movements.unconfirmed_debits`); ask again after that.
    Nothing changed and no rail was asked.
    """


class PaymentLimitReached(PaymentError):
    """A borrower's manual payment past the loan product's `max_manual_payments_per_loan`.

    Every installment item keeps each payment applied to it, and a stored item is bounded
    (``loc_core.installment.capacity``). Refused before any rail is asked; ``key`` names
    the product field. Autopay, settlements, operators' bookings and a payoff are never
    refused.
    """


class CreditLineError(DomainError):
    """A credit-line command the line's state does not allow."""


class InsufficientCredit(CreditLineError):
    """A draw above the line's available credit."""


class LineNotActive(CreditLineError):
    """A draw on a line that is not ACTIVE."""


class CycleNotClosed(CreditLineError):
    """Billing or a statement asked for a cycle whose close date has not arrived."""


class MovementLimitReached(CreditLineError):
    """A borrower's draw or payment past the product's `max_movements_per_cycle`.

    The line's stored item holds every draw and payment of its open and last cycles, and
    a stored item is bounded (``loc_core.creditline.capacity``). Refused before any rail
    is asked; ``key`` names the product field. The next cycle takes them again. One payment
    a cycle of everything the line owes (a payoff) is never refused.
    """


class DisputeLimitReached(CreditLineError):
    """A billing-error notice while the line has `max_disputes_per_line` OPEN disputes.

    Resolved disputes never count (``loc_core.creditline.capacity``). Refused with
    nothing changed; ``key`` names the product field, and the service alerts operations
    to handle the notice by hand.
    """


class OutOfOrder(CreditLineError):
    """A command dated before the line's latest activity, or past a close not yet billed.

    A line's days happen in order: bill a closed cycle before recording what follows it.
    """


class LedgerError(LocError):
    """A journal entry that does not balance, or is malformed, or is posted twice."""


class InvariantViolation(LocError):
    """State that contradicts itself, such as a stored balance its parts do not add up to."""


class MalformedMessage(LocError):
    """A work-queue message whose body cannot be read into its command.

    A field missing, unknown, of the wrong type or out of its bounds, a kind the reader
    does not read, or a body `version` it does not know (a newer producer's). Not a
    `DomainError`: no business rule refused anything, the producer and the reader
    disagree, which a fix or a deploy resolves. So the message is never dropped: it
    fails, and the queue's redrive policy keeps it in the dead-letter queue, readable,
    until it is redriven. (Nor a `ValueError`, so that a reader's ``except ValueError``
    cannot turn it back into a refusal.) `key` names the field (or ``version``,
    ``kind``); `entity_id` is the message's deduplication id.
    """

    def __init__(
        self,
        message: str,
        /,
        *,
        kind: str | None,
        version: int | None = None,
        deduplication_id: str | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__(message, entity="queue_message", entity_id=deduplication_id, key=key)
        self.kind = kind
        """The message's kind (``collect_installment``, ``job_page``, ...); None when the
        body is not even a message."""
        self.version = version
        """The body's version, as the message gave it."""


class NotFound(LocError):
    """No entity with that key."""


class ConcurrencyConflict(LocError):
    """A write based on a stale version; re-read and retry."""


class LockNotAcquired(LocError):
    """Another owner holds an unexpired lease on the key."""


class LeaseLost(LockNotAcquired):
    """A commit fenced by a lease (`UnitOfWork.fence`) found the lease no longer current.

    The lock's item no longer carries the lease's owner and fencing token: it expired
    and another owner took it, a heartbeat replaced it, or it was released. The commit
    wrote nothing; retrying it with the same lease cannot succeed (it is not a
    `ConcurrencyConflict`): the work belongs to the lease's new holder.
    """


class IdempotencyConflict(LocError):
    """An idempotency key was reused for a different request."""


class ExternalServiceError(LocError):
    """An outside service (payment rail, notifier, underwriting) failed or was unreachable."""


class RailDeclined(ExternalServiceError):
    """A payment rail refused the transfer; another rail may still accept it."""


class RailUnavailable(ExternalServiceError):
    """A payment rail could not be reached, so it cannot have moved any money.

    Only an adapter that knows the request never left (connection refused, the rail
    switched off) raises this; another rail may then be tried. Any other
    `ExternalServiceError` from a rail (a timeout after sending) leaves the outcome
    unknown: retry the same rail with the same idempotency key instead.
    """


class WebhookRejected(ExternalServiceError):
    """An incoming webhook was refused before it became a settlement event.

    Its signature was missing or wrong, its timestamp outside the tolerance window (a
    replay), or its body not of the contract's shape; `key` names the failed check
    (``signature``, ``timestamp``, ``body``). Nothing was applied; operations are alerted.
    """


class ServiceNotConfigured(ExternalServiceError):
    """An outside service this deployment was given no settings for was called.

    On a real backend (``LOC_BACKEND=dynamodb``) a missing service is never replaced by a
    stand-in that would decide credit by a seeded draw, "move" money that never moves or
    know no borrower: the call fails, naming the variable to set. Nothing was applied.
    """


class RailsNotConfigured(ServiceNotConfigured, RailUnavailable):
    """The payment rails were called with no PayEngine settings.

    No request left, so no money moved.
    """


class DrawAlreadyReturned(PaymentAlreadyReversed):
    """A draw whose credit the rail already brought back: the same return changes nothing."""


class NoLateFee(InvalidTransition):
    """A waiver of a late fee the installment or the line's cycle does not carry.

    None was charged, the loan's cap left none, a policy or a correction took it back.
    """


class LoanCancelled(InvalidTransition):
    """The loan is CANCELLED (the rail returned its disbursement): it owes nothing.

    A payment on it is refused before any money moves; a return of the disbursement
    delivered again finds it already cancelled and changes nothing.
    """


class RefundNotDue(PaymentError):
    """A refund recorded as paid out that nothing owes.

    The payment keeps no refund, or its refund was cancelled (the payment was returned
    or charged back): nothing is owed back on it. Nothing changed.
    """


class RefundNotSettled(PaymentError):
    """A refund recorded as paid out while the payment that funded it is still PENDING.

    Its rail can still take the money back (an ACH debit returned for insufficient funds
    within two banking days, as unauthorized for up to 60), and a return after the
    payout would leave the lender short of money it sent: the payout waits until the
    rail completes the payment. An operator who pays out anyway (a rail that will never
    report) says so (`before_settlement`), and the audit trail records it. Nothing
    changed.
    """


class RefundAlreadyPaid(PaymentError):
    """A return or correction would cancel or change a refund already paid out.

    The lender already sent the money (`RefundStatus.PAID`): the books would owe back, or
    no longer owe, money already sent.

    Raised before anything changes; the services alert operations (CRITICAL) to handle
    it by hand. `paid` is the refund paid out, `corrected` what the correction would make
    it (0: cancelled).
    """

    def __init__(
        self,
        message: str,
        /,
        *,
        about: Subject | None = None,
        paid: int = 0,
        corrected: int = 0,
    ) -> None:
        super().__init__(message, about=about)
        self.paid = paid
        """The refund paid out, in cents."""
        self.corrected = corrected
        """What the correction would make the refund, in cents (0: cancelled)."""
