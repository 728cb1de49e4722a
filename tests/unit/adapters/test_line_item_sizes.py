"""A line's items, measured with the DynamoDB codec, stay storable.

The start-up check holds `loc_core.creditline.capacity`'s worst case of the root under
400 KB; these tests measure that worst case (the longest references, the largest amounts,
the most entries the largest allowed bound lets a cycle hold) as DynamoDB stores it, so
the model can never be smaller than the items really are. A dispute and a late fee waiver
are items of their own, measured at their longest (`DISPUTE_BYTES`, `WAIVER_BYTES`). The
memory store's size check uses the model's `root_bytes_at_most`, which must never be
below the real size either.
"""

import datetime as dt
from decimal import Decimal

import attrs
import pytest

from loc_adapters.dynamodb._codecs import encode_line, encode_statement
from loc_adapters.dynamodb._plan import item_size
from loc_adapters.memory import InMemoryDatabase, InMemoryUnitOfWork, ManualClock
from loc_core.creditline import (
    ActivityKind,
    Balances,
    BillingDispute,
    CreditLine,
    CreditLineApplication,
    CreditLineProduct,
    CycleActivity,
    DisputedCharge,
    DisputeStatus,
    LineLateFeeWaiver,
    largest_root_bytes,
    largest_statement_bytes,
)
from loc_core.creditline.capacity import (
    DISPUTE_BYTES,
    LONGEST_REFERENCE,
    UNREFUSED_MOVEMENTS_PER_CYCLE,
    WAIVER_BYTES,
    largest_cycle_entries,
    root_bytes_at_most,
)
from loc_core.creditline.statement import CreditKind, CreditMovement
from loc_core.errors import InvariantViolation
from loc_core.payments import Rail
from loc_core.ports import ITEM_SIZE_LIMIT
from loc_core.validation import MAX_TEXT_LENGTH

NOW = dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC)
LARGEST = 10**15
"""More cents than any line holds: the widest number an amount is stored as."""
LARGEST_ALLOWED = CreditLineProduct(max_movements_per_cycle=26)
"""The largest bound the start-up check accepts (27 is refused: docs/configuration.md)."""
LONGEST_TEXT = "\N{GRINNING FACE}" * MAX_TEXT_LENGTH
"""A borrower's description or an operator's explanation at its most bytes (4 a character)."""


def _dispute(n: int, line: CreditLine) -> BillingDispute:
    """A resolved dispute at its largest: every field set, the longest reference and texts."""
    return BillingDispute(
        dispute_id=f"dispute-{n:032d}",
        line_id=line.line_id,
        user_id=line.user_id,
        statement_date=dt.date(2026, 12, 31),
        charge=DisputedCharge.DRAW,
        charge_ref="r" * LONGEST_REFERENCE,
        charge_on=dt.date(2026, 12, 31),
        amount=LARGEST,
        description=LONGEST_TEXT,
        received_on=dt.date(2026, 12, 31),
        resolve_by=dt.date(2026, 12, 31),
        status=DisputeStatus.RESOLVED_NO_ERROR,
        resolved_on=dt.date(2026, 12, 31),
        explanation=LONGEST_TEXT,
        credited=LARGEST,
        finance_charge=LARGEST,
        owed_again_on=dt.date(2026, 12, 31),
    )


def _waiver(n: int, line: CreditLine) -> LineLateFeeWaiver:
    """A waiver at its largest: the longest reason and key, the largest amount."""
    cycle = dt.date(2026, 1, 5) + dt.timedelta(days=31 * n)
    return LineLateFeeWaiver(
        line_id=line.line_id,
        user_id=line.user_id,
        late_fee_cycle=cycle,
        fee_reference=f"{line.line_id}:{cycle.isoformat()}:late_fee",
        amount=LARGEST,
        effective_on=cycle,
        waived_on=cycle,
        reason=LONGEST_TEXT,
        idempotency_key="k" * 255,
    )


def _line(id_length: int) -> CreditLine:
    product = CreditLineProduct()
    offer = CreditLineApplication.approved(
        application_id="a" * id_length,
        user_id="u" * id_length,
        created_at=NOW,
        credit_limit=10**12,
        apr=Decimal("29.99"),
        minimum_payment_percent=Decimal(3),
        product=product,
    )
    return offer.open_line(line_id="l" * id_length, now=NOW, product=product)


def _pay(line: CreditLine, n: int, on: dt.date) -> None:
    """A one-cent `PayLine` payment by ACH, its client key as long as allowed (255)."""
    key = f"{n:05d}".ljust(255, "k")
    line.submit_payment(payment_id=f"pay:{line.line_id}:{key}:ach", amount=1, rail=Rail.ACH, on=on)


def _billed(line: CreditLine, payments: int) -> CreditLine:
    """`line` with a draw, `payments` one-cent payments, billed, and as many again."""
    day = NOW.date()
    line.request_draw(draw_id="draw", amount=10**8, on=day)
    line.disburse_draw(draw_id="draw", rail=Rail.RTP, on=day)
    for n in range(payments):
        _pay(line, n, day)
    close = line.next_close_date
    line.bill_cycle(close_date=close, today=close, product=CreditLineProduct())
    for n in range(payments, 2 * payments):
        _pay(line, n, close)
    return line


def _largest(product: CreditLineProduct) -> CreditLine:
    """A line whose open and last cycles hold the most entries `product` allows, each at
    its largest, and the most open disputes it allows, each at its largest."""
    entries = largest_cycle_entries(product)
    effect = Balances(LARGEST, LARGEST, -LARGEST)
    activity = [
        CycleActivity(
            kind=ActivityKind.DRAW_RETURNED,
            reference=f"{n:04d}".ljust(LONGEST_REFERENCE, "r"),
            on=dt.date(2026, 12, 31),
            amount=LARGEST,
            effect=effect,
        )
        for n in range(entries)
    ]
    line = _billed(_line(id_length=128), payments=1)
    assert line.last_statement is not None
    statement = attrs.evolve(line.last_statement, activity=tuple(activity))
    line.last_statement, line.cycle_activity = statement, activity
    disputes = [_dispute(n, line) for n in range(product.max_disputes_per_line)]
    line.disputes = {dispute.dispute_id: dispute for dispute in disputes}
    return line


def test_the_largest_allowed_root_and_statement_fit_one_item() -> None:
    assert largest_root_bytes(LARGEST_ALLOWED) <= ITEM_SIZE_LIMIT
    line = _largest(LARGEST_ALLOWED)
    statement = line.last_statement
    assert statement is not None

    root = item_size(encode_line(line, shards=64)[0])
    stored = item_size(encode_statement(statement))

    assert root <= largest_root_bytes(LARGEST_ALLOWED) <= ITEM_SIZE_LIMIT
    assert stored <= largest_statement_bytes(LARGEST_ALLOWED)
    assert root <= root_bytes_at_most(line)


def test_a_dispute_and_a_waiver_at_their_longest_each_fit_their_bound() -> None:
    """Their fields are bounded (ids 128 characters, a draw id 880, texts 500 characters,
    keys 255): measured at the longest, each item is within its bound, far below 400 KB."""
    line = _line(id_length=128)
    line.disputes = {"d": _dispute(0, line)}
    line.late_fee_waivers = {"w": _waiver(0, line)}

    _, dispute, waiver = encode_line(line, shards=64)

    assert dispute["SK"].split("#")[2] == "DISPUTE"
    assert waiver["SK"].split("#")[2] == "FEEWAIVER"
    assert item_size(dispute) <= DISPUTE_BYTES <= ITEM_SIZE_LIMIT
    assert item_size(waiver) <= WAIVER_BYTES <= ITEM_SIZE_LIMIT


def test_a_credit_movement_takes_no_more_than_an_activity_line() -> None:
    line = _billed(_line(id_length=128), payments=1)
    assert line.last_statement is not None
    move = CreditMovement(
        kind=CreditKind.REFUND_CANCELLED,
        reference="r" * LONGEST_REFERENCE,
        on=dt.date(2026, 12, 31),
        amount=-LARGEST,
    )
    statement = attrs.evolve(line.last_statement, credit_activity=(move,) * 100)
    line.last_statement, line.cycle_activity = statement, []

    assert item_size(encode_statement(statement)) <= largest_statement_bytes(
        CreditLineProduct(max_movements_per_cycle=100 // 6 - UNREFUSED_MOVEMENTS_PER_CYCLE)
    )
    assert item_size(encode_line(line, shards=64)[0]) <= root_bytes_at_most(line)


def test_without_the_bound_one_cent_payments_pass_the_item_limit_in_both_stores() -> None:
    """The finding: with ids of 128 characters about 420 payments in each of two cycles
    (with short ones about 1,700) pass 400 KB. DynamoDB refuses such an item before
    writing; so does the memory store, whose size is never below DynamoDB's."""
    line = _billed(_line(id_length=128), payments=450)
    assert item_size(encode_line(line, shards=1)[0]) > ITEM_SIZE_LIMIT
    assert root_bytes_at_most(line) >= item_size(encode_line(line, shards=1)[0])

    line.outbox.drain()  # one item, nothing else: too big, not too many
    uow = InMemoryUnitOfWork(InMemoryDatabase(ManualClock(NOW)))
    with uow:
        uow.lines.add(attrs.evolve(line, draws={}, payments={}))
        with pytest.raises(InvariantViolation) as refused:
            uow.commit(actor="test", request_id="too-big")
    assert refused.value.invariant == "item_size_limit"


def test_a_long_lived_lines_late_fee_waivers_leave_every_item_storable() -> None:
    """The finding: waivers were kept on the root and counted by nothing, so five years of
    missed cycles waived with long operator reasons (60 waivers) on a line at the default
    product's worst case passed 400 KB, and every command on the line failed for good.
    Each waiver is an item of its own: every item the line writes fits, and the memory
    store's measure of the root is never below DynamoDB's."""
    line = _largest(CreditLineProduct())
    waivers = [_waiver(n, line) for n in range(60)]
    line.late_fee_waivers = {waiver.fee_reference: waiver for waiver in waivers}

    items = encode_line(line, shards=64)

    assert max(map(item_size, items)) <= ITEM_SIZE_LIMIT
    assert item_size(items[0]) <= root_bytes_at_most(line)
