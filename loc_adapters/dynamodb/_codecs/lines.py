"""Lines of credit, their applications and statements as items."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from loc_adapters.dynamodb import _keys as keys
from loc_adapters.dynamodb._codecs.shared import (
    STATUS,
    build,
    expiry_from_ttl,
    item_name,
    reading,
    ttl_seconds,
)
from loc_adapters.dynamodb._convert import Item, Shape
from loc_core.applications import ApplicationStatus
from loc_core.creditline import (
    BillingDispute,
    CreditLine,
    CreditLineApplication,
    Draw,
    LineLateFeeWaiver,
    LineStatus,
    LocPayment,
    Statement,
)
from loc_core.errors import InvariantViolation
from loc_core.ports import LineRef

T = TypeVar("T")

__all__ = [
    "CHILDREN_MARK",
    "DISPUTE",
    "DRAW",
    "FEE_WAIVER",
    "LINE",
    "LINE_APPLICATION",
    "LINE_HINTS",
    "LINE_PAYMENT",
    "STATEMENT",
    "decode_line",
    "decode_line_application",
    "decode_statement",
    "encode_line",
    "encode_line_application",
    "encode_statement",
    "line_ref",
]

_RECORDS = ("disputes", "late_fee_waivers")
"""The line's records the earlier release kept on its item, now child items."""
LINE = Shape(
    CreditLine,
    skip=frozenset({"draws", "payments", *_RECORDS, "outbox"}),
    required=STATUS,
    marked=frozenset(_RECORDS),
)
DRAW = Shape(Draw, required=STATUS)
LINE_PAYMENT = Shape(LocPayment, required=STATUS)
DISPUTE = Shape(BillingDispute, required=STATUS)
FEE_WAIVER = Shape(LineLateFeeWaiver)
_EARLIER_LINE = Shape(CreditLine, skip=frozenset({"draws", "payments", "outbox"}), required=STATUS)
"""The line item as the earlier release wrote it: its disputes and waivers on it, as maps
(``loc_disputes`` by dispute id, ``loc_late_fee_waivers`` by the fee's reference)."""
CHILDREN_MARK = {"#layout": "child items"}
"""What ``loc_disputes`` (``loc_late_fee_waivers``) holds while the line's disputes
(waivers) are child items. An earlier release reads its map and refuses this one
(`InvariantViolation`, nothing written) rather than serve the line without them and
delete their items as children it does not know (docs/deploy.md, rolling deploys)."""
LINE_APPLICATION = Shape(CreditLineApplication)
STATEMENT = Shape(Statement)


def encode_line(line: CreditLine, *, shards: int) -> list[Item]:
    """The line item first, then its draws, payments, disputes and late fee waivers.

    The line item marks the records kept as child items (`CHILDREN_MARK`), so that a
    release that kept them on it refuses the line instead of losing them.

    A line that is not CLOSED is in the cycle-day index (GSI1); a line with a due date
    is in the due-date index (GSI2), sharded like the installment index; a line the
    overdue job must look at (`overdue_watch_from`) is in the overdue index (GSI3, by the
    first day to look). All three are sparse: the keys are removed when the line leaves
    them.
    """
    user = keys.user_pk(line.user_id)
    root: Item = {"PK": user, "SK": keys.line_sk(line.line_id), **LINE.encode(line)}
    if line.status is not LineStatus.CLOSED:
        root["GSI1PK"] = keys.cycle_day_pk(line.cycle_day)
        root["GSI1SK"] = f"{user}#{keys.line_sk(line.line_id)}"
    if line.next_due_date is not None:
        root["GSI2PK"] = keys.sharded(keys.LINE_DUE_DATES, line.line_id, shards)
        root["GSI2SK"] = keys.line_due_sk(line.next_due_date, line.line_id)
    watch = line.overdue_watch_from()
    if watch is not None:
        root["GSI3PK"] = keys.sharded(keys.LINES_TO_WATCH, line.line_id, shards)
        root["GSI3SK"] = keys.line_watch_sk(watch, line.line_id)
    draws = [
        {"PK": user, "SK": keys.line_draw_sk(line.line_id, draw.draw_id), **DRAW.encode(draw)}
        for draw in line.draws.values()
    ]
    payments = [
        {
            "PK": user,
            "SK": keys.line_payment_sk(line.line_id, payment.payment_id),
            "GSI3PK": keys.payment_pk(payment.payment_id),
            "GSI3SK": keys.line_sk(line.line_id),
            **LINE_PAYMENT.encode(payment),
        }
        for payment in line.payments.values()
    ]
    disputes = [
        {
            "PK": user,
            "SK": keys.line_dispute_sk(line.line_id, dispute.dispute_id),
            **DISPUTE.encode(dispute),
        }
        for dispute in line.disputes.values()
    ]
    waivers = [
        {
            "PK": user,
            "SK": keys.line_fee_waiver_sk(line.line_id, waiver.late_fee_cycle),
            **FEE_WAIVER.encode(waiver),
        }
        for waiver in line.late_fee_waivers.values()
    ]
    for name in _RECORDS:
        if getattr(line, name):
            root[LINE.attribute(name)] = dict(CHILDREN_MARK)
    return [root, *draws, *payments, *disputes, *waivers]


def decode_line(root: Item, children: Sequence[Item]) -> CreditLine:
    """The line from its item and its children's items (draws, payments, disputes, waivers).

    A line item the earlier release wrote keeps its disputes and waivers on it: they are
    read from there (a child item of the same key, written since, wins); the next save
    writes them as child items and takes them off the line item.
    """
    root_sk = str(root["SK"])
    where = item_name(root)
    values = LINE.decode(root, where=where)
    earlier = _earlier_records(root, where=where)

    def kept(tag: str, shape: Shape, cls: type[T]) -> list[T]:
        prefix = f"{root_sk}#{tag}#"
        return [
            cls(**shape.decode(item, where=item_name(item)))
            for item in children
            if str(item["SK"]).startswith(prefix)
        ]

    values["disputes"] = {
        **earlier.get("disputes", {}),
        **{d.dispute_id: d for d in kept("DISPUTE", DISPUTE, BillingDispute)},
    }
    values["late_fee_waivers"] = {
        **earlier.get("late_fee_waivers", {}),
        **{w.fee_reference: w for w in kept("FEEWAIVER", FEE_WAIVER, LineLateFeeWaiver)},
    }
    values["draws"] = {d.draw_id: d for d in kept("DRAW", DRAW, Draw)}
    values["payments"] = {p.payment_id: p for p in kept("PAYMENT", LINE_PAYMENT, LocPayment)}
    return build(CreditLine, values, f"line {where}")


def _earlier_records(root: Item, *, where: str) -> dict[str, Any]:
    """The disputes and waivers an earlier release kept on the line item, by field name."""
    kept = [
        name
        for name in _RECORDS
        if root.get(_EARLIER_LINE.attribute(name)) not in (None, CHILDREN_MARK)
    ]
    return _EARLIER_LINE.decode(root, where=where, only=kept) if kept else {}


_HINT_FIELDS = (
    "opened_on",
    "cycle_day",
    "last_billing_cycle_date",
    "upcoming_notice_cycle",
    "next_minimum_payment_due",
    "paid_since_statement",
)
LINE_HINTS = tuple(LINE.attribute(name) for name in _HINT_FIELDS)
"""The line item's attributes a `LineRef`'s hints come from (the indexes project them)."""


def line_ref(item: Mapping[str, Any]) -> LineRef:
    """The reference a line's index entry gives, with its hints when the entry has them.

    An entry whose hints cannot be read (a projection that leaves them out, an attribute
    that is malformed) gives a ref without hints: the job then reads the line, and the
    consistent read reports whatever is wrong with it. A hint attribute that is absent
    reads as the line's own decoding reads it (None, or the field's default).
    """
    with reading(item, "not a line", entity="line", invariant="line_readable"):
        user_id, line_id = str(item["loc_user_id"]), str(item["loc_line_id"])
    try:
        values = LINE.decode(item, where=f"line {line_id}", only=_HINT_FIELDS)
    except InvariantViolation:
        return LineRef(user_id, line_id)
    return LineRef.hinted(
        user_id,
        line_id,
        opened_on=values["opened_on"],
        cycle_day=values["cycle_day"],
        last_billing_cycle_date=values.get("last_billing_cycle_date"),
        upcoming_notice_cycle=values.get("upcoming_notice_cycle"),
        next_minimum_payment_due=values.get("next_minimum_payment_due", 0),
        paid_since_statement=values.get("paid_since_statement", 0),
    )


def encode_line_application(application: CreditLineApplication) -> Item:
    """The ``LOCAPP#`` item; ``ttl`` while the offer is an unconverted APPROVED one."""
    item: Item = {
        "PK": keys.user_pk(application.user_id),
        "SK": keys.line_application_sk(application.application_id),
        **LINE_APPLICATION.encode(application),
    }
    if application.status is ApplicationStatus.APPROVED and application.line_id is None:
        item["ttl"] = ttl_seconds(application.expires_at)
    return item


def decode_line_application(item: Item) -> CreditLineApplication:
    """The credit-line application."""
    item = expiry_from_ttl(item)
    where = item_name(item)
    return build(
        CreditLineApplication,
        LINE_APPLICATION.decode(item, where=where),
        f"application {where}",
    )


def encode_statement(statement: Statement) -> Item:
    """The ``LOC#<line>#STATEMENT#<date>`` item; written once, never updated."""
    return {
        "PK": keys.user_pk(statement.user_id),
        "SK": keys.statement_sk(statement.line_id, statement.statement_date),
        **STATEMENT.encode(statement),
    }


def decode_statement(item: Item) -> Statement:
    """A statement."""
    where = item_name(item)
    return build(Statement, STATEMENT.decode(item, where=where), f"statement {where}")
