"""`loc adopt` on a table the Go service wrote, on the moto server.

The Go items come from `support.go_items` (the one builder of the Go wire format in the
tests): loans in each status the Go service writes, installments in each status and paid
by several payments (one payment across two installments), and applications approved,
rejected and abandoned, with and without ``ttl``. After ``--apply`` the library's use
cases run on the adopted loans through the bus a deployment builds (its unit of work and
leases on the same table, simulated rails): a return of a payment the Go service took, a
manual payment and its return, an autopay collection.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from click.testing import CliRunner
from contracts.uow import UowFactory
from deployment import Deployment
from fakes import settlement
from integration.support import on_table
from support.go_items import (
    GO_ZERO_TIME,
    GoInstallment,
    GoLoanBook,
    GoPayment,
    go_loan_application,
    go_loan_book,
    n,
    put_go_items,
    s,
)

from loc_adapters.dynamodb import DynamoIds, DynamoTable, create_table
from loc_adapters.dynamodb.adopt import Outcome, adopt_table
from loc_core.errors import InvariantViolation
from loc_core.installment import WATERFALL, InstallmentStatus, LoanStatus, Process
from loc_core.ledger import CLEARING, Bucket, receivable
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.services.commands import CollectionOutcome, SettlementHandling
from loc_entrypoints.cli import main

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

NOW = dt.datetime(2026, 1, 5, 16, tzinfo=dt.UTC)
TODAY = NOW.date()
OFFER_EXPIRES = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
LOANS = (("u-1", "l-open"), ("u-2", "l-closed"), ("u-3", "l-default"))
APPLICATIONS = 7


def open_book(user: str, loan: str, *, status: str = "OPEN") -> GoLoanBook:
    """Inst 1 paid by autopay (pay-a, which also paid 1,000 of inst 2); inst 2 overdue with
    a late fee of 263 and a manual pay-b of 500; inst 3 due today; inst 4 in two weeks.

    As the Go service stores them: no completion date (Go's zero time) and the unpaid
    installments' applications NULL (a nil slice)."""
    paid_a = GoPayment(f"{loan}-pay-a", 5_250, "2025-12-08T12:00:00Z")
    return GoLoanBook(
        user_id=user,
        loan_id=loan,
        application_id=f"app-{loan}",
        status=status,
        first_due=dt.date(2025, 12, 8),
        installments=(
            GoInstallment(payments=(paid_a,)),
            GoInstallment(
                late_fee=263,
                process="MANUAL",
                payments=(
                    attrs.evolve(paid_a, amount=1_000),
                    GoPayment(f"{loan}-pay-b", 500, "2025-12-30T09:00:00.5-05:00"),
                ),
            ),
            GoInstallment(),
            GoInstallment(),
        ),
        created="2025-11-24T15:04:05Z",
        disbursed="2025-11-24T15:04:05.123Z",
        updated="2025-12-30T14:00:00.5Z",
        completed=s(GO_ZERO_TIME),  # not paid off: a zero time.Time
    )


def closed_book(user: str, loan: str) -> GoLoanBook:
    """Every installment paid by its own autopay payment on its due day."""
    first_due = dt.date(2025, 10, 13)
    return GoLoanBook(
        user_id=user,
        loan_id=loan,
        application_id=f"app-{loan}",
        status="CLOSED",
        first_due=first_due,
        installments=tuple(
            GoInstallment(
                payments=(
                    GoPayment(
                        f"{loan}-pay-{k}",
                        5_250,
                        f"{first_due + dt.timedelta(weeks=2 * k)}T12:00:00Z",
                    ),
                )
            )
            for k in range(4)
        ),
        created="2025-09-29T15:04:05Z",
        disbursed="2025-09-29T17:04:05+02:00",
        completed=s("2025-11-24T10:00:00Z"),
    )


def go_applications() -> list[dict[str, Any]]:
    """One of each status, with and without a ``ttl`` (epoch seconds)."""
    expires = int(OFFER_EXPIRES.timestamp())
    lapsed = int(dt.datetime(2025, 12, 1, tzinfo=dt.UTC).timestamp())
    rejected = ["INSUFFICIENT_INCOME"]
    return [
        go_loan_application(user_id="u-1", application_id="app-ok", ttl=expires),
        go_loan_application(user_id="u-1", application_id="app-l-open", loan_id="l-open"),
        go_loan_application(
            user_id="u-2", application_id="app-no", status="REJECTED", adverse_actions=rejected
        ),
        go_loan_application(
            user_id="u-2",
            application_id="app-no-ttl",
            status="REJECTED",
            adverse_actions=rejected,
            cadence="",  # a rejection that set no terms: the Go zero value
            ttl=lapsed,
        ),
        go_loan_application(user_id="u-3", application_id="app-gone", status="ABANDONED"),
        go_loan_application(
            user_id="u-3", application_id="app-gone-ttl", status="ABANDONED", ttl=lapsed
        ),
        go_loan_application(user_id="u-4", application_id="app-old", ttl=expires),
    ]


def snapshot(dynamodb: DynamoDBClient, table: DynamoTable) -> list[dict[str, Any]]:
    items = dynamodb.scan(TableName=table.name, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


@pytest.fixture
def go_table(dynamodb: DynamoDBClient, table: DynamoTable) -> DynamoTable:
    """Loans in each status, one that does not verify, and applications of each kind."""
    not_due_today = attrs.evolve(open_book("u-4", "l-bad"), first_due=dt.date(2025, 12, 15))
    broken = go_loan_book(not_due_today)
    broken[2]["loc_outstanding_balance"] = n(4_000)  # the Go item disagrees with itself
    put_go_items(
        dynamodb,
        table.name,
        [
            *go_loan_book(open_book("u-1", "l-open")),
            *go_loan_book(closed_book("u-2", "l-closed")),
            *go_loan_book(open_book("u-3", "l-default", status="DEFAULTED")),
            *broken,
            *go_applications(),
        ],
    )
    return DynamoTable(table.client, table.name, page_size=3)


def run(go_table: DynamoTable, *args: str) -> Any:
    result = CliRunner().invoke(main, ["adopt", *args], obj={"table": go_table})
    # the table holds one loan that does not verify: a partial adoption exits 1
    assert result.exit_code == 1, result.output
    assert "1 do not verify" in " ".join(result.output.split()), result.output
    return result


@pytest.fixture
def world(go_table: DynamoTable) -> Deployment:
    """The bootstrap's bus with its unit of work and leases on the adopted table."""
    world = Deployment.build(now=NOW)
    for port, adapter in on_table(go_table, world.clock).items():
        world = world.using(port, adapter)
    world.sim.down = {Rail.PINLESS}  # payments go by ACH, which can be returned
    world.users.add("u-1")
    return world


def receivables(world: Deployment, loan_id: str) -> dict[Bucket, int]:
    """The loan's receivable per bucket, as its ledger has it."""
    books = world.ledger(loan_id)
    assert books.trial_balance() == 0
    return {bucket: books.balance(receivable(loan_id, bucket)) for bucket in WATERFALL}


def buckets(late_fee: int, origination_fee: int, principal: int) -> dict[Bucket, int]:
    """Balances by bucket, in the waterfall's order."""
    return dict(zip(WATERFALL, (late_fee, origination_fee, principal), strict=True))


@pytest.mark.usefixtures("go_table")
def test_a_go_loan_with_payments_is_refused_until_adopted(uow_factory: UowFactory) -> None:
    with uow_factory() as uow, pytest.raises(InvariantViolation, match="applications differ"):
        uow.loans.get("u-1", "l-open")


def test_a_dry_run_writes_nothing_and_reports_what_it_would(
    go_table: DynamoTable, dynamodb: DynamoDBClient, tmp_path: Path
) -> None:
    before = snapshot(dynamodb, go_table)
    result = run(go_table, "--report", str(tmp_path / "r.json"), "--segments", "3")
    assert snapshot(dynamodb, go_table) == before
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["applied"] is False
    assert report["counts"]["would adopt"] == 3
    assert report["counts"]["does not verify"] == 1, report["findings"]
    assert report["scanned"] == len(before)
    said = " ".join(result.output.split())
    assert "would write 8 payments and 3 journal entries" in said
    assert "numbers up to 42; dry run: would raise the counter from 0" in said


def test_apply_adopts_what_verifies_and_the_bus_then_reads_it_to_the_cent(
    go_table: DynamoTable, dynamodb: DynamoDBClient, world: Deployment, tmp_path: Path
) -> None:
    bad_before = [i for i in snapshot(dynamodb, go_table) if "l-bad" in i["SK"]["S"]]
    result = run(go_table, "--apply", "--report", str(tmp_path / "r.json"))
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["counts"]["adopted"] == 3
    # the Go service issued FM-000042: the next offer is numbered after it, never with it
    assert "the counter was raised from 0" in " ".join(result.output.split())
    assert DynamoIds(go_table).next_loan_number() == "FM-000043"
    (bad,) = [f for f in report["findings"] if f["outcome"] == "does not verify"]
    assert bad["item_id"] == "l-bad"
    assert "outstanding 4000 != total 5513 - applications 1500" in bad["detail"]
    assert [i for i in snapshot(dynamodb, go_table) if "l-bad" in i["SK"]["S"]] == bad_before

    # adopted: each loan's ledger holds its stored balances, bucket by bucket
    expected = {
        "l-open": buckets(0, 500, 14_013),  # pay-a's 1,000 paid inst 2's fees first
        "l-closed": buckets(0, 0, 0),
        "l-default": buckets(0, 500, 14_013),
    }
    for user, loan_id in LOANS:
        loan = world.loan(loan_id, user)
        assert loan.bucket_balances() == expected[loan_id]
        assert receivables(world, loan_id) == expected[loan_id]
        assert world.ledger(loan_id).entries()[0].kind == "adopted"
    assert world.loan("l-default", "u-3").status is LoanStatus.DEFAULTED
    assert world.loan("l-closed", "u-2").status is LoanStatus.CLOSED
    loan = world.loan("l-open", "u-1")
    pay_a, pay_b = loan.payments["l-open-pay-a"], loan.payments["l-open-pay-b"]
    assert (pay_a.amount, pay_a.process, pay_a.rail) == (6_250, Process.AUTOPAY, Rail.ACH)
    assert (pay_b.amount, pay_b.process, pay_b.status) == (
        500,
        Process.MANUAL,
        PaymentStatus.COMPLETED,
    )
    assert loan.outstanding_balance == 14_513
    for item in go_applications():  # each application reads as the Go service left it
        user, application_id = item["loc_user_id"]["S"], item["loc_loan_application_id"]["S"]
        read = world.loan_application(application_id, user)
        assert read.status.value == item["loc_status"]["S"]
    assert world.loan_application("app-ok", "u-1").expires_at == OFFER_EXPIRES


@pytest.fixture
def adopted(go_table: DynamoTable, world: Deployment) -> Deployment:
    """The deployment's bus once ``loc adopt --apply`` has run on its table."""
    run(go_table, "--apply")
    return world


def test_the_use_cases_serve_an_adopted_loan_to_the_cent_and_a_second_run_writes_nothing(
    go_table: DynamoTable, dynamodb: DynamoDBClient, adopted: Deployment
) -> None:
    world = adopted
    # a return of a payment the Go service took, through the settlement handler
    go_return = settlement("l-open-pay-b", SettlementOutcome.RETURNED, NOW, Rail.ACH)
    assert world.settle(go_return) is SettlementHandling.REVERSED
    assert world.settle(go_return) is SettlementHandling.DUPLICATE
    loan = world.loan("l-open", "u-1")
    assert loan.payments["l-open-pay-b"].status is PaymentStatus.RETURNED
    assert loan.outstanding_balance == 14_513 + 500
    assert receivables(world, "l-open") == loan.bucket_balances() == buckets(0, 500, 14_513)

    # a manual payment, then its return
    receipt = world.pay_loan(loan, 2_000, key="pay-m")
    assert (receipt.amount, receipt.process, receipt.rail) == (2_000, Process.MANUAL, Rail.ACH)
    loan = world.loan("l-open", "u-1")
    assert loan.outstanding_balance == 15_013 - 2_000
    assert receivables(world, "l-open") == loan.bucket_balances() == buckets(0, 500, 12_513)
    returned = settlement(receipt.payment_id, SettlementOutcome.RETURNED, NOW, Rail.ACH)
    assert world.settle(returned) is SettlementHandling.REVERSED
    loan = world.loan("l-open", "u-1")
    assert loan.outstanding_balance == 15_013
    assert receivables(world, "l-open") == loan.bucket_balances() == buckets(0, 500, 14_513)

    # an autopay collection: the job and the worker, on the installment due today; the
    # waterfall pays the overdue inst 2 first (4,513), then inst 3's fee and 487
    (collected,) = world.run_collections()
    assert (collected.outcome, collected.installment_id, collected.amount) == (
        CollectionOutcome.CHARGED,
        "l-open-i3",
        5_250,
    )
    loan = world.loan("l-open", "u-1")
    assert loan.outstanding_balance == 15_013 - 5_250
    assert [(i.status, i.outstanding_balance) for i in loan.installments] == [
        (InstallmentStatus.COMPLETED, 0),
        (InstallmentStatus.COMPLETED, 0),
        (InstallmentStatus.SCHEDULED, 4_513),
        (InstallmentStatus.SCHEDULED, 5_250),
    ]
    assert receivables(world, "l-open") == loan.bucket_balances() == buckets(0, 250, 9_513)
    assert world.ledger("l-open").balance(CLEARING) == 6_250 + 500 - 500 + 2_000 - 2_000 + 5_250

    # a second run writes nothing
    before = snapshot(dynamodb, go_table)
    again = adopt_table(go_table, today=TODAY, now=NOW, apply=True, segments=2)
    assert snapshot(dynamodb, go_table) == before
    assert again.counts()["adopted"] == 0
    assert again.counts()["already served"] == len(LOANS) + APPLICATIONS


def test_an_interrupted_run_resumes_from_its_checkpoint_to_the_same_result(
    go_table: DynamoTable, dynamodb: DynamoDBClient, table: DynamoTable, tmp_path: Path
) -> None:
    go_items = len(snapshot(dynamodb, go_table))
    point = tmp_path / "adopt.json"
    first = adopt_table(
        go_table, today=TODAY, now=NOW, apply=True, segments=2, checkpoint=point, stop_after_pages=1
    )
    saved = json.loads(point.read_text())
    assert saved["scanned"] == first.scanned
    assert any(not p["done"] for p in saved["positions"].values())
    finished = adopt_table(go_table, today=TODAY, now=NOW, apply=True, segments=2, checkpoint=point)
    assert finished.counts()["adopted"] == 3
    assert finished.counts()["does not verify"] == 1
    assert finished.scanned >= go_items  # every Go item, and some of the items written meanwhile

    # the same table adopted in one go holds the same items, bar the posting time
    fresh = f"{table.name}-once"
    other = create_table(dynamodb, fresh)
    try:
        put_go_items(dynamodb, other.name, _go_items(dynamodb, go_table))
        adopt_table(other, today=TODAY, now=NOW, apply=True, segments=1)
        assert _comparable(snapshot(dynamodb, other)) == _comparable(snapshot(dynamodb, go_table))
    finally:
        dynamodb.delete_table(TableName=fresh)


def _go_items(dynamodb: DynamoDBClient, table: DynamoTable) -> list[dict[str, Any]]:
    """The items the Go service wrote (no version, no journal, no payment of ours)."""
    return [
        item
        for item in snapshot(dynamodb, table)
        if item["PK"]["S"].startswith("USER#") and "#PAYMENT#" not in item["SK"]["S"]
    ]


def _comparable(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k != "loc_posted_at"} for item in items]


def test_an_item_changed_between_read_and_write_is_not_overwritten(
    go_table: DynamoTable, dynamodb: DynamoDBClient
) -> None:
    key = {"PK": s("USER#u-1"), "SK": s("LOAN#l-open#INSTALLMENT#l-open-i3")}

    class ChangedMeanwhile(DynamoTable):
        """Another writer changes an installment right after the loan is read."""

        def query(self, *args: Any, **kwargs: Any) -> Any:
            found = list(super().query(*args, **kwargs))
            if any(item["SK"] == "LOAN#l-open" for item in found):
                dynamodb.update_item(
                    TableName=self.name,
                    Key=key,
                    UpdateExpression="SET loc_last_updated = :t",
                    ExpressionAttributeValues={
                        ":t": s(f"2026-01-05T16:00:0{uuid.uuid4().int % 9}Z")
                    },
                )
            return iter(found)

    racing = ChangedMeanwhile(go_table.client, go_table.name, page_size=3)
    report = adopt_table(racing, today=TODAY, now=NOW, apply=True, segments=1)
    (changed,) = [f for f in report.findings if f.outcome is Outcome.CHANGED]
    assert (changed.item_id, changed.outcome.value) == ("l-open", "changed during adoption, retry")
    assert report.counts()["adopted"] == 2
    items = snapshot(dynamodb, go_table)
    assert not [i for i in items if i["SK"]["S"].startswith("LOAN#l-open#PAYMENT#")]
    assert not [i for i in items if i["PK"]["S"] == "JOURNAL#l-open"]
    again = adopt_table(go_table, today=TODAY, now=NOW, apply=True, segments=1)
    assert again.counts()["adopted"] == 1  # a retry adopts it


def charged_by_go(dynamodb: DynamoDBClient, table: DynamoTable) -> None:
    """During the cutover the Go service still charges the loans it serves: its autopay pays
    l-open's inst 3 with a payment this library never saw, and it assesses inst 4's late
    fee, writing its items as it always did."""
    book = open_book("u-1", "l-open")
    pay_c = GoPayment("l-open-pay-c", 5_250, "2026-01-05T12:00:00Z")
    later = attrs.evolve(
        book,
        installments=(
            *book.installments[:2],
            GoInstallment(payments=(pay_c,)),
            GoInstallment(late_fee=263),
        ),
    )
    put_go_items(dynamodb, table.name, go_loan_book(later))


def test_a_loan_the_go_service_charged_after_its_adoption_is_adopted_again(
    go_table: DynamoTable, dynamodb: DynamoDBClient, adopted: Deployment, tmp_path: Path
) -> None:
    charged_by_go(dynamodb, go_table)
    with pytest.raises(InvariantViolation, match="applications differ"):
        adopted.loan("l-open", "u-1")  # the library refuses the loan the Go service changed

    before = snapshot(dynamodb, go_table)
    dry = adopt_table(go_table, today=TODAY, now=NOW, apply=False, segments=2)
    assert snapshot(dynamodb, go_table) == before
    (again,) = [f for f in dry.findings if f.outcome is Outcome.WOULD_ADOPT]
    assert (again.item_id, again.payments, again.entries) == ("l-open", 1, 1)
    assert "changed it since its adoption" in again.detail

    run(go_table, "--apply", "--report", str(tmp_path / "r.json"))
    loan = adopted.loan("l-open", "u-1")
    assert loan.payments["l-open-pay-c"].amount == 5_250
    assert loan.outstanding_balance == 14_513 - 5_250 + 263
    assert receivables(adopted, "l-open") == loan.bucket_balances() == buckets(263, 250, 9_013)
    kinds = [(e.entry_id, e.kind) for e in adopted.ledger("l-open").entries()]
    assert kinds == [("l-open:adopted", "adopted"), ("l-open:adopted:2", "adopted")]
    settled = adopt_table(go_table, today=TODAY, now=NOW, apply=True, segments=2)
    assert settled.counts()["adopted"] == 0  # nothing changed since: served


def test_a_loan_this_library_booked_on_and_the_go_service_changed_is_reported_not_adopted(
    go_table: DynamoTable, dynamodb: DynamoDBClient, adopted: Deployment
) -> None:
    adopted.pay_loan(adopted.loan("l-open", "u-1"), 2_000, key="pay-m")
    charged_by_go(dynamodb, go_table)  # its writes drop the library's payment
    before = snapshot(dynamodb, go_table)
    report = adopt_table(go_table, today=TODAY, now=NOW, apply=True, segments=2)
    (refused,) = [f for f in report.findings if f.item_id == "l-open"]
    assert refused.outcome is Outcome.UNVERIFIED
    assert "cannot be adopted again" in refused.detail
    assert snapshot(dynamodb, go_table) == before


def test_lines_are_checked_to_read_and_a_go_line_of_another_layout_is_reported(
    go_table: DynamoTable, dynamodb: DynamoDBClient, world: Deployment
) -> None:
    world.users.add("u-9")
    line = world.open_line("u-9")  # this library's line and line application: served
    put_go_items(
        dynamodb,
        go_table.name,
        [  # a line and an application as a Go service of its own layout might have left them
            {"PK": s("USER#u-8"), "SK": s("LOC#go-line"), "loc_balance": n(5_000)},
            {"PK": s("USER#u-8"), "SK": s("LOCAPP#go-app"), "loc_status": s("OPEN")},
        ],
    )
    report = adopt_table(go_table, today=TODAY, now=NOW, segments=2)
    outcomes = {(f.kind, f.item_id): f.outcome for f in report.findings if "line" in f.kind}
    assert outcomes == {
        ("line", line.line_id): Outcome.SERVED,
        ("line application", line.application_id): Outcome.SERVED,
        ("line", "go-line"): Outcome.UNVERIFIED,
        ("line application", "go-app"): Outcome.UNVERIFIED,
    }
