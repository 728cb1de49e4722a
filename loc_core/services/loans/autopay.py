"""Turning autopay on or off for a loan (the borrower's setting, audited)."""

from __future__ import annotations

import attrs

from loc_core.ports import Clock, Lock, UnitOfWork
from loc_core.services.kit import leased, moment, retry_on_conflict
from loc_core.services.loans.payments import PAYMENT_LEASE, payment_lease_key
from loc_core.services.messagebus import Command
from loc_core.validation import Flag, Id, valid_text, validated

__all__ = ["SetAutopay", "set_autopay"]


@attrs.frozen(field_transformer=validated)
class SetAutopay(Command[bool]):
    """Switch autopay for a loan on or off."""

    user_id: Id
    loan_id: Id
    enabled: Flag
    reason: str = attrs.field(default="borrower request", validator=valid_text)
    """Why, as the audit trail should say it."""


def set_autopay(command: SetAutopay, *, uow: UnitOfWork, clock: Clock, lock: Lock) -> bool:
    """Apply the setting; returns whether it changed anything.

    Idempotent by nature: asking for the setting the loan already has changes and
    records nothing. The setting changes under the loan's payment lease, which the
    collections worker holds from its read of the setting until its charge is booked:
    a revocation (Regulation E 1005.10(c)) stops every charge not yet sent to a rail,
    and one asked while a charge is being sent is refused (`LockNotAcquired`, retry
    shortly), never reported done while the money goes out.

    Raises:
        NotFound: for an unknown loan.
        InvalidTransition: when turning autopay on for a loan that is not OPEN.
        LockNotAcquired: while autopay or a manual payment is taking money for the loan.
    """
    now, today = moment(clock)

    def attempt() -> bool:
        with uow:
            loan = uow.loans.get(command.user_id, command.loan_id)
            if not loan.set_autopay(command.enabled, today=today, reason=command.reason):
                return False
            uow.loans.save(loan)
            uow.commit(
                actor="api",
                request_id=f"set_autopay:{command.loan_id}:{command.enabled}:{now.isoformat()}",
            )
        return True

    with leased(
        lock,
        payment_lease_key(command.user_id, command.loan_id),
        owner=f"set_autopay:{now.isoformat()}",
        ttl=PAYMENT_LEASE,
    ):
        return retry_on_conflict(attempt)
