"""Installment loans and their applications as items, and the Go service's loans read."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from loc_adapters.dynamodb import _keys as keys
from loc_adapters.dynamodb._codecs.shared import (
    SEED_TIMESTAMPS,
    STATUS,
    build,
    expiry_from_ttl,
    is_legacy,
    item_name,
    reading,
    ttl_seconds,
    unreadable,
    whole,
)
from loc_adapters.dynamodb._convert import (
    Item,
    Shape,
    converter,
    format_timestamp,
    parse_date,
    timestamp_date,
)
from loc_core.applications import ApplicationStatus
from loc_core.installment import (
    Installment,
    InstallmentProduct,
    InstallmentStatus,
    Loan,
    LoanApplication,
    LoanStatus,
    Payment,
    RepaymentCadence,
    legacy,
)
from loc_core.ports import InstallmentRef

_T = TypeVar("_T")

__all__ = [
    "INSTALLMENT",
    "LOAN",
    "LOAN_APPLICATION",
    "LOAN_PAYMENT",
    "decode_loan",
    "decode_loan_application",
    "encode_loan",
    "encode_loan_application",
    "encode_loan_payment",
    "installment_ref",
    "upgrade_legacy_loan",
]

_SPLIT_KEYS = frozenset({"late_fee", "origination_fee", "principal"})
"""The keys of an application's bucket split, which the Go service never stored."""

LOAN = Shape(
    Loan,
    names={
        "application_id": "loc_loan_application_id",
        "autopay_enabled": "auto_pay_enabled",
        **SEED_TIMESTAMPS,
    },
    skip=frozenset({"installments", "payments", "outbox"}),
    encoders={"disbursement_date": timestamp_date, "completion_date": timestamp_date},
    required=STATUS,
)
"""The seed's loan item: its names, and RFC3339 for the disbursement and completion dates."""
INSTALLMENT = Shape(Installment, names=SEED_TIMESTAMPS, required=STATUS)
LOAN_PAYMENT = Shape(Payment, required=STATUS)
LOAN_APPLICATION = Shape(
    LoanApplication,
    names={
        "application_id": "loc_loan_application_id",
        "proposed_schedule": "loc_installment_schedule",
        "agreement_key": "loc_loan_agreement_key",
        **SEED_TIMESTAMPS,
    },
)


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
    payments = [encode_loan_payment(p) for p in loan.payments.values()]
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


def encode_loan_payment(payment: Payment) -> Item:
    """The ``LOAN#<loan>#PAYMENT#<payment>`` item of one payment, with its payments-index keys."""
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
    where = item_name(root)
    if is_legacy(root) or any(is_legacy(item) for item in installments):
        with reading(
            root, "cannot read the Go service's loan", entity="loan", invariant="go_loan_readable"
        ):
            root, installments = upgrade_legacy_loan(root, installments)
    values = LOAN.decode(root, where=where)
    values["installments"] = sorted(
        (Installment(**INSTALLMENT.decode(item, where=item_name(item))) for item in installments),
        key=lambda installment: installment.number,
    )
    decoded = (Payment(**LOAN_PAYMENT.decode(item, where=item_name(item))) for item in payments)
    values["payments"] = {payment.payment_id: payment for payment in decoded}
    return build(Loan, values, f"loan {where}")


def upgrade_legacy_loan(root: Item, installments: list[Item]) -> tuple[Item, list[Item]]:
    """Fill in the attributes the Go service did not store, by `loc_core.installment.legacy`.

    Only what is absent is derived; what the Go service stored is kept as it is.
    """
    root = dict(root)
    if "loc_product" not in root:
        root["loc_product"] = converter.unstructure(legacy.LEGACY_TERMS)
    product = converter.structure(root["loc_product"], InstallmentProduct)
    if not installments:
        raise unreadable(
            root, "a loan without installments", entity="loan", invariant="loan_has_installments"
        )
    scheduled = legacy.scheduled_parts(
        total_amount=whole(root, "loc_total_amount"),
        origination_fee=whole(root, "loc_origination_fee"),
        count=len(installments),
    )
    numbered = legacy.numbered_by_due_date(
        installments,
        due_date=lambda item: _of_installment(item, lambda: parse_date(item.get("loc_due_date"))),
        tiebreak=lambda item: str(item["SK"]),
    )
    upgraded = [
        _of_installment(
            item,
            functools.partial(_upgrade_installment, item, number, scheduled[number - 1], product),
        )
        if is_legacy(item)
        else dict(item)
        for number, item in numbered
    ]
    defaulted = root.get("loc_status") == LoanStatus.DEFAULTED.value
    if is_legacy(root) and defaulted and "loc_defaulted_on" not in root:
        unpaid = [
            (
                parse_date(item.get("loc_due_date")),
                parse_date(item["loc_overdue_on"]) if item.get("loc_overdue_on") else None,
            )
            for item in upgraded
            if whole(item, "loc_outstanding_balance") > 0
        ]
        day = legacy.defaulted_on(unpaid, product=product)
        if day is not None:
            root["loc_defaulted_on"] = day.isoformat()
    return root, upgraded


def _of_installment(item: Item, read: Callable[[], _T]) -> _T:
    """`read()` of one Go installment; what it cannot read names that installment."""
    with reading(
        item,
        "cannot read the Go service's installment",
        entity="installment",
        invariant="go_loan_readable",
    ):
        return read()


def _upgrade_installment(
    original: Item, number: int, scheduled: tuple[int, int], product: InstallmentProduct
) -> Item:
    """A Go installment with its number, parts, overdue day and applications' splits."""
    item = dict(original)
    item.setdefault("loc_number", number)
    parts = legacy.installment_parts(
        scheduled=scheduled,
        total_amount=whole(item, "loc_total_amount"),
        origination_fee=_stored_whole(item, "loc_origination_fee"),
        principal=_stored_whole(item, "loc_principal"),
        late_fee=_stored_whole(item, "loc_late_fee"),
    )
    item.setdefault("loc_origination_fee", parts.origination_fee)
    item.setdefault("loc_principal", parts.principal)
    item.setdefault("loc_late_fee", parts.late_fee)
    if "loc_overdue_on" not in item:
        overdue_on = legacy.overdue_on(
            due_date=parse_date(item.get("loc_due_date")),
            status=converter.structure(item.get("loc_status"), InstallmentStatus),
            late_fee=parts.late_fee,
            product=product,
        )
        if overdue_on is not None:
            item["loc_overdue_on"] = overdue_on.isoformat()
    applications = [dict(raw) for raw in item.get("loc_applications") or []]
    unsplit = [a for a in applications if not _SPLIT_KEYS & a.keys()]
    splits = legacy.split_applications([whole(a, "amount") for a in unsplit], parts)
    for application, split in zip(unsplit, splits, strict=True):
        application.update(
            late_fee=split.late_fee,
            origination_fee=split.origination_fee,
            principal=split.principal,
        )
    item["loc_applications"] = applications
    return item


def _stored_whole(item: Item, name: str) -> int | None:
    """The whole number stored under `name`, or None when the attribute is absent."""
    return whole(item, name) if name in item else None


def installment_ref(item: Mapping[str, Any]) -> InstallmentRef:
    """The reference an installment's index entry gives."""
    with reading(
        item, "not an installment", entity="installment", invariant="installment_readable"
    ):
        return InstallmentRef(
            user_id=str(item["loc_user_id"]),
            loan_id=str(item["loc_loan_id"]),
            installment_id=str(item["loc_installment_id"]),
            due_date=parse_date(item["loc_due_date"]),
        )


_ADVERSE_ACTIONS = "loc_adverse_actions"
"""Written only when there are reasons, as the Go service's ``omitempty`` writes it."""
_CADENCE = "loc_repayment_cadence"
_REJECTED_CADENCE = RepaymentCadence.BIWEEKLY
"""A rejection's cadence when the Go service set none (``""``, or NULL): what
`LoanApplication.reject` gives one. A rejection has no terms; the stored value is kept."""


def encode_loan_application(application: LoanApplication) -> Item:
    """The ``LOANAPP#`` item; ``ttl`` while the offer is an unconverted APPROVED one.

    No reasons, no ``loc_adverse_actions`` attribute: the Go service's field is
    ``omitempty``, so an approved offer it wrote has none, and one saved back keeps none.
    """
    item: Item = {
        "PK": keys.user_pk(application.user_id),
        "SK": keys.loan_application_sk(application.application_id),
        **LOAN_APPLICATION.encode(application),
    }
    if not application.adverse_actions:
        item.pop(_ADVERSE_ACTIONS, None)
    if (
        application.status is ApplicationStatus.APPROVED
        and application.loan_id is None
        and application.expires_at is not None
    ):
        item["ttl"] = ttl_seconds(application.expires_at)
    return item


def decode_loan_application(item: Item) -> LoanApplication:
    """The application, verified; an item of the Go service gets its expiry from ``ttl``.

    An item without ``loc_adverse_actions`` (or with NULL) has no reasons: the Go service
    writes the attribute ``omitempty``. A REJECTED item's empty ``loc_repayment_cadence``
    (the Go zero value of a rejection that set no terms) reads as biweekly, the cadence
    `LoanApplication.reject` gives a rejection; saved back, the ``""`` is kept as written.

    Only an APPROVED offer expires: a ``ttl`` the Go service left on an application it
    later marked ABANDONED is kept as written, not read as an expiry.
    """
    if item.get("loc_status") == ApplicationStatus.APPROVED.value:
        item = expiry_from_ttl(item)
    if item.get("loc_status") == ApplicationStatus.REJECTED.value and not item.get(_CADENCE):
        item = {**item, _CADENCE: _REJECTED_CADENCE.value}
    actions = item.get(_ADVERSE_ACTIONS)
    item = {  # absent or NULL: none (the Go service's omitempty); its strings kept as written
        **item,
        _ADVERSE_ACTIONS: [
            {"code": action, "text": action} if isinstance(action, str) else action
            for action in actions or ()
        ],
    }
    where = item_name(item)
    return build(
        LoanApplication, LOAN_APPLICATION.decode(item, where=where), f"application {where}"
    )
