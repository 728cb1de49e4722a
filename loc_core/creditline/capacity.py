"""How big a line's stored items can grow, and the rules that keep them storable.

A line's root item holds its open cycle's activity and its last statement (a closed
cycle's activity and credit movements); a statement item holds one cycle's. Both grow
with every draw and payment, and a stored item is bounded (`ITEM_SIZE_LIMIT`, DynamoDB's
400 KB): past it, every command on the line, and its billing, would fail for good.
`CreditLineProduct.max_movements_per_cycle` bounds the draws and payments a borrower
starts in a cycle (`require_movement_room`), but for one payment a cycle of everything the
line owes (a payoff past the bound, marked `LocPayment.payoff_past_bound`): a borrower can
always pay what they owe. The rest of this module is the worst case those bounds allow,
the payoff included, which the start-up check ``check_line_items_fit`` holds under the
limit. ``tests/unit/adapters/test_line_item_sizes.py`` measures the same worst case with
the DynamoDB codec, so this model cannot fall below what is really stored.

A line's billing-error disputes and late fee waivers are items of their own (like its
draws and payments), so they do not grow the root however many the line's life brings;
each has bounded fields, and the most bytes one takes (`DISPUTE_BYTES`, `WAIVER_BYTES`,
measured by the same test) is far below the limit. What stays bounded is how many
disputes wait for an operator at one time: `CreditLineProduct.max_disputes_per_line`
(`require_dispute_room`); resolved ones never block a new notice.
"""

from __future__ import annotations

import datetime as dt
import operator

from loc_core.creditline._state import LineState
from loc_core.creditline.config import CreditLineProduct
from loc_core.creditline.cycles import next_close_after
from loc_core.creditline.draw import DrawStatus
from loc_core.creditline.statement import Statement
from loc_core.errors import DisputeLimitReached, MovementLimitReached
from loc_core.validation import utf8_length

__all__ = [
    "DISPUTE_BYTES",
    "ENTRIES_PER_MOVEMENT",
    "ENTRY_BYTES",
    "FIXED_BYTES",
    "LONGEST_REFERENCE",
    "UNREFUSED_MOVEMENTS_PER_CYCLE",
    "WAIVER_BYTES",
    "largest_cycle_entries",
    "largest_root_bytes",
    "largest_statement_bytes",
    "movements_in_cycle",
    "open_disputes",
    "payoff_past_bound",
    "require_dispute_room",
    "require_movement_room",
    "root_bytes_at_most",
    "statement_bytes_at_most",
]

LONGEST_REFERENCE = 900
"""The longest reference an activity line or credit movement carries: a draw id (at most
880 characters, ``draw_id_for``) with a correction's suffix (``:returned:principal``)."""
ENTRY_BYTES = 1_024
"""The most bytes one activity line or credit movement takes stored, with the longest
reference and the largest amounts (measured: 1,014)."""
FIXED_BYTES = 8 * 1_024
"""Everything else on a line's root or a statement item: keys, balances, dates, the
statement's figures (measured with ids of 128 characters: about 1,500 and 1,000)."""
ENTRIES_PER_MOVEMENT = 6
"""The most entries one draw or payment brings over its life: itself; its return or
reversal, or, corrected from a later cycle, three adjustment lines (principal, interest,
fees); and the credit balance applied after it (an activity line and its credit
movement)."""
DISPUTE_BYTES = 6 * 1_024
"""The most bytes one billing-error dispute's item takes: its keys and ids, the longest
charge reference (a draw id, 880 characters), the borrower's description and the
operator's explanation at their longest (500 characters, up to 2,000 bytes each), the
largest amounts and every date (measured: 5,833)."""
WAIVER_BYTES = 4 * 1_024
"""The most bytes one late fee waiver's item takes: its keys and ids, the fee's
reference, the operator's reason at its longest (500 characters, up to 2,000 bytes), the
idempotency key at its longest (255 characters), the largest amount and every date
(measured: 3,106)."""
UNREFUSED_MOVEMENTS_PER_CYCLE = 6
"""Movements a cycle may hold that are never refused for the bound: the borrower's payoff
past it (one a cycle: `payoff_past_bound`), the due job's debit, the late fee, a
borrower's draw or payment checked before the close and booked after it, a payment at the
rail while a draw takes the cycle's last place (a draw is checked again in the commit
that holds it; a payment is on the line only once a rail took its money, one at a time
under the debit lease), and an operator's correction."""


_ENTRY_OVERHEAD = ENTRY_BYTES - LONGEST_REFERENCE
"""An entry's bytes besides its reference: kind, date, amount, effect and their names."""
_REFERENCE = operator.attrgetter("reference")


def statement_bytes_at_most(statement: Statement) -> int:
    """No fewer bytes than `statement`'s stored item takes (its entries, by their references).

    What a store without an encoding of its own (the memory store) checks against
    `ITEM_SIZE_LIMIT`, so that it refuses what DynamoDB would (and up to `FIXED_BYTES`
    sooner, never later).
    """
    references = [*map(_REFERENCE, statement.activity), *map(_REFERENCE, statement.credit_activity)]
    return FIXED_BYTES + len(references) * _ENTRY_OVERHEAD + utf8_length(references)


def root_bytes_at_most(line: LineState) -> int:
    """No fewer bytes than `line`'s root item takes: its open cycle and last statement."""
    references = list(map(_REFERENCE, line.cycle_activity))
    own = len(references) * _ENTRY_OVERHEAD + utf8_length(references)
    if line.last_statement is None:
        return FIXED_BYTES + own
    return statement_bytes_at_most(line.last_statement) + own


def largest_cycle_entries(product: CreditLineProduct) -> int:
    """The most activity lines and credit movements one cycle may hold under `product`."""
    movements = product.max_movements_per_cycle + UNREFUSED_MOVEMENTS_PER_CYCLE
    return ENTRIES_PER_MOVEMENT * movements


def largest_statement_bytes(product: CreditLineProduct) -> int:
    """The most bytes a statement item may take under `product`: one cycle's entries."""
    return FIXED_BYTES + largest_cycle_entries(product) * ENTRY_BYTES


def largest_root_bytes(product: CreditLineProduct) -> int:
    """The most bytes a line's root item may take: its open cycle and last statement."""
    return FIXED_BYTES + 2 * largest_cycle_entries(product) * ENTRY_BYTES


def _cycle(line: LineState, on: dt.date) -> tuple[dt.date, dt.date]:
    """The first day of the cycle `on` falls in, and its close (an unbilled close counts)."""
    start, close = line.cycle_start, line.next_close_date
    while close <= on:
        start, close = close, next_close_after(close, line.cycle_day)
    return start, close


def movements_in_cycle(line: LineState, on: dt.date) -> tuple[int, dt.date]:
    """The draws and payments started in the cycle `on` falls in, and when it closes.

    Every draw requested and payment submitted on or after the cycle's first day counts,
    whoever started it (the bound refuses only the borrower's), but a FAILED draw: it
    moved no money and leaves no entry on the line's items, and a failed draw is final.
    A close not billed yet counts as billed: the cycle `on` falls in is the open one.
    """
    start, close = _cycle(line, on)
    draws = sum(
        1
        for draw in line.draws.values()
        if draw.requested_on >= start and draw.status is not DrawStatus.FAILED
    )
    payments = sum(1 for payment in line.payments.values() if payment.submitted_on >= start)
    return draws + payments, close


def _payoff_taken(line: LineState, on: dt.date) -> bool:
    """Whether the cycle `on` falls in holds its payoff past the bound (returned or not)."""
    start, _ = _cycle(line, on)
    return any(
        payment.payoff_past_bound and payment.submitted_on >= start
        for payment in line.payments.values()
    )


def payoff_past_bound(
    line: LineState, amount: int, *, on: dt.date, product: CreditLineProduct
) -> bool:
    """Whether a borrower's payment of `amount` booked on `on` is the cycle's payoff past the bound.

    It is when it pays everything the line owes and the cycle already holds
    `max_movements_per_cycle` draws and payments: the booking marks it
    (`LocPayment.payoff_past_bound`), and the cycle takes no other past the bound.
    """
    count, _ = movements_in_cycle(line, on)
    return count >= product.max_movements_per_cycle and amount >= line.total_balance > 0


def require_movement_room(
    line: LineState, *, on: dt.date, product: CreditLineProduct, payment: int | None = None
) -> None:
    """Refuse a borrower's new draw or payment on `on` when the cycle holds the most allowed.

    `payment` is a payment's amount (None: a draw). Past the bound, a payment of
    everything the line owes (a payoff) is still taken, once a cycle: a borrower can
    always pay what they owe, and the size model counts that one movement more.

    Raises:
        MovementLimitReached: the cycle already holds `max_movements_per_cycle` draws
            and payments, and this is not a payoff, or the cycle already took its
            payoff past the bound; nothing changed.
    """
    count, close = movements_in_cycle(line, on)
    limit = product.max_movements_per_cycle
    if count < limit:
        return
    taken = _payoff_taken(line, on)
    if payment is not None and payment == line.total_balance > 0 and not taken:
        return
    payoff = (
        "the cycle already took its one payment of everything owed past the bound"
        if taken
        else "a payment of everything the line owes is still taken, once a cycle"
    )
    raise MovementLimitReached(
        f"line {line.line_id} already has {count} draws and payments in the cycle that "
        f"closes on {close.isoformat()}; the product allows {limit} a cycle "
        f"(max_movements_per_cycle): try again from that day ({payoff})",
        about=line,
        key="max_movements_per_cycle",
    )


def open_disputes(line: LineState) -> int:
    """How many of the line's billing-error disputes wait for their resolution."""
    return sum(1 for dispute in line.disputes.values() if dispute.is_open)


def require_dispute_room(line: LineState, *, product: CreditLineProduct) -> None:
    """Refuse a new billing-error notice while the line has the most OPEN disputes allowed.

    Resolved disputes never count: each dispute is an item of its own, so the line's
    items do not grow with them, and a creditor must take every notice it can.

    Raises:
        DisputeLimitReached: the line already has `max_disputes_per_line` open disputes;
            nothing changed.
    """
    count, limit = open_disputes(line), product.max_disputes_per_line
    if count >= limit:
        raise DisputeLimitReached(
            f"line {line.line_id} already has {count} open billing-error disputes; the "
            f"product allows {limit} open at one time (max_disputes_per_line): operations "
            "will handle this notice by hand",
            about=line,
            key="max_disputes_per_line",
        )
