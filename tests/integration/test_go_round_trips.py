"""Items the Go service wrote survive this library's saves exactly as written (issue 16).

Go-format items go into the table on moto as they are; the library reads and saves them
(with no change, or with a payment) and every attribute is compared, as DynamoDB JSON,
with what was stored before: only what the command changed, and what the library derives
and the item lacked, differ.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import TYPE_CHECKING, Any

import attrs
from contracts.uow import UowFactory, pay
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.go_items import (
    GO_ZERO_TIME,
    GoInstallment,
    GoLoanBook,
    GoPayment,
    go_loan_application,
    go_loan_applications,
    go_loan_book,
    go_loan_books,
    library_payments,
    n,
    null,
    put_go_items,
    s,
)

from loc_adapters.dynamodb import DynamoTable
from loc_adapters.memory import ManualClock
from loc_core.installment import InstallmentStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Raw = dict[str, Any]

_USERS = itertools.count()
_STAMPED = frozenset({"loc_last_updated"})
"""What every save changes on the item it saves: the time it was updated."""
_ROUND_TRIPS = settings(
    max_examples=12,  # each a Go book written, saved and re-read over HTTP: about a second
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def stored(dynamodb: DynamoDBClient, table: DynamoTable, user_id: str) -> dict[str, Raw]:
    """Every item of the user as DynamoDB stores it, by sort key."""
    found = dynamodb.query(
        TableName=table.name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": s(f"USER#{user_id}")},
        ConsistentRead=True,
    )["Items"]
    return {item["SK"]["S"]: dict(item) for item in found}


def _unordered(value: Any) -> Any:
    """A value with its sets sorted: a set's order is DynamoDB's own."""
    kind, inner = next(iter(value.items()))
    if kind in {"SS", "NS", "BS"}:
        return {kind: sorted(inner)}
    if kind == "L":
        return {kind: [_unordered(v) for v in inner]}
    if kind == "M":
        return {kind: {k: _unordered(v) for k, v in inner.items()}}
    return value


def assert_kept(before: Raw, after: Raw, *, changed: frozenset[str] = frozenset()) -> set[str]:
    """Every attribute of `before` but those `changed` is in `after` as written.

    A list of maps (``loc_applications``) may gain keys in its maps (the derived bucket
    split); the keys it had are as written. Returns the attributes `after` added.
    """
    for name, value in before.items():
        if name in changed:
            assert after.get(name) != value, name
            continue
        assert name in after, name
        kept, now = _unordered(value), _unordered(after[name])
        if "L" in kept and len(kept["L"]) == len(now.get("L", ())) and kept["L"]:
            for was, got in zip(kept["L"], now["L"], strict=True):
                if "M" in was and "M" in got:
                    assert {k: got["M"].get(k) for k in was["M"]} == was["M"], name
                else:
                    assert got == was, name
        else:
            assert now == kept, name
    return set(after) - set(before)


@_ROUND_TRIPS
@given(data=st.data())
def test_a_go_loan_saved_unchanged_keeps_every_attribute_as_written(
    new_uow: UowFactory, dynamodb: DynamoDBClient, table: DynamoTable, data: st.DataObject
) -> None:
    user = f"go-user-{next(_USERS)}"
    book = data.draw(go_loan_books(user_id=user))
    put_go_items(dynamodb, table.name, [*go_loan_book(book), *library_payments(book)])
    before = stored(dynamodb, table, user)
    with new_uow() as uow:
        loan = uow.loans.get(user, book.loan_id)
        uow.loans.save(loan)
        uow.commit(actor="test", request_id="round-trip")
    after = stored(dynamodb, table, user)
    assert after.keys() == before.keys()
    root = f"LOAN#{book.loan_id}"
    for key, item in before.items():
        added = assert_kept(item, after[key], changed=_STAMPED if key == root else frozenset())
        assert all(name.startswith("loc_") for name in added), added  # derived, never guessed
    with new_uow() as uow:
        again = uow.loans.get(user, book.loan_id)
    assert again.version == loan.version == 1
    assert (again.outstanding_balance, again.status) == (loan.outstanding_balance, loan.status)
    assert again.installments == loan.installments


@_ROUND_TRIPS
@given(data=st.data())
def test_a_go_application_saved_unchanged_keeps_every_attribute_as_written(
    new_uow: UowFactory, dynamodb: DynamoDBClient, table: DynamoTable, data: st.DataObject
) -> None:
    user = f"go-user-{next(_USERS)}"
    now = int(dt.datetime(2026, 1, 5, 16, tzinfo=dt.UTC).timestamp())
    item = data.draw(go_loan_applications(user_id=user, now=now))
    put_go_items(dynamodb, table.name, [item])
    (key,) = stored(dynamodb, table, user)
    before = stored(dynamodb, table, user)[key]
    application_id = item["loc_loan_application_id"]["S"]
    with new_uow() as uow:
        application = uow.loan_applications.get(user, application_id)
        uow.loan_applications.save(application)
        uow.commit(actor="test", request_id="round-trip")
    after = stored(dynamodb, table, user)[key]
    added = assert_kept(before, after, changed=_STAMPED)
    assert added <= {"loc_version", "loc_expires_at"}
    with new_uow() as uow:
        again = uow.loan_applications.get(user, application_id)
    assert (again.status, again.expires_at, again.adverse_actions) == (
        application.status,
        application.expires_at,
        application.adverse_actions,
    )


BOOK = GoLoanBook(
    user_id="u-go",
    loan_id="loan-go",
    installments=(
        GoInstallment(
            payments=(GoPayment("pay-1", 5_250, "2026-01-19T12:00:00Z"),),
            created="2026-01-05T07:30:00-05:00",
            updated="2026-01-19T12:00:00.123456789Z",
        ),
        GoInstallment(
            late_fee=150,
            payments=(GoPayment("pay-2", 500, "2026-02-10T09:15:30.5+05:30"),),
            created="2026-01-05T07:30:00-05:00",
            updated="2026-02-10T03:45:30.5Z",
            extra={"go_note": {"SS": ["b", "a"]}},
        ),
        GoInstallment(created="2026-01-05T07:30:00-05:00"),
        GoInstallment(created="2026-01-05T07:30:00-05:00"),
    ),
    created="2026-01-05T07:30:00-05:00",
    updated="2026-02-10T03:45:30.5Z",
    disbursed="2026-01-05T12:00:00.123456789Z",
    completed=s(GO_ZERO_TIME),  # a zero time.Time: not a completion in year 1
    extra={"go_flags": {"M": {"risk": n("0.25"), "note": s("")}}},
)


def test_a_payment_on_a_go_loan_rewrites_only_what_it_changes(
    new_uow: UowFactory, dynamodb: DynamoDBClient, table: DynamoTable, clock: ManualClock
) -> None:
    put_go_items(dynamodb, table.name, [*go_loan_book(BOOK), *library_payments(BOOK)])
    with new_uow() as uow:  # the first save writes what the library derives, once
        uow.loans.save(uow.loans.get("u-go", "loan-go"))
        uow.commit(actor="test", request_id="adopt")
    before = stored(dynamodb, table, "u-go")
    clock.advance(dt.timedelta(hours=1))
    with new_uow() as uow:
        loan = pay(uow, "pay-3", 1_000, on=dt.date(2026, 2, 12), user_id="u-go", loan_id="loan-go")
        uow.commit(actor="api", request_id="r-1")
    after = stored(dynamodb, table, "u-go")
    second = "LOAN#loan-go#INSTALLMENT#loan-go-i2"
    paid = loan.installments[1]
    assert paid.status is InstallmentStatus.OVERDUE
    assert paid.outstanding_balance == 3_900
    root = assert_kept(
        before["LOAN#loan-go"],
        after["LOAN#loan-go"],
        changed=frozenset({"loc_outstanding_balance", "loc_last_updated", "loc_version"}),
    )
    assert root == set()
    assert after["LOAN#loan-go"]["loc_created_date"] == s("2026-01-05T07:30:00-05:00")
    assert after["LOAN#loan-go"]["loc_disbursement_date"] == s("2026-01-05T12:00:00.123456789Z")
    assert after["LOAN#loan-go"]["loc_completion_date"] == s(GO_ZERO_TIME)
    assert after["LOAN#loan-go#INSTALLMENT#loan-go-i3"]["loc_applications"] == null()  # nil
    changed = frozenset(
        {
            "loc_outstanding_balance",
            "loc_last_updated",
            "loc_process",
            "loc_applications",
            "loc_update_reason",
        }
    )
    assert assert_kept(before[second], after[second], changed=changed) == set()
    applications = after[second]["loc_applications"]["L"]
    assert applications[0] == before[second]["loc_applications"]["L"][0]  # pay-2 as written
    assert applications[1]["M"]["payment_id"] == s("pay-3")
    assert after[second]["loc_last_updated"] == s("2026-01-05T17:00:00Z")  # the library's form
    for key in before.keys() - {"LOAN#loan-go", second}:
        assert after[key] == before[key], key  # not written at all
    assert after.keys() - before.keys() == {"LOAN#loan-go#PAYMENT#pay-3"}


def test_a_go_application_abandoned_with_its_ttl_left_reads_and_keeps_it(
    new_uow: UowFactory, dynamodb: DynamoDBClient, table: DynamoTable
) -> None:
    item = go_loan_application(status="ABANDONED", ttl=1_767_600_000)
    put_go_items(dynamodb, table.name, [item])
    with new_uow() as uow:
        application = uow.loan_applications.get("u-go", "app-go")
        assert application.expires_at is None  # only an APPROVED offer expires
        uow.loan_applications.save(application)
        uow.commit(actor="test", request_id="r")
    assert stored(dynamodb, table, "u-go")["LOANAPP#app-go"]["ttl"] == n(1_767_600_000)


def test_the_book_builders_are_consistent() -> None:
    """The plain builders make what the strategies vary: a loan that adds up."""
    items = go_loan_book(attrs.evolve(BOOK, status="OPEN"))
    assert items[0]["loc_outstanding_balance"] == n(
        sum(int(i["loc_outstanding_balance"]["N"]) for i in items[1:])
    )
