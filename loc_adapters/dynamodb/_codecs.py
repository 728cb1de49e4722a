"""Aggregates to items and back: the keys, the attribute names and what the seeds fixed.

A loan is one root item (``LOAN#<loan>``) with its installments and payments as child
items under the same prefix; a line is one root (``LOC#<line>``) with its draws and
payments. Applications, statements, journal entries and audit records are single items.

Reading verifies, never trusts: a loan is rebuilt through its constructor, which runs
`Loan.verify`, so an installment whose stored outstanding balance disagrees with its
applications raises `InvariantViolation` naming the item.

Items the Go service wrote carry only the seed's attributes (and no ``loc_version``).
What this library stores besides is derived from them the way the domain computes it
(`_upgrade_legacy_loan`); ``docs/data-model.md`` lists every rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from loc_adapters.dynamodb import _keys as keys
from loc_adapters.dynamodb._convert import (
    Item,
    Shape,
    converter,
    format_timestamp,
    parse_date,
    timestamp_date,
)
from loc_core.applications import ApplicationStatus
from loc_core.bookkeeping import Product
from loc_core.creditline import (
    CreditLine,
    CreditLineApplication,
    Draw,
    LineStatus,
    LocPayment,
    Statement,
)
from loc_core.errors import InvariantViolation, LocError
from loc_core.events import AuditRecord
from loc_core.installment import (
    Installment,
    InstallmentProduct,
    InstallmentStatus,
    Loan,
    LoanApplication,
    LoanStatus,
    Payment,
)
from loc_core.ledger import JournalEntry
from loc_core.money import split_evenly, waterfall
from loc_core.ports import InstallmentRef, LineRef, PaymentOwner

__all__ = [
    "AUDIT_RECORD",
    "DRAW",
    "INSTALLMENT",
    "JOURNAL_ENTRY",
    "LINE",
    "LINE_APPLICATION",
    "LINE_PAYMENT",
    "LOAN",
    "LOAN_APPLICATION",
    "LOAN_PAYMENT",
    "SHAPES",
    "STATEMENT",
    "decode_audit_record",
    "decode_journal_entry",
    "decode_line",
    "decode_line_application",
    "decode_loan",
    "decode_loan_application",
    "decode_statement",
    "encode_audit_record",
    "encode_journal_entry",
    "encode_line",
    "encode_line_application",
    "encode_loan",
    "encode_loan_application",
    "encode_statement",
    "installment_ref",
    "item_key",
    "line_ref",
    "owned_attributes",
    "payment_owner",
    "ttl_seconds",
]

T = TypeVar("T")

VERSION = "loc_version"
"""Every item this library writes has it; an item without it was written by the Go service."""
EXPIRES_AT = "loc_expires_at"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_SECOND = dt.timedelta(seconds=1)

_SEED_TIMESTAMPS = {"created_at": "loc_created_date", "updated_at": "loc_last_updated"}
_STATUS = frozenset({"status"})
"""A stored status is never guessed from a default."""

LOAN = Shape(
    Loan,
    names={
        "application_id": "loc_loan_application_id",
        "autopay_enabled": "auto_pay_enabled",
        **_SEED_TIMESTAMPS,
    },
    skip=frozenset({"installments", "payments", "outbox"}),
    encoders={"disbursement_date": timestamp_date, "completion_date": timestamp_date},
    required=_STATUS,
)
"""The seed's loan item: its names, and RFC3339 for the disbursement and completion dates."""
INSTALLMENT = Shape(Installment, names=_SEED_TIMESTAMPS, required=_STATUS)
LOAN_PAYMENT = Shape(Payment, required=_STATUS)
LOAN_APPLICATION = Shape(
    LoanApplication,
    names={
        "application_id": "loc_loan_application_id",
        "proposed_schedule": "loc_installment_schedule",
        **_SEED_TIMESTAMPS,
    },
)
LINE = Shape(CreditLine, skip=frozenset({"draws", "payments", "outbox"}), required=_STATUS)
DRAW = Shape(Draw, required=_STATUS)
LINE_PAYMENT = Shape(LocPayment, required=_STATUS)
LINE_APPLICATION = Shape(CreditLineApplication)
STATEMENT = Shape(Statement)
JOURNAL_ENTRY = Shape(JournalEntry)
AUDIT_RECORD = Shape(AuditRecord)

SHAPES = (
    LOAN,
    INSTALLMENT,
    LOAN_PAYMENT,
    LOAN_APPLICATION,
    LINE,
    DRAW,
    LINE_PAYMENT,
    LINE_APPLICATION,
    STATEMENT,
    JOURNAL_ENTRY,
    AUDIT_RECORD,
)
"""Every stored class, for the tests that prove each field is stored."""

_STORAGE_ATTRIBUTES = frozenset({*keys.GSI_ATTRIBUTES, "ttl", EXPIRES_AT})


def owned_attributes(shape: Shape) -> frozenset[str]:
    """The attributes this library writes on an item of `shape`.

    An update sets those present and removes those absent; attributes nobody here
    knows (``loc_loan_agreement_key``, written by another service) are left alone.
    """
    return shape.attributes() | _STORAGE_ATTRIBUTES


def item_key(item: Mapping[str, Any]) -> tuple[str, str]:
    """An item's primary key."""
    return (str(item["PK"]), str(item["SK"]))


def _where(item: Mapping[str, Any]) -> str:
    return f"item {item.get('PK')}/{item.get('SK')}"


def _legacy(item: Mapping[str, Any]) -> bool:
    return VERSION not in item


def _whole(item: Mapping[str, Any], name: str) -> int:
    value = item.get(name)
    try:
        return converter.structure(value, int)
    except (TypeError, ValueError) as exc:
        raise InvariantViolation(
            f"{_where(item)}: {name} is not a whole number: {value!r}"
        ) from exc


def ttl_seconds(expires_at: dt.datetime) -> int:
    """Epoch seconds, rounded up: DynamoDB never removes an offer before it lapses."""
    whole, rest = divmod(expires_at - _EPOCH, _SECOND)
    return whole + (1 if rest else 0)


def _expiry_from_ttl(item: Item) -> Item:
    """An item the Go service wrote has only ``ttl``; the exact expiry is derived from it."""
    if EXPIRES_AT not in item and item.get("ttl") is not None:
        return {**item, EXPIRES_AT: format_timestamp(_EPOCH + _whole(item, "ttl") * _SECOND)}
    return item


def _build(cls: type[T], values: dict[str, Any], where: str) -> T:
    try:
        return cls(**values)
    except LocError as exc:
        raise InvariantViolation(f"stored {where} contradicts itself: {exc}") from exc


# --- installment loans -----------------------------------------------------------------


def encode_loan(loan: Loan, *, shards: int) -> list[Item]:
    """The loan item first, then its installments and payments."""
    user = keys.user_pk(loan.user_id)
    dated = keys.loan_date_sk(format_timestamp(loan.created_at), loan.loan_id)
    root: Item = {
        "PK": user,
        "SK": keys.loan_sk(loan.loan_id),
        "GSI1PK": keys.loan_status_pk(loan.user_id, loan.status.value),
        "GSI1SK": dated,
        "GSI2PK": user,
        "GSI2SK": dated,
        "GSI3PK": user,
        "GSI3SK": keys.loan_by_application_sk(loan.application_id),
        **LOAN.encode(loan),
    }
    installments = [_encode_installment(i, shards=shards) for i in loan.installments]
    payments = [_encode_loan_payment(p) for p in loan.payments.values()]
    return [root, *installments, *payments]


def _encode_installment(installment: Installment, *, shards: int) -> Item:
    status = installment.status.value
    return {
        "PK": keys.user_pk(installment.user_id),
        "SK": keys.installment_sk(installment.loan_id, installment.installment_id),
        "GSI1PK": keys.sharded(
            keys.installment_status_pk(status), installment.installment_id, shards
        ),
        "GSI1SK": keys.installment_gsi1sk(installment.due_date, installment.installment_id),
        "GSI2PK": keys.user_pk(installment.user_id),
        "GSI2SK": keys.installment_gsi2sk(
            installment.loan_id, installment.due_date, installment.installment_id
        ),
        **INSTALLMENT.encode(installment),
    }


def _encode_loan_payment(payment: Payment) -> Item:
    return {
        "PK": keys.user_pk(payment.user_id),
        "SK": keys.loan_payment_sk(payment.loan_id, payment.payment_id),
        "GSI3PK": keys.payment_pk(payment.payment_id),
        "GSI3SK": keys.loan_sk(payment.loan_id),
        **LOAN_PAYMENT.encode(payment),
    }


def decode_loan(root: Item, children: Sequence[Item]) -> Loan:
    """The loan from its item and its children's, verified.

    Raises:
        InvariantViolation: naming the item, when an attribute is missing or malformed,
            or the loan contradicts itself (a stored balance its parts do not add up to).
    """
    root_sk = str(root["SK"])
    installments = [c for c in children if str(c["SK"]).startswith(f"{root_sk}#INSTALLMENT#")]
    payments = [c for c in children if str(c["SK"]).startswith(f"{root_sk}#PAYMENT#")]
    where = _where(root)
    if _legacy(root) or any(_legacy(item) for item in installments):
        try:
            root, installments = _upgrade_legacy_loan(root, installments)
        except (TypeError, ValueError, KeyError) as exc:
            raise InvariantViolation(f"{where}: cannot read the Go service's loan: {exc}") from exc
    values = LOAN.decode(root, where=where)
    values["installments"] = sorted(
        (Installment(**INSTALLMENT.decode(item, where=_where(item))) for item in installments),
        key=lambda installment: installment.number,
    )
    decoded = (Payment(**LOAN_PAYMENT.decode(item, where=_where(item))) for item in payments)
    values["payments"] = {payment.payment_id: payment for payment in decoded}
    return _build(Loan, values, f"loan {where}")


def _upgrade_legacy_loan(root: Item, installments: list[Item]) -> tuple[Item, list[Item]]:
    """Derive what the Go service did not store, the way the domain computes it.

    The product is the default one; an installment's number is its place in due-date
    order, its origination-fee part and principal part are the origination's even
    splits, its late fee the rest of its total; it became overdue ``grace_days`` after
    its due date if it is OVERDUE or carries a late fee; an application without its
    bucket split paid late fee, then fee, then principal, in the order listed; a
    DEFAULTED loan defaulted ``default_after_days`` after its first unpaid installment
    became overdue.
    """
    root = dict(root)
    if "loc_product" not in root:
        root["loc_product"] = converter.unstructure(InstallmentProduct())
    product = converter.structure(root["loc_product"], InstallmentProduct)
    count = len(installments)
    if count == 0:
        raise InvariantViolation(f"{_where(root)}: a loan without installments")
    fee_parts = split_evenly(_whole(root, "loc_origination_fee"), count)
    totals = split_evenly(_whole(root, "loc_total_amount"), count)
    grace = dt.timedelta(days=product.grace_days)
    ordered = sorted(
        installments, key=lambda item: (str(item.get("loc_due_date")), str(item["SK"]))
    )
    upgraded: list[Item] = []
    for number, original in enumerate(ordered, start=1):
        item = dict(original)
        if _legacy(original):
            item.setdefault("loc_number", number)
            item.setdefault("loc_origination_fee", fee_parts[number - 1])
            fee = _whole(item, "loc_origination_fee")
            item.setdefault("loc_principal", totals[number - 1] - fee)
            principal = _whole(item, "loc_principal")
            item.setdefault("loc_late_fee", _whole(item, "loc_total_amount") - principal - fee)
            late_fee = _whole(item, "loc_late_fee")
            overdue = item.get("loc_status") == InstallmentStatus.OVERDUE.value
            if "loc_overdue_on" not in item and (overdue or late_fee > 0):
                item["loc_overdue_on"] = (parse_date(item.get("loc_due_date")) + grace).isoformat()
            item["loc_applications"] = _split_applications(item, (late_fee, fee, principal))
        upgraded.append(item)
    defaulted = root.get("loc_status") == LoanStatus.DEFAULTED.value
    if _legacy(root) and defaulted and "loc_defaulted_on" not in root:
        unpaid = [
            parse_date(item["loc_overdue_on"])
            if item.get("loc_overdue_on")
            else parse_date(item.get("loc_due_date")) + grace
            for item in upgraded
            if _whole(item, "loc_outstanding_balance") > 0
        ]
        if unpaid:
            default_after = dt.timedelta(days=product.default_after_days)
            root["loc_defaulted_on"] = (min(unpaid) + default_after).isoformat()
    return root, upgraded


def _split_applications(item: Item, parts: tuple[int, int, int]) -> list[Any]:
    """Applications with their late fee / fee / principal split, as the waterfall paid them."""
    left = list(parts)
    split: list[Any] = []
    for raw in item.get("loc_applications") or []:
        application = dict(raw)
        if not {"late_fee", "origination_fee", "principal"} & application.keys():
            paid, _ = waterfall(_whole(application, "amount"), left)
            application.update(zip(("late_fee", "origination_fee", "principal"), paid, strict=True))
            left = [owed - part for owed, part in zip(left, paid, strict=True)]
        split.append(application)
    return split


def installment_ref(item: Mapping[str, Any]) -> InstallmentRef:
    """The reference an installment's index entry gives."""
    try:
        return InstallmentRef(
            user_id=str(item["loc_user_id"]),
            loan_id=str(item["loc_loan_id"]),
            installment_id=str(item["loc_installment_id"]),
            due_date=parse_date(item["loc_due_date"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvariantViolation(f"{_where(item)}: not an installment: {exc}") from exc


def payment_owner(item: Mapping[str, Any]) -> PaymentOwner:
    """Which loan or line a payment's index entry belongs to."""
    owner = str(item.get("GSI3SK", ""))
    if owner.startswith("LOAN#"):
        return PaymentOwner(Product.INSTALLMENT, str(item["loc_user_id"]), str(item["loc_loan_id"]))
    if owner.startswith("LOC#"):
        return PaymentOwner(Product.CREDITLINE, str(item["loc_user_id"]), str(item["loc_line_id"]))
    raise InvariantViolation(f"{_where(item)}: a payment index entry of neither a loan nor a line")


# --- loan applications -------------------------------------------------------------------


def encode_loan_application(application: LoanApplication) -> Item:
    """The ``LOANAPP#`` item; ``ttl`` while the offer is an unconverted APPROVED one."""
    item: Item = {
        "PK": keys.user_pk(application.user_id),
        "SK": keys.loan_application_sk(application.application_id),
        **LOAN_APPLICATION.encode(application),
    }
    if (
        application.status is ApplicationStatus.APPROVED
        and application.loan_id is None
        and application.expires_at is not None
    ):
        item["ttl"] = ttl_seconds(application.expires_at)
    return item


def decode_loan_application(item: Item) -> LoanApplication:
    """The application, verified; an item of the Go service gets its expiry from ``ttl``."""
    item = _expiry_from_ttl(item)
    if _legacy(item) and item.get("loc_adverse_actions"):
        item = {
            **item,
            "loc_adverse_actions": [
                {"code": action, "text": action} if isinstance(action, str) else action
                for action in item["loc_adverse_actions"]
            ],
        }
    where = _where(item)
    return _build(
        LoanApplication, LOAN_APPLICATION.decode(item, where=where), f"application {where}"
    )


# --- lines of credit ------------------------------------------------------------------


def encode_line(line: CreditLine, *, shards: int) -> list[Item]:
    """The line item first, then its draws and payments.

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
    return [root, *draws, *payments]


def decode_line(root: Item, children: Sequence[Item]) -> CreditLine:
    """The line from its item and its draws' and payments' items."""
    root_sk = str(root["SK"])
    where = _where(root)
    values = LINE.decode(root, where=where)
    draws = (
        Draw(**DRAW.decode(item, where=_where(item)))
        for item in children
        if str(item["SK"]).startswith(f"{root_sk}#DRAW#")
    )
    payments = (
        LocPayment(**LINE_PAYMENT.decode(item, where=_where(item)))
        for item in children
        if str(item["SK"]).startswith(f"{root_sk}#PAYMENT#")
    )
    values["draws"] = {draw.draw_id: draw for draw in draws}
    values["payments"] = {payment.payment_id: payment for payment in payments}
    return _build(CreditLine, values, f"line {where}")


def line_ref(item: Mapping[str, Any]) -> LineRef:
    """The reference a line's index entry gives."""
    try:
        return LineRef(user_id=str(item["loc_user_id"]), line_id=str(item["loc_line_id"]))
    except KeyError as exc:
        raise InvariantViolation(f"{_where(item)}: not a line: {exc}") from exc


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
    item = _expiry_from_ttl(item)
    where = _where(item)
    return _build(
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
    where = _where(item)
    return _build(Statement, STATEMENT.decode(item, where=where), f"statement {where}")


# --- ledger and audit -------------------------------------------------------------------


def encode_journal_entry(
    entry: JournalEntry, *, posted_at: dt.datetime, version: int, position: int
) -> Item:
    """A journal entry, keyed by its id under its loan or line.

    ``loc_aggregate_version`` and ``loc_position`` keep the posting order: commits of one
    loan or line are serialised by its version, entries of one commit by their place.
    """
    return {
        "PK": keys.journal_pk(entry.reference),
        "SK": keys.journal_sk(entry.entry_id),
        **JOURNAL_ENTRY.encode(entry),
        "loc_posted_at": format_timestamp(posted_at),
        "loc_aggregate_version": version,
        "loc_position": position,
    }


def decode_journal_entry(item: Item) -> tuple[tuple[int, int], JournalEntry]:
    """A journal entry with its posting order."""
    where = _where(item)
    entry = _build(JournalEntry, JOURNAL_ENTRY.decode(item, where=where), f"entry {where}")
    return (_whole(item, "loc_aggregate_version"), _whole(item, "loc_position")), entry


def encode_audit_record(record: AuditRecord, *, version: int, position: int) -> Item:
    """An audit record, under its entity, in the order of the changes."""
    change = record.change
    return {
        "PK": keys.audit_pk(change.entity, change.entity_id),
        "SK": keys.audit_sk(version, position, record.record_id),
        **AUDIT_RECORD.encode(record),
    }


def decode_audit_record(item: Item) -> AuditRecord:
    """An audit record."""
    where = _where(item)
    return _build(AuditRecord, AUDIT_RECORD.decode(item, where=where), f"audit record {where}")
