"""Moving money through the rails in order of preference, with keys that make retries safe.

Every transfer's idempotency key is derived from what it is for (an application, an
installment attempt, a borrower's idempotency key) and the rail, never drawn at random: a
retry after a crash asks each rail again with the same key and gets the first answer back
instead of moving the money a second time.

Which failures move on to the next rail (one rule for both products):

- a decline (an answer of ``accepted=False``, or `RailDeclined`) and a rail that took
  nothing (`RailUnavailable`: the request never left) are safe: the next rail is asked;
- any other `ExternalServiceError` (a timeout after sending) leaves the outcome unknown.
  Offering the money to another rail could move it twice, so it propagates at once; the
  caller retries later with the same keys, and the rail that may have moved the money
  answers its key with the first answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

import attrs

from loc_core.errors import LocError, RailDeclined, RailUnavailable
from loc_core.events import AuditValue
from loc_core.payments import Direction, Rail
from loc_core.ports import Alerter, PaymentRails, TransferRequest
from loc_core.services.kit import post_alert

__all__ = ["RailAnswers", "Transfer", "submit_in_order"]


def _in_utc(moment: dt.datetime | None) -> dt.datetime | None:
    """An aware timestamp in UTC; None for none, or for one without an offset."""
    if moment is None or moment.utcoffset() is None:
        return None
    return moment.astimezone(dt.UTC)


@attrs.frozen
class Transfer:
    """A transfer a rail accepted."""

    rail: Rail
    idempotency_key: str
    """Also the id of the payment it books, so settlement events find the payment."""
    confirmation_id: str
    accepted_at: dt.datetime | None = attrs.field(default=None, converter=_in_utc)
    """When the rail took it, as the rail says (`TransferResult.accepted_at`), in UTC; None
    when it does not say (or gives no offset), or when the transfer was not read from the
    rail (an operator's word). A debit taken on a day before its booking's counts from
    then (`taken_before`)."""

    def taken_before(self, today: dt.date) -> dt.datetime | None:
        """When the rail took it, if on a day before `today`.

        None when it did so today (or later, by a clock ahead of ours) or does not say.
        """
        taken = self.accepted_at
        return taken if taken is not None and taken.date() < today else None


@attrs.frozen
class RailAnswers:
    """What the rails said, in the order they were asked."""

    accepted: Transfer | None
    declined: Mapping[Rail, str] = attrs.field(factory=dict)
    """Rails that refused the transfer, with their reasons."""
    unreachable: Mapping[Rail, str] = attrs.field(factory=dict)
    """Rails that could not be reached (`RailUnavailable`), with the error."""

    @property
    def every_rail_down(self) -> bool:
        """Whether no rail answered at all."""
        return self.accepted is None and not self.declined and bool(self.unreachable)

    def failure(
        self, what: str, *, alerter: Alerter, details: Mapping[str, AuditValue]
    ) -> LocError:
        """The error to raise when no rail accepted; operations hear when every rail is down.

        `RailDeclined` when every rail answered no (retrying will not help today);
        `RailUnavailable` when some rail could not be reached (a retry may succeed).
        """
        said = "; ".join(
            [f"{rail.value} declined: {reason}" for rail, reason in self.declined.items()]
            + [f"{rail.value} unreachable: {error}" for rail, error in self.unreachable.items()]
        )
        if not self.unreachable:
            return RailDeclined(f"{what}: every rail declined ({said})")
        if self.every_rail_down:
            post_alert(alerter, f"every payment rail is down: {what}", details)
        return RailUnavailable(f"{what}: no rail accepted ({said})")


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
    """Ask each rail of `order` in turn until one accepts; `key(rail)` names each transfer.

    Raises:
        ExternalServiceError: a rail failed with its outcome unknown (anything but a
            decline or `RailUnavailable`); no later rail was asked.
    """
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
        except RailUnavailable as exc:
            unreachable[rail] = str(exc)
            continue
        if result.accepted:
            transfer = Transfer(
                rail, request.idempotency_key, result.confirmation_id, result.accepted_at
            )
            return RailAnswers(transfer, declined, unreachable)
        declined[rail] = result.decline_reason or "no reason given"
    return RailAnswers(None, declined, unreachable)
