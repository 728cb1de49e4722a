"""The due job (``loc_due``, 15:00 UTC daily): collect the minimum still owed on its due date.

Lines are found by due date (`CreditLineRepository.due_between(today, today)`); the core
decides (`decide_due`): a line whose latest close is not billed yet is skipped (the
seed's ``LastBillingCycleDate`` guard), and the amount is the minimum less the payments
since the statement. It is collected by pinless debit, then ACH, under the line's debit
lease ``loc-due:user_id:<u>:item_id:<line>`` (manual payments hold it too), and applied
at once (`submit_payment`).

Days the job did not run (docs/jobs.md, "After an outage"): a run that reaches its end
marks its date done (`due_run_key`, in the idempotency store). Each run also looks at
the `DUE_CATCH_UP_DAYS` days before its date: a day not marked done (no run, or one that
died or was cut short) is *missed*, and the lines still due that day (the same index,
`due_between(day, day)`) are collected now, as that day's run would have collected them,
under that due date's keys; the end of the run marks those days done too. A day whose
run finished is never looked at again, so a minimum the run found paid, or autopay off,
or that every rail declined, is not presented later because something changed since.
Days before the first run that marked its days (`DUE_CATCH_UP_SINCE`, recorded only by
a run for the clock's own date) are never missed: earlier releases left no marks. Nor is
a day whose mark may have expired since (an operator's ``--date`` run a week or more
back): a missing mark says nothing there either.

Another debit on the line whose outcome is not known yet (a borrower's payment whose
rail failed mid-call, `Movements.unconfirmed_debits`) may have taken money
the line does not show yet: the job takes only what it leaves unpaid of the minimum
(nothing when it covers it), as if it will succeed, so the borrower is never debited
twice for one minimum (counted ``loc.lines.loc_due.unconfirmed``). If that debit then
proves to have moved nothing, the minimum is short by its amount and the overdue job
treats the line as any line whose minimum is unpaid.

Exactly once: each transfer's key is ``due:<line>:<due date>:<rail>`` and is the payment's
id. A line that already has a due payment for this due date is not charged again, so a
re-run the same day charges nothing more, whatever became of the first payment since. A
run that crashed after a rail took the money is completed by the re-run: the rail answers
the same key with its first answer, and the payment is applied once.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.intents import IntentKind, IntentStatus, TransferIntent, request_fingerprint
from loc_core.payments import REPAYMENT_RAILS, Rail
from loc_core.ports import (
    IdempotencyStatus,
    IdempotencyStore,
    IdGenerator,
    Lease,
    LineRef,
    Lock,
    Metrics,
)
from loc_core.services.kit import leased, lock_key, moment
from loc_core.services.lines._unit import LEASE_TTL
from loc_core.services.lines.billing import BILLING_CATCH_UP_DAYS
from loc_core.services.lines.booking import LineDebits
from loc_core.services.lines.jobs import JobReport, LineJobs
from loc_core.services.lines.paying import DEBIT_LOCK_PROCESS
from loc_core.services.scheduled import PageableJob

__all__ = [
    "DUE_CATCH_UP_DAYS",
    "DUE_CATCH_UP_SINCE",
    "CollectDueMinimums",
    "collect_due_minimum_payments",
    "due_intent_id",
    "due_payment_id",
    "due_run_key",
]

DUE_CATCH_UP_DAYS = BILLING_CATCH_UP_DAYS
"""How many days before its date a due run looks for days no run finished (policy): the
billing job's catch-up, so an outage billing catches up is collected too (docs/jobs.md)."""
_RUN_MARK = "loc_due run finished"
"""The fingerprint of every `due_run_key` record: one kind of request."""
_RUN_MARK_TTL = dt.timedelta(days=DUE_CATCH_UP_DAYS + 2)
"""How long a day's mark is kept: while a later run's window reaches the day, with a day
to spare. A ``--date`` run further back takes no day for missed whose mark may be gone
(`_marks_kept_from`)."""
DUE_CATCH_UP_SINCE = "loc_due:catching-up-since"
"""The idempotency record of the first day a due run marked its days: days before it are
never taken for missed (`_catching_up_since`)."""
_SINCE_MARK = "loc_due catch-up since"
_SINCE_TTL = dt.timedelta(days=3653)
"""Kept ten years: the record only has to outlive the deployment."""
_COMPLETED = IdempotencyStatus.COMPLETED
"""Bound once: a member read off its enum class is slow on CPython 3.11 (docs/simulation.md)."""


@attrs.frozen
class CollectDueMinimums(PageableJob[JobReport]):
    """Run the due job (``loc_due``, 15:00 UTC): collect the minimum due today."""


def due_payment_id(line_id: str, due_date: dt.date, rail: Rail) -> str:
    """The id of the due job's payment (and its transfer's key) for one due date and rail."""
    return f"due:{line_id}:{due_date.isoformat()}:{rail.value}"


def collect_due_minimum_payments(
    command: CollectDueMinimums,
    *,
    jobs: LineJobs,
    debits: LineDebits,
    lock: Lock,
    ids: IdGenerator,
    metrics: Metrics,
    idempotency: IdempotencyStore,
) -> JobReport:
    """Collect what is still owed of the minimum from every line due on the business date.

    Lines due on a missed day of the catch-up window (module doc) are collected too, for
    that due date. A line whose lease another worker holds fails for this run (alerted):
    a re-run the same day collects it.
    """
    today = command.business_date(jobs.lines.clock)
    now, _ = moment(jobs.lines.clock)
    missed = _missed_days(idempotency, now, today)
    if missed:
        metrics.increment("loc.lines.loc_due.missed_days", len(missed))
    with jobs.lines.uow as uow:
        refs = [ref for day in (*missed, today) for ref in uow.lines.due_between(day, day)]
    owner = ids.new_id()

    def handle(ref: LineRef) -> bool:
        key = lock_key(DEBIT_LOCK_PROCESS, user_id=ref.user_id, item_id=ref.line_id)
        with leased(lock, key, owner=owner, ttl=LEASE_TTL) as lease:
            return _collect(ref, today, debits, metrics, lease, missed=missed)

    report = jobs.for_each("loc_due", refs, handle, today, command)
    if report.cursor is None:  # the run reached its end: these days are done
        _mark_done(idempotency, jobs.lines.clock.now(), (*missed, today))
    return report


def due_run_key(day: dt.date) -> str:
    """The idempotency record that says the due run for `day` reached its end."""
    return f"loc_due:ran:{day.isoformat()}"


def _missed_days(store: IdempotencyStore, now: dt.datetime, today: dt.date) -> tuple[dt.date, ...]:
    """The days of the catch-up window before `today` whose due run never reached its end.

    Only days on or after the first day this release's due job ran (`_catching_up_since`)
    count: before that no run left a mark, and a day without one says nothing. Nor does
    a day whose mark may be gone (`_marks_kept_from`: a ``--date`` run a week or more
    back). A day with no record is claimed (IN_PROGRESS) by this run; one claimed and
    never finished (a run that died, cut short, or this run's earlier page) stays missed.
    """
    since = max(_catching_up_since(store, now, today), _marks_kept_from(now))
    missed: list[dt.date] = []
    for back in range(DUE_CATCH_UP_DAYS, 0, -1):
        day = today - dt.timedelta(days=back)
        if day < since:
            continue
        known = store.begin(due_run_key(day), fingerprint=_RUN_MARK, now=now, ttl=_RUN_MARK_TTL)
        if known is None or known.status is not _COMPLETED:
            missed.append(day)
    return tuple(missed)


def _marks_kept_from(now: dt.datetime) -> dt.date:
    """The first day whose mark, had its run finished, is surely still kept at `now`.

    A day's mark is written on or after the day began (UTC) and kept `_RUN_MARK_TTL`
    from then; a record past its time counts as absent at once, whether or not DynamoDB's
    TTL has swept it yet. Only a ``--date`` run a week or more back reaches earlier days.
    """
    return (now - _RUN_MARK_TTL).date() + dt.timedelta(days=1)


def _catching_up_since(store: IdempotencyStore, now: dt.datetime, today: dt.date) -> dt.date:
    """The first day a due run marked its days (`DUE_CATCH_UP_SINCE`), recorded by the first run.

    Without it, the first run after the catch-up was deployed would find no marks for the
    week before and take every day of it for missed: it would debit lines whose minimum
    the old runs rightly left (autopay turned on after the due date, a payment returned
    since, a debit every rail declined). Only a run for the clock's own date records it:
    an operator's ``--date`` run that comes first after the deploy cannot vouch for the
    days between its date and today (runs of the old release may have done them, leaving
    no mark); it looks at no day before its own.
    """
    known = store.begin(DUE_CATCH_UP_SINCE, fingerprint=_SINCE_MARK, now=now, ttl=_SINCE_TTL)
    if known is not None and known.status is _COMPLETED and known.response:
        return min(dt.date.fromisoformat(known.response), today)
    if today == now.date():  # a claim left by a --date run is completed here too
        store.complete(DUE_CATCH_UP_SINCE, response=today.isoformat(), now=now)
    return today


def _mark_done(store: IdempotencyStore, now: dt.datetime, days: tuple[dt.date, ...]) -> None:
    """Record that the due run of each of `days` reached its end (once; a repeat keeps it)."""
    for day in days:
        key = due_run_key(day)
        known = store.begin(key, fingerprint=_RUN_MARK, now=now, ttl=_RUN_MARK_TTL)
        if known is None or known.status is not _COMPLETED:
            store.complete(key, response="done", now=now)


def _left_to_book(debits: LineDebits, wanted: TransferIntent) -> int:
    """What to book when other debits leave nothing to take (0: nothing).

    The stored due debit `wanted` names is booked as stored when a rail received it; one no
    rail received is abandoned.
    """
    with debits.lines.uow as uow:
        stored = uow.intents.find(wanted.intent_id)
    if stored is None or stored.status is not IntentStatus.PENDING:
        return 0
    if debits.movements.look_up(stored) is None:
        debits.movements.abandon(stored, "other debits on the line leave nothing to take")
        return 0
    return stored.amount


def due_intent_id(line_id: str, due_date: dt.date) -> str:
    """The intent of the due job's debit for one due date: ``due:<line>:<due date>``."""
    return f"due:{line_id}:{due_date.isoformat()}"


def _wanted(
    ref: LineRef,
    today: dt.date,
    debits: LineDebits,
    metrics: Metrics,
    lease: Lease,
    *,
    missed: tuple[dt.date, ...],
) -> TransferIntent | None:
    """The due debit to send, sized to what other debits leave; None when none is due.

    Another debit on the line a rail took and nobody booked is booked now (and the line
    decided again); one a rail cannot tell about is counted as paying (module doc).
    """
    while True:
        with debits.lines.uow as uow:
            line = uow.lines.get(ref.user_id, ref.line_id)
        decision = line.decide_due(today=today, missed=missed)
        due = line.next_due_date
        if decision.amount == 0 or due is None:
            return None
        keys = {rail: due_payment_id(line.line_id, due, rail) for rail in REPAYMENT_RAILS}
        if any(key in line.payments for key in keys.values()):
            debits.movements.finish_stored(line.user_id, due_intent_id(line.line_id, due))
            return None
        wanted = debits.debit_intent(
            intent_id=due_intent_id(line.line_id, due),
            kind=IntentKind.DUE_PAYMENT,
            user_id=line.user_id,
            line_id=line.line_id,
            amount=min(decision.amount, line.total_balance),
            order=decision.rails,
            fingerprint=request_fingerprint("loc_due", line.user_id, line.line_id, due),
            request_key=f"loc_due:{today.isoformat()}",
        )
        found = debits.movements.unconfirmed_debits(wanted, lease=lease)
        if not found.booked:  # else an earlier debit was booked: the line changed
            break
    unconfirmed = sum(other.amount for other in found.left)
    if unconfirmed:
        metrics.increment("loc.lines.loc_due.unconfirmed")
    amount = wanted.amount - unconfirmed
    if amount <= 0:
        amount = _left_to_book(debits, wanted)
    return attrs.evolve(wanted, amount=amount) if amount > 0 else None


def _collect(
    ref: LineRef,
    today: dt.date,
    debits: LineDebits,
    metrics: Metrics,
    lease: Lease,
    *,
    missed: tuple[dt.date, ...],
) -> bool:
    wanted = _wanted(ref, today, debits, metrics, lease, missed=missed)
    if wanted is None:
        return False
    amount = wanted.amount
    intent = debits.movements.open(wanted, client=False)
    if intent.status is not IntentStatus.PENDING:
        return False  # finished earlier: booked, or declined by every rail
    # A run that died before any rail received the debit moved nothing: it takes what is
    # still unpaid of the minimum now, not what was unpaid before the borrower paid.
    intent = debits.movements.resized(intent, amount)
    collected, _ = debits.collect(intent)
    if collected is None:
        metrics.increment("loc.lines.loc_due.declined")
        return False
    _, booked = debits.book(intent, collected, actor="loc_due", lease=lease)
    debits.movements.finish(booked)
    return True
