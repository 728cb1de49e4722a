"""Items as the Go service writes them, in DynamoDB JSON, to put in a table as they are.

The seeds fix the Go service's keys and attributes (``docs/data-model.md``); this module
builds loans with their installments, and loan applications, in that format. Timestamps
are Go's ``time.RFC3339Nano`` text: any offset (``Z`` for UTC), fractional seconds of up
to nine digits without trailing zeros. Each builder takes ``extra`` attributes, which
this library does not know and must keep.

What is not set is what aws-sdk-go-v2's ``attributevalue.MarshalMap`` writes for the Go
zero value of the field's type, not a tidier shape: a nil slice is NULL (an installment
no payment touched, a rejected application's schedule), an empty string ``{"S": ""}``,
a zero ``time.Time`` ``0001-01-01T00:00:00Z``, a zero number ``0``, a float without a
fraction ``5`` (``strconv.FormatFloat(f, 'f', -1, 64)``), and an ``omitempty`` field
(adverse actions, ``ttl``) is absent when nil or zero; an empty but non-nil slice is
still ``{"L": []}``, ``omitempty`` or not. Where the Go type is unknown (a completion
date may be a ``time.Time``, a ``*time.Time`` or a string), the strategies draw each.

Plain builders (`go_timestamp`, `go_loan_book`, `go_loan_application`,
`library_payments`) make one item set, and `put_go_items` stores it; hypothesis strategies
(`go_timestamps`, `unknown_attributes`, `go_loan_books`, `go_loan_applications`) make
many. The Go service writes no payment items; until ``loc adopt`` has written them,
`library_payments` makes the ones this library needs to read a loan whose installments
carry applications.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from boto3.dynamodb.types import TypeSerializer
from hypothesis import strategies as st

from loc_core.installment import legacy

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = [
    "GO_ZERO_TIME",
    "GoInstallment",
    "GoLoanBook",
    "GoPayment",
    "b",
    "go_loan_application",
    "go_loan_applications",
    "go_loan_book",
    "go_loan_books",
    "go_timestamp",
    "go_timestamps",
    "library_payments",
    "n",
    "null",
    "put_go_items",
    "s",
    "unknown_attributes",
]

Raw = dict[str, Any]
"""An item or attribute value in DynamoDB JSON (``{"S": "..."}``)."""

_SERIALIZER = TypeSerializer()


def s(value: str) -> Raw:
    """A string attribute."""
    return {"S": value}


def n(value: int | str) -> Raw:
    """A number attribute, as written (``"5.0"`` stays ``5.0``)."""
    return {"N": str(value)}


def b(value: bool) -> Raw:  # noqa: FBT001 - the value itself
    """A boolean attribute."""
    return {"BOOL": value}


def null() -> Raw:
    """A NULL attribute: what ``MarshalMap`` writes for a nil slice, map or pointer."""
    return {"NULL": True}


GO_ZERO_TIME = "0001-01-01T00:00:00Z"
"""What ``MarshalMap`` writes for a zero ``time.Time`` (``omitempty`` or not)."""


def go_timestamp(moment: dt.datetime, nanosecond: int = 0) -> str:
    """`moment` (its offset kept) as Go's ``RFC3339Nano``; `nanosecond` replaces its microseconds.

    ``2026-03-01T12:00:00Z``, ``2026-03-01T07:30:00-05:00``,
    ``2026-03-01T12:00:00.123456789Z``: no fraction when it is zero, no trailing zeros.
    """
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{nanosecond:09d}".rstrip("0")
    if fraction:
        text += f".{fraction}"
    offset = moment.utcoffset() or dt.timedelta()
    if not offset:
        return text + "Z"
    sign = "-" if offset < dt.timedelta() else "+"
    minutes = abs(offset) // dt.timedelta(minutes=1)
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


@attrs.frozen
class GoPayment:
    """One application of a payment on an installment, as the Go service lists it."""

    payment_id: str
    amount: int
    paid_at: str
    """Its ``payment_date``: an RFC3339 timestamp as the Go service wrote it."""


@attrs.frozen
class GoInstallment:
    """What varies between installments: the late fee, the payments, the times."""

    late_fee: int = 0
    payments: tuple[GoPayment, ...] = ()
    overdue: bool = False
    """Unpaid and past its grace days without a late fee (OVERDUE rather than SCHEDULED)."""
    created: str = "2026-01-05T15:04:05Z"
    updated: str = "2026-01-05T15:04:05Z"
    extra: Mapping[str, Raw] = attrs.field(factory=dict)
    process: str | None = None
    """``loc_process``, what last changed it; by default AUTOPAY once paid, else CREATION."""
    unpaid: Raw = attrs.field(factory=null)
    """``loc_applications`` without payments: NULL (the nil slice of an installment no
    payment touched) or ``{"L": []}`` (a slice emptied again, say by an unapplied payment)."""

    @property
    def last_process(self) -> str:
        """The ``loc_process`` the Go service stored."""
        if self.process is not None:
            return self.process
        return "AUTOPAY" if self.payments else "CREATION"


@attrs.frozen
class GoLoanBook:
    """A loan of equal installments (each `principal` + `fee` + its late fee)."""

    user_id: str = "u-go"
    loan_id: str = "loan-go"
    application_id: str = "app-go"
    status: str = "OPEN"
    """OPEN, CLOSED (every installment paid) or DEFAULTED (some unpaid)."""
    installments: tuple[GoInstallment, ...] = (GoInstallment(),) * 4
    principal: int = 5_000
    fee: int = 250
    first_due: dt.date = dt.date(2026, 1, 19)
    created: str = "2026-01-05T15:04:05Z"
    updated: str = "2026-01-05T15:04:05Z"
    disbursed: str = "2026-01-05T15:04:05Z"
    completed: Raw | None = attrs.field(factory=lambda: s(""))
    """``loc_completion_date``: a timestamp on a CLOSED loan; else what an unset Go field
    is written as: ``GO_ZERO_TIME`` (a ``time.Time``), NULL (a ``*time.Time``), ``""`` (a
    string) or None (absent: ``omitempty``)."""
    account_last_four: str = "6789"
    """``loc_account_last_four``; ``""`` when the Go service had none."""
    extra: Mapping[str, Raw] = attrs.field(factory=dict)

    def due(self, number: int) -> str:
        """The due date of installment `number` (from 1): every two weeks."""
        return (self.first_due + dt.timedelta(weeks=2 * (number - 1))).isoformat()


def _total(book: GoLoanBook, installment: GoInstallment) -> int:
    return book.principal + book.fee + installment.late_fee


def _outstanding(book: GoLoanBook, installment: GoInstallment) -> int:
    return _total(book, installment) - sum(p.amount for p in installment.payments)


def _installment_status(book: GoLoanBook, installment: GoInstallment) -> str:
    if _outstanding(book, installment) == 0:
        return "COMPLETED"
    if book.status == "DEFAULTED":
        return "DEFAULTED"
    return "OVERDUE" if installment.overdue or installment.late_fee else "SCHEDULED"


def go_loan_book(book: GoLoanBook) -> list[Raw]:
    """The loan item, then its installment items, as the Go service writes them."""
    user = f"USER#{book.user_id}"
    dated = f"LOAN#DATE#{book.created}#LOAN#{book.loan_id}"
    count = len(book.installments)
    loan: Raw = {
        "PK": s(user),
        "SK": s(f"LOAN#{book.loan_id}"),
        "GSI1PK": s(f"{user}#STATUS#{book.status}"),
        "GSI1SK": s(dated),
        "GSI2PK": s(user),
        "GSI2SK": s(dated),
        "GSI3PK": s(user),
        "GSI3SK": s(f"LOAN#LOANAPP#{book.application_id}"),
        "loc_user_id": s(book.user_id),
        "loc_loan_id": s(book.loan_id),
        "loc_loan_application_id": s(book.application_id),
        "loc_loan_number": s("FM-000042"),
        "loc_loan_amount": n(book.principal * count),
        "loc_origination_fee": n(book.fee * count),
        "loc_fee_percent": n("5"),  # a float64 5.0, as strconv.FormatFloat prints it
        "loc_fee_type": s("percentage"),
        "loc_total_amount": n((book.principal + book.fee) * count),
        "loc_amount_disbursed": n(book.principal * count),
        "loc_outstanding_balance": n(sum(_outstanding(book, i) for i in book.installments)),
        "loc_status": s(book.status),
        "loc_repayment_cadence": s("biweekly"),
        "loc_disbursement_date": s(book.disbursed),
        "loc_disbursement_method": s("ach"),
        "loc_account_last_four": s(book.account_last_four),
        "loc_confirmation_id": s("conf-1"),
        "auto_pay_enabled": b(book.status != "DEFAULTED"),
        "loc_created_date": s(book.created),
        "loc_last_updated": s(book.updated),
        **book.extra,
    }
    if book.completed is not None:
        loan["loc_completion_date"] = book.completed
    return [loan, *(_go_installment(book, k, i) for k, i in enumerate(book.installments, 1))]


def _go_installment(book: GoLoanBook, number: int, installment: GoInstallment) -> Raw:
    installment_id = f"{book.loan_id}-i{number}"
    status = _installment_status(book, installment)
    due = book.due(number)
    applications = [
        {
            "M": {
                "payment_id": s(payment.payment_id),
                "installment_id": s(installment_id),
                "amount": n(payment.amount),
                "payment_date": s(payment.paid_at),
            }
        }
        for payment in installment.payments
    ]
    return {
        "PK": s(f"USER#{book.user_id}"),
        "SK": s(f"LOAN#{book.loan_id}#INSTALLMENT#{installment_id}"),
        "GSI1PK": s(f"INSTALLMENT#STATUS#{status}"),
        "GSI1SK": s(f"DUEDATE#{due}#INSTALLMENT#{installment_id}"),
        "GSI2PK": s(f"USER#{book.user_id}"),
        "GSI2SK": s(f"LOAN#{book.loan_id}#DUEDATE#{due}#INSTALLMENT#{installment_id}"),
        "loc_user_id": s(book.user_id),
        "loc_loan_id": s(book.loan_id),
        "loc_installment_id": s(installment_id),
        "loc_total_amount": n(_total(book, installment)),
        "loc_outstanding_balance": n(_outstanding(book, installment)),
        "loc_status": s(status),
        "loc_due_date": s(due),
        "loc_process": s(installment.last_process),
        "loc_applications": {"L": applications} if applications else installment.unpaid,
        "loc_update_reason": s(""),
        "loc_created_date": s(installment.created),
        "loc_last_updated": s(installment.updated),
        **installment.extra,
    }


def library_payments(book: GoLoanBook) -> list[Raw]:
    """This library's payment items for the book's applications (what ``loc adopt`` writes).

    Each application's split is the one the codec derives for a Go installment
    (`loc_core.installment.legacy`); its ``payment_date`` is the Go text.
    """
    applications: dict[str, list[Raw]] = {}
    autopay: set[str] = set()
    for number, installment in enumerate(book.installments, 1):
        if installment.last_process == "AUTOPAY":
            autopay.update(p.payment_id for p in installment.payments)
        parts = legacy.installment_parts(
            scheduled=(book.principal + book.fee, book.fee),
            total_amount=_total(book, installment),
        )
        splits = legacy.split_applications([p.amount for p in installment.payments], parts)
        for payment, split in zip(installment.payments, splits, strict=True):
            applications.setdefault(payment.payment_id, []).append(
                {
                    "payment_id": payment.payment_id,
                    "installment_id": f"{book.loan_id}-i{number}",
                    "amount": payment.amount,
                    "payment_date": payment.paid_at,
                    "late_fee": split.late_fee,
                    "origination_fee": split.origination_fee,
                    "principal": split.principal,
                }
            )
    return [
        _raw(
            {
                "PK": f"USER#{book.user_id}",
                "SK": f"LOAN#{book.loan_id}#PAYMENT#{payment_id}",
                "GSI3PK": f"PAYMENT#{payment_id}",
                "GSI3SK": f"LOAN#{book.loan_id}",
                "loc_payment_id": payment_id,
                "loc_user_id": book.user_id,
                "loc_loan_id": book.loan_id,
                "loc_amount": sum(a["amount"] for a in applied),
                "loc_process": "AUTOPAY" if payment_id in autopay else "MANUAL",
                "loc_rail": "ach",
                "loc_submitted_on": applied[0]["payment_date"][:10],
                "loc_status": "COMPLETED",
                "loc_settled_on": applied[0]["payment_date"][:10],
                "loc_version": 0,
                "loc_applications": applied,
            }
        )
        for payment_id, applied in applications.items()
    ]


def put_go_items(dynamodb: DynamoDBClient, table_name: str, items: Sequence[Raw]) -> None:
    """Put `items` in the table as they are, one `PutItem` each, as the Go service does."""
    for item in items:
        dynamodb.put_item(TableName=table_name, Item=item)


def _raw(item: Mapping[str, Any]) -> Raw:
    return {name: _SERIALIZER.serialize(value) for name, value in item.items()}


def go_loan_application(
    *,
    user_id: str = "u-go",
    application_id: str = "app-go",
    status: str = "APPROVED",
    ttl: int | None = None,
    loan_id: str = "",
    adverse_actions: Sequence[str] | None = None,
    cadence: str | None = None,
    created: str = "2026-01-05T15:04:05Z",
    updated: str = "2026-01-05T15:04:05Z",
    extra: Mapping[str, Raw] | None = None,
) -> Raw:
    """A ``LOANAPP#`` item as the Go service writes it.

    An APPROVED offer of $300 + $15 in six installments, with its agreement's key; an
    ABANDONED one is the offer the expiration handler saved again, terms and all; a
    REJECTED one has only zero values: no amounts, ``""`` for its loan number, fee type
    and agreement key, and a NULL schedule (a nil slice). `ttl` (epoch seconds) is written
    when given: the Go service keeps it on an unconverted APPROVED offer, and may leave it
    on one it later marks ABANDONED. `adverse_actions` is ``omitempty``: None (a nil
    slice) leaves the attribute out, an empty sequence (an empty non-nil slice, which
    ``omitempty`` does not drop) writes ``{"L": []}``. `cadence` is
    ``loc_repayment_cadence``: ``biweekly`` unless given (``""`` for a rejection that set
    none).
    """
    offered = status != "REJECTED"
    schedule = [
        {"M": {"amount": n(5_250), "due_date": s(f"2026-{month:02d}-{day:02d}")}}
        for month, day in ((1, 19), (2, 2), (2, 16), (3, 2), (3, 16), (3, 30))
    ]
    item: Raw = {
        "PK": s(f"USER#{user_id}"),
        "SK": s(f"LOANAPP#{application_id}"),
        "loc_user_id": s(user_id),
        "loc_loan_application_id": s(application_id),
        "loc_loan_id": s(loan_id),
        "loc_loan_number": s("FM-000042" if offered else ""),
        "loc_loan_agreement_key": s(
            f"loan-agreements/{user_id}/{application_id}.pdf" if offered else ""
        ),
        "loc_status": s(status),
        "loc_loan_amount": n(30_000 if offered else 0),
        "loc_fee_type": s("fixed" if offered else ""),
        "loc_origination_fee": n(1_500 if offered else 0),
        "loc_fee_percent": n("0"),
        "loc_total_amount": n(31_500 if offered else 0),
        "loc_amount_disbursed": n(30_000 if offered else 0),
        "loc_repayment_cadence": s("biweekly" if cadence is None else cadence),
        "loc_installment_schedule": {"L": schedule} if offered else null(),
        "loc_created_date": s(created),
        "loc_last_updated": s(updated),
        **(extra or {}),
    }
    if adverse_actions is not None:  # omitempty drops a nil slice, not an empty one
        item["loc_adverse_actions"] = {"L": [s(action) for action in adverse_actions]}
    if ttl is not None:
        item["ttl"] = n(ttl)
    return item


# --- strategies ----------------------------------------------------------------------

_OFFSETS = st.sampled_from([0, -5 * 60, -8 * 60, 5 * 60 + 30, 9 * 60, -3 * 60 - 30])
_FRACTIONS = st.one_of(
    st.just(0),
    st.integers(1, 999).map(lambda ms: ms * 1_000_000),
    st.integers(1, 999_999).map(lambda us: us * 1_000),
    st.integers(1, 999_999_999),
)


@st.composite
def go_timestamps(
    draw: st.DrawFn,
    *,
    start: dt.datetime = dt.datetime(2025, 6, 1, tzinfo=dt.UTC),
    days: int = 30,
) -> str:
    """A Go ``RFC3339Nano`` timestamp in the `days` after `start`: any time of day, offset."""
    seconds = draw(st.integers(0, days * 86_400 - 1))
    zone = dt.timezone(dt.timedelta(minutes=draw(_OFFSETS)))
    moment = (start + dt.timedelta(seconds=seconds)).astimezone(zone)
    return go_timestamp(moment, draw(_FRACTIONS))


_SCALARS: st.SearchStrategy[Raw] = st.one_of(
    st.text(max_size=8).map(s),
    st.integers(-(10**12), 10**12).map(n),
    st.decimals(-1000, 1000, places=3, allow_nan=False).map(lambda d: n(str(d))),
    st.booleans().map(b),
    st.just(null()),
    st.binary(min_size=1, max_size=8).map(lambda raw: {"B": raw}),
)
_SETS: st.SearchStrategy[Raw] = st.one_of(
    st.sets(st.text(min_size=1, max_size=6), min_size=1, max_size=3).map(
        lambda values: {"SS": sorted(values)}
    ),
    st.sets(st.integers(-999, 999), min_size=1, max_size=3).map(
        lambda values: {"NS": [str(v) for v in sorted(values)]}
    ),
    st.sets(st.binary(min_size=1, max_size=4), min_size=1, max_size=3).map(
        lambda values: {"BS": sorted(values)}
    ),
)
_VALUES: st.SearchStrategy[Raw] = st.recursive(
    st.one_of(_SCALARS, _SETS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: {"L": items}),
        st.dictionaries(st.text(min_size=1, max_size=6), inner, max_size=3).map(
            lambda fields: {"M": fields}
        ),
    ),
    max_leaves=6,
)


def unknown_attributes() -> st.SearchStrategy[dict[str, Raw]]:
    """Attributes this library does not know (``go_x_*``), of every DynamoDB type."""
    return st.dictionaries(
        st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8).map(lambda x: f"go_x_{x}"),
        _VALUES,
        max_size=3,
    )


@st.composite
def _installment(draw: st.DrawFn, *, number: int, paid: bool, book: int) -> GoInstallment:
    """An installment paid in full (`paid`) or in part, by one to three payments."""
    late_fee = draw(st.sampled_from([0, 0, 150]))
    total = 5_250 + late_fee
    if paid:
        cuts = sorted(draw(st.sets(st.integers(1, total - 1), max_size=2)))
        amounts = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    else:
        amounts = draw(st.lists(st.integers(1, 1_000), max_size=3))
    payments = tuple(
        GoPayment(f"pay-{book}-{number}-{k}", amount, draw(go_timestamps()))
        for k, amount in enumerate(amounts)
    )
    return GoInstallment(
        late_fee=late_fee,
        payments=payments,
        unpaid=draw(st.sampled_from([null(), {"L": []}])),
        overdue=not paid and draw(st.booleans()),
        created=draw(go_timestamps()),
        updated=draw(go_timestamps()),
        extra=draw(unknown_attributes()),
    )


@st.composite
def go_loan_books(draw: st.DrawFn, *, user_id: str = "u-go") -> GoLoanBook:
    """A consistent Go loan in any status, its installments paid by several payments."""
    status = draw(st.sampled_from(["OPEN", "CLOSED", "DEFAULTED"]))
    count = draw(st.integers(2, 4))
    book = draw(st.integers(0, 10**6))
    paid = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    if status == "CLOSED":
        paid = [True] * count
    elif all(paid):
        paid[-1] = False
    installments = tuple(
        draw(_installment(number=k, paid=done, book=book)) for k, done in enumerate(paid, 1)
    )
    completed: Raw | None = draw(st.sampled_from([s(GO_ZERO_TIME), null(), s(""), None]))
    if status == "CLOSED":
        completed = s(draw(go_timestamps()))
    return GoLoanBook(
        user_id=user_id,
        loan_id=f"loan-{book}",
        application_id=f"app-{book}",
        status=status,
        installments=installments,
        created=draw(go_timestamps()),
        updated=draw(go_timestamps()),
        disbursed=draw(go_timestamps()),
        completed=completed,
        account_last_four=draw(st.sampled_from(["6789", ""])),
        extra=draw(unknown_attributes()),
    )


@st.composite
def go_loan_applications(draw: st.DrawFn, *, user_id: str = "u-go", now: int) -> Raw:
    """A Go ``LOANAPP#`` item: APPROVED (open with a TTL after `now`, or converted),
    REJECTED or ABANDONED (with or without a leftover TTL)."""
    status = draw(st.sampled_from(["APPROVED", "REJECTED", "ABANDONED"]))
    converted = status == "APPROVED" and draw(st.booleans())
    ttl: int | None = None
    if status == "APPROVED" and not converted:
        ttl = now + draw(st.integers(60, 7 * 86_400))
    elif status == "ABANDONED" and draw(st.booleans()):
        ttl = now - draw(st.integers(0, 86_400))
    rejected = status == "REJECTED"
    return go_loan_application(
        user_id=user_id,
        application_id=f"app-{draw(st.integers(0, 10**6))}",
        status=status,
        ttl=ttl,
        loan_id="loan-x" if converted else "",
        adverse_actions=["INSUFFICIENT_INCOME"] if rejected else draw(st.sampled_from([None, []])),
        cadence=draw(st.sampled_from(["biweekly", ""])) if rejected else None,
        created=draw(go_timestamps()),
        updated=draw(go_timestamps()),
        extra=draw(unknown_attributes()),
    )
