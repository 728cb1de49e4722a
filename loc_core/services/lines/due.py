"""The due job (``loc_due``, 15:00 UTC daily): collect the minimum still owed on its due date.

Lines are found by due date (`CreditLineRepository.due_between(today, today)`); the core
decides (`decide_due`): a line whose latest close is not billed yet is skipped (the
seed's ``LastBillingCycleDate`` guard), and the amount is the minimum less the payments
since the statement. It is collected by pinless debit, then ACH, under the line's debit
lease ``loc-due:user_id:<u>:item_id:<line>`` (manual payments hold it too), and applied
at once (`submit_payment`).

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
    IdGenerator,
    Lease,
    LineRef,
    Lock,
    Metrics,
)
from loc_core.services.kit import leased, lock_key
from loc_core.services.lines._unit import LEASE_TTL
from loc_core.services.lines.booking import LineDebits
from loc_core.services.lines.jobs import JobReport, LineJobs
from loc_core.services.lines.paying import DEBIT_LOCK_PROCESS
from loc_core.services.scheduled import PageableJob

__all__ = ["CollectDueMinimums", "collect_due_minimum_payments", "due_intent_id", "due_payment_id"]


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
) -> JobReport:
    """Collect what is still owed of the minimum from every line due on the business date.

    A line whose lease another worker holds fails for this run (alerted): a re-run the
    same day collects it.
    """
    today = command.business_date(jobs.lines.clock)
    with jobs.lines.uow as uow:
        refs = uow.lines.due_between(today, today)
    owner = ids.new_id()

    def handle(ref: LineRef) -> bool:
        key = lock_key(DEBIT_LOCK_PROCESS, user_id=ref.user_id, item_id=ref.line_id)
        with leased(lock, key, owner=owner, ttl=LEASE_TTL) as lease:
            return _collect(ref, today, debits, metrics, lease)

    return jobs.for_each("loc_due", refs, handle, today, command)


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
    ref: LineRef, today: dt.date, debits: LineDebits, metrics: Metrics, lease: Lease
) -> TransferIntent | None:
    """The due debit to send, sized to what other debits leave; None when none is due.

    Another debit on the line a rail took and nobody booked is booked now (and the line
    decided again); one a rail cannot tell about is counted as paying (module doc).
    """
    while True:
        with debits.lines.uow as uow:
            line = uow.lines.get(ref.user_id, ref.line_id)
        decision = line.decide_due(today=today)
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
    ref: LineRef, today: dt.date, debits: LineDebits, metrics: Metrics, lease: Lease
) -> bool:
    wanted = _wanted(ref, today, debits, metrics, lease)
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
