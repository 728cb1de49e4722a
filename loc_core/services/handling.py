"""A rail's settlement event as a command, and what handling it did: one answer for both products.

Kept apart from the router (`loc_core.services.settlement`) so the services that move
money can hand a held event back to the bus without importing either product.
"""

from __future__ import annotations

import enum

import attrs

from loc_core.ports import SettlementEvent
from loc_core.services.messagebus import Command
from loc_core.validation import validated

__all__ = ["SettleTransfer", "Settled", "SettlementHandling"]


class SettlementHandling(enum.Enum):
    """What a settlement event did, whichever product the transfer served."""

    SETTLED = "settled"
    """The payment is COMPLETED."""
    REVERSED = "reversed"
    """The payment was returned or charged back: exactly what it paid is owed again."""
    DUPLICATE = "duplicate"
    """A repeated or out-of-order delivery (a completion after the return): nothing changed."""
    HELD = "held"
    """The transfer's booking is still pending (its intent is PENDING): the event is kept
    on the intent and applied once the booking lands."""
    MANUAL = "manual"
    """A return or chargeback older than the product's correction reach: nothing changed,
    operations were alerted (CRITICAL) to handle it by hand."""
    DISBURSEMENT = "disbursement"
    """A transfer that paid money out (a loan's proceeds, a line's draw): nothing to book,
    since the loan or line already shows it."""


@attrs.frozen
class Settled:
    """Which product an event belonged to and what its handler did."""

    product: str
    """``installment`` or ``creditline``."""
    handling: SettlementHandling
    """What the product's handler did with the event."""


@attrs.frozen(field_transformer=validated)
class SettleTransfer(Command[Settled]):
    """A rail reports what became of a transfer (a webhook or stream record)."""

    event: SettlementEvent
