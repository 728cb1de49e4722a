"""The money-movement port: transfers to the payment rails and their settlement events."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import attrs

from loc_core.payments import Direction, Rail, SettlementOutcome
from loc_core.validation import (
    Id,
    Text,
    TransferKey,
    UtcTime,
    valid_text,
    validated,
)

__all__ = ["PaymentRails", "SettlementEvent", "TransferRequest", "TransferResult"]


@attrs.frozen
class TransferRequest:
    """Ask a rail to move money between the lender and a borrower."""

    idempotency_key: str
    """The same key always means the same transfer: a retry never moves money twice."""
    rail: Rail
    direction: Direction
    user_id: str
    amount: int
    reference: str
    """The loan, line, payment or draw the transfer is for."""


@attrs.frozen
class TransferResult:
    """The rail's answer at submission; settlement is reported later as an event."""

    accepted: bool
    confirmation_id: str = ""
    decline_reason: str = ""
    amount: int | None = None
    """What the rail records it moved, in cents, on an accepted transfer; None when the
    rail does not say. PayEngine states it on every transfer it reads back (`find`)."""
    direction: Direction | None = None
    """Which way the rail records the money moved; None when the rail does not say."""
    accepted_at: dt.datetime | None = None
    """When the rail took the transfer (timezone-aware UTC), on an accepted transfer; None
    when the rail does not say. Its UTC date is the day the money moved: an operator's
    booking of a lost debit counts from that day (`BookLostTransfer`), and is refused
    when the rail does not say it. PayEngine states it (``created_at``) on every transfer."""


@attrs.frozen(field_transformer=validated)
class SettlementEvent:
    """What a rail reports later about a transfer it accepted (a webhook in production).

    Events arrive at least once and in any order; `event_id` identifies a delivery's
    content, so a repeat is recognisable. Built only with valid fields
    (`loc_core.validation`): anything else is an `InvalidRequest` naming the field.
    """

    event_id: Id
    idempotency_key: TransferKey
    """The key of the transfer the event is about."""
    confirmation_id: Text
    rail: Rail
    outcome: SettlementOutcome
    occurred_at: UtcTime
    return_code: str = attrs.field(default="", validator=valid_text)
    """The ACH return reason (``R01`` insufficient funds, ``R10`` unauthorized, ...)."""


class PaymentRails(Protocol):
    """The payments service (PayEngine in production): ACH, pinless debit, RTP."""

    @property
    def timeout(self) -> dt.timedelta:
        """The longest one `submit` may take before its client gives up.

        The outcome is then unknown. Every lease held across rail calls must outlast
        them: checked when the bus is built (``docs/configuration.md``).
        """
        ...

    def submit(self, request: TransferRequest) -> TransferResult:
        """Submit a transfer. A repeated idempotency key returns the first answer.

        A declined transfer returns ``accepted=False`` with a reason; another rail may
        still accept it.

        Raises:
            RailUnavailable: when the request never reached the rail: nothing moved, and
                another rail may be tried.
            ExternalServiceError: for any other failure, such as a timeout after the
                request was sent: the outcome is unknown, so the caller must not offer
                the money to another rail; retrying this rail with the same key is safe.
        """
        ...

    def find(self, idempotency_key: str) -> TransferResult | None:
        """What the rail answered to the transfer with this key (reading it, moving nothing).

        Returns None when the rail never received a transfer with this key: nothing moved.
        The recovery job asks this, never `submit`, so it cannot move money on its own.

        Raises:
            ExternalServiceError: when the rail cannot tell now; ask again later.
        """
        ...
