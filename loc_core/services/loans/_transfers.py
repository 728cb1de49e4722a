"""Moving money through the rails in order of preference, with keys that make retries safe.

Every transfer's idempotency key is derived from what it is for (an application, an
installment attempt, a borrower's idempotency key) and the rail, never drawn at random: a
retry after a crash asks each rail again with the same key and gets the first answer back
instead of moving the money a second time.

A rail that cannot be reached (`ExternalServiceError`) is treated like one that declined:
the next rail is tried. A rail that in fact took a transfer it did not confirm shows up
later as a settlement event for a key no payment carries, which the settlement handler
alerts on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import attrs

from loc_core.errors import ExternalServiceError, LocError, RailDeclined
from loc_core.events import AuditValue
from loc_core.payments import Direction, Rail
from loc_core.ports import Alert, Alerter, PaymentRails, Severity, TransferRequest

__all__ = [
    "DISBURSEMENT_RAILS",
    "REPAYMENT_RAILS",
    "RailAnswers",
    "Transfer",
    "submit_in_order",
]

DISBURSEMENT_RAILS: tuple[Rail, ...] = (Rail.PINLESS, Rail.ACH)
"""Loan proceeds go out by pinless debit card push first (instant), then ACH."""
REPAYMENT_RAILS: tuple[Rail, ...] = (Rail.PINLESS, Rail.ACH)
"""Repayments are collected by pinless debit first, then ACH (RTP only sends credits)."""


@attrs.frozen
class Transfer:
    """A transfer a rail accepted."""

    rail: Rail
    idempotency_key: str
    """Also the id of the payment it books, so settlement events find the payment."""
    confirmation_id: str


@attrs.frozen
class RailAnswers:
    """What the rails said, in the order they were asked."""

    accepted: Transfer | None
    declined: Mapping[Rail, str] = attrs.field(factory=dict)
    """Rails that refused the transfer, with their reasons."""
    unreachable: Mapping[Rail, str] = attrs.field(factory=dict)
    """Rails that could not be reached, with the error."""

    @property
    def every_rail_down(self) -> bool:
        """Whether no rail answered at all."""
        return self.accepted is None and not self.declined and bool(self.unreachable)

    def failure(
        self, what: str, *, alerter: Alerter, details: Mapping[str, AuditValue]
    ) -> LocError:
        """The error to raise when no rail accepted; operations hear when every rail is down.

        `RailDeclined` when every rail answered no (retrying will not help today); an
        `ExternalServiceError` when any rail could not be reached (a retry may succeed).
        """
        said = "; ".join(
            [f"{rail.value} declined: {reason}" for rail, reason in self.declined.items()]
            + [f"{rail.value} unreachable: {error}" for rail, error in self.unreachable.items()]
        )
        if not self.unreachable:
            return RailDeclined(f"{what}: every rail declined ({said})")
        if self.every_rail_down:
            alerter.alert(
                Alert(Severity.CRITICAL, f"every payment rail is down: {what}", {**details})
            )
        return ExternalServiceError(f"{what}: no rail accepted ({said})")


def submit_in_order(
    rails: PaymentRails,
    *,
    order: Sequence[Rail],
    key: Callable[[Rail], str],
    direction: Direction,
    user_id: str,
    amount: int,
    reference: str,
) -> RailAnswers:
    """Ask each rail of `order` in turn until one accepts; `key(rail)` names each transfer."""
    declined: dict[Rail, str] = {}
    unreachable: dict[Rail, str] = {}
    for rail in order:
        request = TransferRequest(
            idempotency_key=key(rail),
            rail=rail,
            direction=direction,
            user_id=user_id,
            amount=amount,
            reference=reference,
        )
        try:
            result = rails.submit(request)
        except RailDeclined as exc:
            declined[rail] = str(exc)
            continue
        except ExternalServiceError as exc:
            unreachable[rail] = str(exc)
            continue
        if result.accepted:
            transfer = Transfer(rail, request.idempotency_key, result.confirmation_id)
            return RailAnswers(transfer, declined, unreachable)
        declined[rail] = result.decline_reason or "no reason given"
    return RailAnswers(None, declined, unreachable)
