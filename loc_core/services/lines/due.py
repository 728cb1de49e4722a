"""The due job (``loc_due``, 15:00 UTC daily): collect the minimum still owed on its due date.

Lines are found by due date (`CreditLineRepository.due_between(today, today)`); the core
decides (`decide_due`): a line whose latest close is not billed yet is skipped (the
seed's ``LastBillingCycleDate`` guard), and the amount is the minimum less the payments
since the statement. It is collected by pinless debit, then ACH, under the line's debit
lease ``loc-due:user_id:<u>:item_id:<line>`` (manual payments hold it too), and applied
at once (`submit_payment`).

Exactly once: each transfer's key is ``due:<line>:<due date>:<rail>`` and is the payment's
id. A line that already has a due payment for this due date is not charged again, so a
re-run the same day charges nothing more, whatever became of the first payment since. A
run that crashed after a rail took the money is completed by the re-run: the rail answers
the same key with its first answer, and the payment is applied once.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.creditline import CreditLineProduct
from loc_core.payments import REPAYMENT_RAILS, Rail
from loc_core.ports import (
    Alerter,
    Clock,
    IdGenerator,
    LineRef,
    Lock,
    Metrics,
    PaymentRails,
    UnitOfWork,
)
from loc_core.services.kit import business_date, lock_key
from loc_core.services.lines._unit import LEASE_TTL
from loc_core.services.lines.booking import apply_collected, collect_debit
from loc_core.services.lines.jobs import JobReport, for_each_line
from loc_core.services.lines.paying import DEBIT_LOCK_PROCESS
from loc_core.services.messagebus import Command, Publisher

__all__ = ["CollectDueMinimums", "collect_due_minimum_payments", "due_payment_id"]


@attrs.frozen
class CollectDueMinimums(Command[JobReport]):
    """Run the due job (``loc_due``, 15:00 UTC): collect the minimum due today."""


def due_payment_id(line_id: str, due_date: dt.date, rail: Rail) -> str:
    """The id of the due job's payment (and its transfer's key) for one due date and rail."""
    return f"due:{line_id}:{due_date.isoformat()}:{rail.value}"


@attrs.frozen
class _Ports:
    uow: UnitOfWork
    rails: PaymentRails
    clock: Clock
    product: CreditLineProduct
    publish: Publisher
    alerter: Alerter
    metrics: Metrics


def collect_due_minimum_payments(
    _command: CollectDueMinimums,
    *,
    uow: UnitOfWork,
    rails: PaymentRails,
    lock: Lock,
    ids: IdGenerator,
    clock: Clock,
    product: CreditLineProduct,
    publish: Publisher,
    alerter: Alerter,
    metrics: Metrics,
) -> JobReport:
    """Collect what is still owed of the minimum from every line due today.

    A line whose lease another worker holds fails for this run (alerted): a re-run the
    same day collects it.
    """
    today = business_date(clock)
    with uow:
        refs = uow.lines.due_between(today, today)
    ports = _Ports(uow, rails, clock, product, publish, alerter, metrics)
    owner = ids.new_id()

    def handle(ref: LineRef) -> bool:
        lease = lock.acquire(
            lock_key(DEBIT_LOCK_PROCESS, user_id=ref.user_id, item_id=ref.line_id),
            owner=owner,
            ttl=LEASE_TTL,
        )
        try:
            return _collect(ref, ports)
        finally:
            lock.release(lease)

    return for_each_line(
        "loc_due", refs, business_date=today, handle=handle, alerter=alerter, metrics=metrics
    )


def _collect(ref: LineRef, ports: _Ports) -> bool:
    today = business_date(ports.clock)
    with ports.uow as uow:
        line = uow.lines.get(ref.user_id, ref.line_id)
    decision = line.decide_due(today=today)
    due = line.next_due_date
    if decision.amount == 0 or due is None:
        return False
    keys = {rail: due_payment_id(line.line_id, due, rail) for rail in REPAYMENT_RAILS}
    if any(key in line.payments for key in keys.values()):
        return False
    collected, _ = collect_debit(
        ports.rails,
        user_id=line.user_id,
        line_id=line.line_id,
        amount=min(decision.amount, line.total_balance),
        key_for=keys.__getitem__,
        alerter=ports.alerter,
        order=decision.rails,
    )
    if collected is None:
        ports.metrics.increment("loc.lines.loc_due.declined")
        return False
    apply_collected(
        ports.uow,
        collected,
        user_id=line.user_id,
        line_id=line.line_id,
        clock=ports.clock,
        product=ports.product,
        publish=ports.publish,
        alerter=ports.alerter,
        actor="loc_due",
        request_id=f"loc_due:{today.isoformat()}",
    )
    return True
