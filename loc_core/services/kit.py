"""The service kit: what the use cases of both products share, written once.

- idempotent commands from outside: `run_once` replays the first answer to a repeat;
- the business date: the clock's UTC instant and the date it falls on, and the dates a
  scheduled job may be run for (`job_date`, within `JOB_LOOK_BACK_DAYS`);
- queue messages: `reading` and `read_message` turn a body into its command, and a body
  that does not make one into `MalformedMessage` (never a `DomainError`);
- conflict retries: a unit of work that lost a version race is run again on a fresh read;
- leases: the lock keys of the original service and holding a lease for a block;
- money that moved but was not booked: a CRITICAL alert, then the error is raised, so the
  retry (same transfer keys, same rail answer) books it without moving money again;
- alerts: `post_alert` is the one way a use case tells operations, with its details;
- a payment id nothing carries: the `NotFound` every failed payment lookup raises.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Final, Protocol, TypeVar

import attrs

from loc_core.calendar import require_utc
from loc_core.errors import (
    ConcurrencyConflict,
    CorrectionTooOld,
    DomainError,
    IdempotencyConflict,
    InvalidRequest,
    InvalidTimestamp,
    InvalidTransition,
    InvariantViolation,
    LocError,
    MalformedMessage,
    NotFound,
    RefundAlreadyPaid,
)
from loc_core.events import AuditValue, DomainEvent, EventType
from loc_core.payments import Rail
from loc_core.ports import (
    Alert,
    Alerter,
    Clock,
    IdempotencyStatus,
    IdempotencyStore,
    Lease,
    Lock,
    QueueMessage,
    SettlementEvent,
    Severity,
)
from loc_core.ports.messaging import QUEUE_MESSAGE_VERSION
from loc_core.refunds import RefundDue, RefundHolder
from loc_core.returns import AutopayStop

__all__ = [
    "ALERT_SEVERITY",
    "ALERT_TITLE",
    "CONFLICT_ATTEMPTS",
    "IDEMPOTENCY_TTL",
    "JOB_LOOK_BACK_DAYS",
    "REFUND_ALREADY_PAID",
    "Leased",
    "NotBookedAlerted",
    "alert_refund_already_paid",
    "alert_settlement",
    "autopay_stop_alerts",
    "before_job_hour",
    "business_date",
    "commit_too_large",
    "committed_alert",
    "fingerprint",
    "iso_date",
    "job_date",
    "leased",
    "lock_key",
    "moment",
    "not_booked_alerted",
    "payment_not_found",
    "post_alert",
    "post_operations_alert",
    "read_message",
    "reading",
    "refund_due_alert",
    "refund_due_alerts",
    "refunds_raised",
    "require_paid_by",
    "retry_on_conflict",
    "reversed_as_of_today_alert",
    "run_once",
    "settlement_alert",
    "stop_autopay_for_return",
]

T = TypeVar("T")

IDEMPOTENCY_TTL = dt.timedelta(hours=24)
"""How long a command's idempotency key is remembered (policy)."""

CONFLICT_ATTEMPTS = 3
"""How many times a unit of work is tried when a concurrent writer changed its aggregate."""

JOB_LOOK_BACK_DAYS = 366
"""How far before the clock's business date a scheduled job may be run for (policy): a
year, leap day included. Nothing needs a rerun further back: billing's catch-up reaches
a year of cycles from today's run (`BILLING_MAX_CATCH_UP_DAYS`), corrections 120 days
(`CORRECTION_REACH`), the documents job 35; and a date this close keeps every job's own
arithmetic (a year's catch-up before it) far inside the calendar."""


def lock_key(process: str, *, user_id: str, item_id: str) -> str:
    """The lock key format of the original service: ``loc-{process}:user_id:{u}:item_id:{i}``."""
    return f"loc-{process}:user_id:{user_id}:item_id:{item_id}"


def moment(clock: Clock) -> tuple[dt.datetime, dt.date]:
    """The clock's instant (UTC) and the business date it falls on."""
    now = require_utc(clock.now(), field="clock.now()")
    return now, now.date()


def before_job_hour(clock: Clock, today: dt.date, hour: dt.time) -> bool:
    """Whether the clock is still before `hour` (UTC) of the business date `today`.

    A correction booked then leaves that day's job (scheduled at `hour`) to its own run
    (docs/corrections.md, "Today's job"); on a later date the job's hour has passed.
    """
    now, date = moment(clock)
    return date == today and now.time() < hour


def business_date(clock: Clock) -> dt.date:
    """The business date: the clock's UTC date."""
    return moment(clock)[1]


C = TypeVar("C", bound=attrs.AttrsInstance)


def read_message(command: type[C], message: QueueMessage, kind: str) -> C:
    """The command (or body class) a queue message of `kind` carries in its body.

    The message is of `kind` and of `QUEUE_MESSAGE_VERSION`; its body has exactly the
    class's fields (those with a default may be left out), whose own validators check
    the values.

    Raises:
        MalformedMessage: a message of another kind or version, a field missing or
            unknown, or a value a validator refuses.
    """
    with reading(message):
        if message.kind != kind:
            raise InvalidRequest(f"not a {kind} message", key="kind")
        if message.version != QUEUE_MESSAGE_VERSION:
            raise InvalidRequest(
                f"version {message.version!r}; this worker reads version {QUEUE_MESSAGE_VERSION}",
                key="version",
            )
        fields = [field for field in attrs.fields(command) if field.init]
        body = message.body
        missing = [f.name for f in fields if f.default is attrs.NOTHING and f.name not in body]
        if missing:
            raise InvalidRequest(f"no {', '.join(missing)}", key=missing[0])
        unknown = sorted(set(body) - {field.name for field in fields})
        if unknown:
            raise InvalidRequest(f"unknown field {', '.join(unknown)}", key=unknown[0])
        return command(**body)


@contextlib.contextmanager
def reading(message: QueueMessage) -> Iterator[None]:
    """Inside, what says `message` does not make its command is `MalformedMessage`.

    That is a `DomainError` (a validator's `InvalidRequest`), a `ValueError` or a
    `TypeError`: the body, not a business rule, is at fault. The error names the
    message (kind, version, deduplication id) and the field (`key`) where one is known.
    """
    try:
        yield
    except (DomainError, ValueError, TypeError) as exc:
        raise MalformedMessage(
            f"malformed {message.kind} message {message.deduplication_id!r}: {exc}",
            kind=message.kind,
            version=message.version,
            deduplication_id=message.deduplication_id,
            key=getattr(exc, "key", None),
        ) from exc


def iso_date(value: AuditValue, field: str) -> dt.date:
    """A message body's date, written as ``YYYY-MM-DD`` (`date.isoformat`).

    Raises:
        InvalidRequest: `value` is not such a date; `key` names `field`.
    """
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            day = dt.date.fromisoformat(value)
            if day.isoformat() == value:
                return day
    raise InvalidRequest(f"{field} must be a YYYY-MM-DD date, got {value!r}", key=field)


def job_date(clock: Clock, as_of: dt.date | None) -> dt.date:
    """The business date a scheduled job decides for: `as_of`, or the clock's by default.

    A job may be run for a past date (a missed run, an operator's rerun) back to
    `JOB_LOOK_BACK_DAYS` before the clock's business date; money it moves still moves
    now.

    Raises:
        InvalidRequest: `as_of` is after the clock's business date, or further back than
            the look-back; nothing was read.
    """
    today = business_date(clock)
    if as_of is None:
        return today
    if as_of > today:
        raise InvalidRequest(
            f"as_of {as_of.isoformat()} is after the business date {today.isoformat()}",
            key="as_of",
        )
    earliest = dt.date.fromordinal(max(1, today.toordinal() - JOB_LOOK_BACK_DAYS))
    if as_of < earliest:
        raise InvalidRequest(
            f"as_of {as_of.isoformat()} is more than {JOB_LOOK_BACK_DAYS} days before the "
            f"business date {today.isoformat()}: a job runs for a date from "
            f"{earliest.isoformat()} to {today.isoformat()}",
            key="as_of",
        )
    return as_of


def leased(lock: Lock, key: str, *, owner: str, ttl: dt.timedelta) -> Leased:
    """Hold the lease on `key` for the block; it is released however the block ends.

    Raises:
        LockNotAcquired: when another owner holds it (on entering the block).
    """
    return Leased(lock, key, owner, ttl)


class Leased:
    """The context `leased` returns: acquire on entering, release on leaving.

    A class, not a generator context manager: it is entered once per command that moves
    money, and a generator's setup and teardown cost several times as much.
    """

    __slots__ = ("_key", "_lease", "_lock", "_owner", "_ttl")

    def __init__(self, lock: Lock, key: str, owner: str, ttl: dt.timedelta) -> None:
        self._lock, self._key, self._owner, self._ttl = lock, key, owner, ttl
        self._lease: Lease | None = None

    def __enter__(self) -> Lease:
        self._lease = lease = self._lock.acquire(self._key, owner=self._owner, ttl=self._ttl)
        return lease

    def __exit__(self, *_exc: object) -> None:
        lease, self._lease = self._lease, None
        if lease is not None:
            self._lock.release(lease)


def retry_on_conflict(work: Callable[[], T], *, attempts: int = CONFLICT_ATTEMPTS) -> T:
    """Run `work` (which reads, changes and commits) again when its commit lost a race.

    Each try must read afresh, so it decides on what the other writer committed.

    Raises:
        ConcurrencyConflict: when every try lost.
    """
    for left in range(attempts - 1, -1, -1):
        try:
            return work()
        except ConcurrencyConflict:
            if not left:
                raise
    raise AssertionError("unreachable: attempts must be at least 1")  # pragma: no cover


def not_booked_alerted(
    what: str, *, alerter: Alerter, details: Mapping[str, AuditValue]
) -> NotBookedAlerted:
    """Around booking money a rail already moved: a failure is a CRITICAL alert, then raised.

    `details` names the transfer (rail, idempotency key) and whose money it is; until the
    retry books it, operations know the borrower's money and the books disagree.
    """
    return NotBookedAlerted(what, alerter, details)


class NotBookedAlerted:
    """The context `not_booked_alerted` returns: an `Exception` leaving it is alerted.

    The exception is never swallowed; a `BaseException` that is not an `Exception` (an
    interrupt) passes unalerted.
    """

    __slots__ = ("_alerter", "_details", "_what")

    def __init__(self, what: str, alerter: Alerter, details: Mapping[str, AuditValue]) -> None:
        self._what, self._alerter, self._details = what, alerter, details

    def __enter__(self) -> None:
        return None

    def __exit__(self, _type: object, error: BaseException | None, _traceback: object) -> None:
        if isinstance(error, Exception):
            post_alert(
                self._alerter,
                f"money moved but not booked: {self._what}",
                self._details,
                error=error,
            )


def fingerprint(command: attrs.AttrsInstance) -> str:
    """A digest of a command's type and fields, to catch a key reused for another request."""
    text = f"{type(command).__qualname__}{attrs.astuple(command, recurse=True)!r}"
    return hashlib.sha256(text.encode()).hexdigest()


def run_once(
    key: str,
    command: attrs.AttrsInstance,
    *,
    store: IdempotencyStore,
    clock: Clock,
    work: Callable[[], str],
    ttl: dt.timedelta = IDEMPOTENCY_TTL,
    stale_after: dt.timedelta | None = None,
) -> str:
    """Run `work` once per idempotency `key`; a repeat gets the first result back.

    `work` returns the result as a string (an id, or JSON) that a repeat replays. When
    `work` raises, the claim is dropped so the caller may retry with the same key. A
    claim older than `stale_after` (the lease `work` holds: its process died) is resumed,
    not refused for the claim's life.

    Raises:
        IdempotencyConflict: when `key` was used for a different command, or the first
            attempt is still running.
    """
    known = store.begin(
        key, fingerprint=fingerprint(command), now=clock.now(), ttl=ttl, stale_after=stale_after
    )
    if known is not None:
        if known.status is IdempotencyStatus.COMPLETED:
            return known.response
        raise IdempotencyConflict(
            f"the command with idempotency key {key!r} is still running",
            entity="idempotency",
            key=key,
        )
    try:
        result = work()
    except BaseException:
        store.abandon(key)
        raise
    store.complete(key, response=result, now=clock.now())
    return result


def alert_settlement(
    alerter: Alerter,
    event: SettlementEvent,
    title: str,
    *,
    severity: Severity = Severity.CRITICAL,
    **details: AuditValue,
) -> None:
    """Tell operations about a rail's event the books cannot take as it is, naming the event."""
    post_alert(alerter, title, {**_settlement_details(event), **details}, severity=severity)


TOO_LARGE_INVARIANTS: Final = frozenset({"transaction_limit", "transaction_size_limit"})
"""The `InvariantViolation` rules a unit of work refuses a commit by, before writing
anything, because one transaction cannot hold it (`UnitOfWork.transaction_limit` items;
DynamoDB's 4 MB a transaction)."""


def commit_too_large(error: LocError) -> bool:
    """Whether `error` is a commit refused as too large for one transaction.

    Nothing was written, and the same commit fails the same way on every retry: a
    correction that grows with an account's history is booked another way
    (docs/corrections.md, "Corrections too large for one commit").
    """
    return isinstance(error, InvariantViolation) and error.invariant in TOO_LARGE_INVARIANTS


def _settlement_details(event: SettlementEvent) -> dict[str, AuditValue]:
    """What names a rail's settlement event in an alert."""
    return {
        "event_id": event.event_id,
        "idempotency_key": event.idempotency_key,
        "confirmation_id": event.confirmation_id,
        "rail": event.rail.value,
        "outcome": event.outcome.value,
        "return_code": event.return_code,
    }


ALERT_TITLE: Final = "title"
"""The data key of an `EventType.OPERATIONS_ALERT` event that holds the alert's title."""
ALERT_SEVERITY: Final = "severity"
"""The data key of an `EventType.OPERATIONS_ALERT` event that holds the alert's severity."""


def committed_alert(
    title: str,
    details: Mapping[str, AuditValue],
    *,
    user_id: str,
    subject_id: str,
    on: dt.date,
    severity: Severity = Severity.WARNING,
) -> DomainEvent:
    """An operations alert about a change, to put in the changed aggregate's outbox.

    The alert is then committed with the change and posted when its events are published
    (`post_operations_alert`): never for a change that was not committed, and never lost to
    a process that dies after the commit (the recovery job publishes what it left). An
    alert about something refused, where nothing changed, is posted at once (`post_alert`).

    Raises:
        ValueError: `details` uses the alert's own keys (``title``, ``severity``).
    """
    taken = {ALERT_TITLE, ALERT_SEVERITY} & details.keys()
    if taken:
        raise ValueError(f"an alert's details may not use the keys {sorted(taken)}")
    data = {**details, ALERT_TITLE: title, ALERT_SEVERITY: severity.value}
    return DomainEvent(EventType.OPERATIONS_ALERT, user_id, subject_id, on, data)


_OPERATIONS_ALERT = EventType.OPERATIONS_ALERT
"""Bound once: a member read off its enum class is slow on CPython 3.11 (docs/simulation.md)."""


def post_operations_alert(event: DomainEvent, *, alerter: Alerter) -> None:
    """Post the operations alert an `EventType.OPERATIONS_ALERT` event carries.

    The event handler every committed event goes to; any other event is ignored. Never
    raises (an `Alerter` never does).
    """
    if event.type is not _OPERATIONS_ALERT:
        return
    details = dict(event.data)
    title = str(details.pop(ALERT_TITLE))
    severity = Severity(details.pop(ALERT_SEVERITY))
    alerter.alert(Alert(severity, title, details))


def settlement_alert(
    event: SettlementEvent,
    title: str,
    *,
    user_id: str,
    owner: tuple[str, str],
    on: dt.date,
    severity: Severity = Severity.WARNING,
    **details: AuditValue,
) -> DomainEvent:
    """An alert about what a rail's `event` changed, naming the event, to commit with it.

    `owner` names the loan or line, as (``loan_id`` or ``line_id``, its id).
    """
    name, owner_id = owner
    return committed_alert(
        title,
        {**_settlement_details(event), "user_id": user_id, name: owner_id, **details},
        user_id=user_id,
        subject_id=owner_id,
        on=on,
        severity=severity,
    )


def reversed_as_of_today_alert(
    event: SettlementEvent,
    *,
    what: str,
    effective: dt.date,
    rest: str,
    user_id: str,
    owner: tuple[str, str],
    on: dt.date,
    limit: int,
) -> DomainEvent:
    """The CRITICAL alert of a return reversed as of `on`, its correction too large to commit.

    `what` names the payment and its account, `rest` what operations correct by hand.
    """
    return settlement_alert(
        event,
        f"{what} reversed as of today: its correction as of {effective} is too large for "
        f"one commit; correct the effective-dated rest ({rest}) by hand",
        user_id=user_id,
        owner=owner,
        on=on,
        severity=Severity.CRITICAL,
        effective=effective.isoformat(),
        transaction_limit=limit,
    )


CANNOT_DATE_BACK = (CorrectionTooOld, RefundAlreadyPaid, InvalidTimestamp, InvalidTransition)
"""What refuses to correct a loan or line as of an earlier day, changing nothing: beyond
the correction reach or a loan's history (an adopted loan), a refund paid out that the
correction would change, a day outside the account's life."""


def booked_as_of_or_today(
    as_of: Callable[[], T],
    today: Callable[[], T],
    *,
    payment_id: str,
    taken_on: dt.date,
    user_id: str,
    owner: tuple[str, str],
    on: dt.date,
    events: list[DomainEvent],
) -> T:
    """Book a debit as of `taken_on` (`as_of`), or else as of today (`today`), alerted.

    A debit counts from the day its rail took it; when its loan or line cannot be
    corrected as of then (`CANNOT_DATE_BACK`, raised before anything changed), the money
    is still booked (`today`) and `booked_as_of_today_alert` joins `events`, the account's
    outbox, to be committed with it.
    """
    try:
        return as_of()
    except CANNOT_DATE_BACK as refused:
        booked = today()
        events.append(
            booked_as_of_today_alert(
                payment_id, taken_on=taken_on, refused=refused, user_id=user_id, owner=owner, on=on
            )
        )
        return booked


def booked_as_of_today_alert(
    payment_id: str,
    *,
    taken_on: dt.date,
    refused: LocError,
    user_id: str,
    owner: tuple[str, str],
    on: dt.date,
) -> DomainEvent:
    """The CRITICAL alert of a debit booked as of `on`, not as of the day its rail took it.

    A debit counts from `taken_on`; when its loan or line cannot be corrected as of then
    (`refused`: beyond the correction reach, a refund paid out that the correction would
    change, a loan adopted without its history), the money is still booked, as of today,
    and operations correct what it should have prevented (a late fee, interest) by hand.
    `owner` names the loan or line, as (``loan_id`` or ``line_id``, its id).
    """
    name, owner_id = owner
    return committed_alert(
        f"debit booked as of {on}, not as of {taken_on} when its rail took it: correct "
        "by hand what it should have prevented (late fees, interest)",
        {
            name: owner_id,
            "payment_id": payment_id,
            "taken_on": taken_on.isoformat(),
            "refused": f"{type(refused).__name__}: {refused}",
        },
        user_id=user_id,
        subject_id=payment_id,
        on=on,
        severity=Severity.CRITICAL,
    )


def autopay_stop_alerts(
    event: SettlementEvent,
    stops: Iterable[AutopayStop],
    *,
    user_id: str,
    owner: tuple[str, str],
    on: dt.date,
) -> list[DomainEvent]:
    """The alerts (WARNING) that committed returns forbid debiting the borrower again.

    One for every such return, also when autopay was off already (``autopay_stopped``
    says which): an unauthorized claim is a Regulation E matter whatever the setting. An
    NSF return (presentable again) is not alerted. `owner` names the loan or line, as
    (``loan_id`` or ``line_id``, its id); commit the alerts with the return.
    """
    what = "loan" if owner[0] == "loan_id" else "line"
    return [
        settlement_alert(
            event,
            f"{'autopay stopped' if stop.stopped else 'autopay already off'} on {what} "
            f"{owner[1]}: {stop.why}",
            user_id=user_id,
            owner=owner,
            on=on,
            return_kind=stop.kind.value,
            autopay_stopped=stop.stopped,
        )
        for stop in stops
        if stop.kind.stops_autopay
    ]


def post_alert(
    alerter: Alerter,
    title: str,
    details: Mapping[str, AuditValue],
    *,
    severity: Severity = Severity.CRITICAL,
    error: BaseException | None = None,
) -> None:
    """Tell operations `title`, with `details` and, when one caused it, the `error`.

    The error is written as ``Type: message``, so the alert says what failed, not only why.
    The alert keeps its own copy of the details.
    """
    shown = dict(details)
    if error is not None:
        shown["error"] = f"{type(error).__name__}: {error}"
    alerter.alert(Alert(severity, title, shown))


class OwesBack(Protocol):
    """A loan or a line: what it owes its borrower back, payment by payment."""

    @property
    def payments(self) -> Mapping[str, RefundHolder]:
        """Its payments, by id."""

    def refunds_due_by_payment(self) -> dict[str, int]:
        """Each payment's refund due (not cancelled or paid out), by payment id."""


def refunds_raised(owner: OwesBack, before: Mapping[str, int]) -> list[RefundDue]:
    """The refunds due `owner` created or grew since `before`, each to alert once.

    `before` is its `refunds_due_by_payment` before the change.
    """
    return [
        refund
        for payment_id, amount in owner.refunds_due_by_payment().items()
        if amount > before.get(payment_id, 0)
        and (refund := owner.payments[payment_id].refund) is not None
    ]


def refund_due_alerts(
    owner: OwesBack, before: Mapping[str, int], *, user_id: str, named: tuple[str, str], on: dt.date
) -> list[DomainEvent]:
    """The alert of each refund due `owner` created or grew since `before` (`refunds_raised`).

    `named` names the loan or line, as (``loan_id`` or ``line_id``, its id).
    """
    return [
        refund_due_alert(refund, user_id=user_id, owner=named, on=on)
        for refund in refunds_raised(owner, before)
    ]


def stop_autopay_for_return(
    stop: Callable[..., AutopayStop],
    account: object,
    event: SettlementEvent,
    *,
    user_id: str,
    owner: tuple[str, str],
    today: dt.date,
) -> tuple[AutopayStop, list[DomainEvent]]:
    """Apply the product's `stop` (``stop_autopay_after_return``) to the returned payment.

    `event` is the rail's return of the payment it keys; `account` the loan or line, and
    `owner` its name and id. Returns what the return did to autopay and its alerts
    (`autopay_stop_alerts`), for the caller to commit with the change or, when nothing
    changed, to post at once.
    """
    stopped = stop(
        account,
        payment_id=event.idempotency_key,
        outcome=event.outcome,
        return_code=event.return_code,
        today=today,
    )
    return stopped, autopay_stop_alerts(event, [stopped], user_id=user_id, owner=owner, on=today)


def refund_due_alert(
    refund: RefundDue, *, user_id: str, owner: tuple[str, str], on: dt.date
) -> DomainEvent:
    """The alert (WARNING) that a payment took money nothing was owed for: refund it.

    `owner` names the loan or line, as (``loan_id`` or ``line_id``, its id); commit the
    alert with the change that made the refund due.
    """
    name, owner_id = owner
    return committed_alert(
        "refund due",
        {
            "user_id": user_id,
            name: owner_id,
            "payment_id": refund.payment_id,
            "amount": refund.remaining,  # what to send: a line may have applied part of it
        },
        user_id=user_id,
        subject_id=owner_id,
        on=on,
    )


REFUND_ALREADY_PAID = "refund already paid out: handle by hand"
"""The title of the CRITICAL alert for a return or correction refused because it would
cancel or change a refund the lender already paid out (`RefundAlreadyPaid`)."""


def alert_refund_already_paid(
    alerter: Alerter,
    error: RefundAlreadyPaid,
    *,
    event: SettlementEvent,
    user_id: str,
    loan_id: str | None = None,
    line_id: str | None = None,
) -> None:
    """Tell operations (CRITICAL) that `event` was refused: it would change a paid-out refund.

    Names the loan or line, the payment, what was paid out and what the correction would
    have made it; nothing changed, and the event is left to be handled by hand.
    """
    alert_settlement(
        alerter,
        event,
        REFUND_ALREADY_PAID,
        user_id=user_id,
        loan_id=loan_id,
        line_id=line_id,
        payment_id=error.entity_id,
        refund_paid=error.paid,
        refund_corrected=error.corrected,
        error=str(error),
    )


def payment_not_found(
    payment_id: str,
    where: str,
    *,
    user_id: str | None = None,
    event: SettlementEvent | None = None,
) -> NotFound:
    """The error for a payment id that `where` (a loan, a line, every loan) does not carry.

    When a rail's `event` named the payment, the error names the event and its key.
    """
    heard = f" (event {event.event_id})" if event is not None else ""
    return NotFound(
        f"no payment {payment_id!r} on {where}{heard}",
        entity="payment",
        entity_id=payment_id,
        user_id=user_id,
        key=event.idempotency_key if event is not None else None,
    )


def require_paid_by(alerter: Alerter, event: SettlementEvent, paid_by: Rail, **ids: str) -> None:
    """Refuse, alerting operations, a rail's event about a payment another rail collected.

    The event is not applied (nothing changes) and fails as an event for an unknown
    transfer does: money may have moved that nothing records (another transfer's event,
    a key sent by mistake), so it is CRITICAL and waits to be looked at.

    Raises:
        NotFound: `event.rail` is not `paid_by`.
    """
    if paid_by is event.rail:
        return
    alert_settlement(
        alerter,
        event,
        f"settlement event on {event.rail.value} for a payment sent by "
        f"{paid_by.value}: not applied, money may have moved that nothing records",
        severity=Severity.CRITICAL,
        **ids,
    )
    raise payment_not_found(event.idempotency_key, f"the {event.rail.value} rail", event=event)
