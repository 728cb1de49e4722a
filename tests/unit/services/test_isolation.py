"""Reads belong to their owner: no query returns one borrower's records to another.

Two borrowers each hold a loan with a payment and a line with a draw, a payment and a
statement. Every query of a borrower's records is asked by the other borrower with the
owner's ids, and by look-alike ids an attacker could send (``alice#``, ``USER#alice``,
``bob#LOAN#<id>``): each answers `NotFound` naming the asker, never the record; a command
on another borrower's loan or line is refused the same way, moving no money. The
property runs over generated look-alike user ids (one a prefix, suffix or case variant of
the other). The test body asks its storage of the `storage` fixture, so the DynamoDB
suite runs it unchanged on its own tables (``tests/integration``).
"""

from __future__ import annotations

import datetime as dt
import functools
import string
from collections.abc import Callable, Iterator, Mapping

import attrs
import pytest
from deployment import LINES_OPENED, Deployment
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from loc_core.creditline import CreditLine
from loc_core.errors import InvalidRequest, LocError, NotFound
from loc_core.installment import Loan
from loc_core.services.commands import (
    AcceptOffer,
    CloseLine,
    DrawFromLine,
    GetLine,
    GetLineApplication,
    GetLinePaymentReceipt,
    GetLineStatement,
    GetLoan,
    GetLoanApplication,
    GetPaymentReceipt,
    ListLineApplications,
    ListLines,
    ListLineStatements,
    ListLoanApplications,
    ListLoans,
    MakePayment,
    PayLine,
    ReadAuditTrail,
    ReconcileLine,
    ReconcileLoan,
    SetAutopay,
    SetLineAutopay,
)
from loc_core.services.messagebus import Command

__all__ = ["Storage", "look_alikes", "no_read_crosses_users"]

Storage = Callable[[Deployment], Mapping[type, object]]
"""The adapters a deployment stores in, by port (`{UnitOfWork: ...}`); none: in memory."""

BILLED = dt.date(2026, 4, 5)
"""The statement date of the lines opened on 2026-03-05 (cycle day 5)."""

ID_CHARACTERS = string.ascii_letters + string.digits + "-_.:@"
"""What a valid id is made of (docs/foundations.md): never ``#``, the key separator."""


@attrs.frozen
class Borrower:
    """One borrower's records, and every query that reads one of them by its ids."""

    user_id: str
    loan: Loan
    payment_id: str
    line: CreditLine
    line_payment_id: str

    def queries(self, asker: str) -> Iterator[Callable[[], Command[object]]]:
        """Every read of this borrower's records, as `asker` would send it (built on call:
        an asker that is no valid id is refused when the command is built)."""
        loan_id, line_id = self.loan.loan_id, self.line.line_id
        yield lambda: GetLoan(asker, loan_id)
        yield lambda: GetPaymentReceipt(asker, self.payment_id)
        yield lambda: ReconcileLoan(asker, loan_id)
        yield lambda: GetLine(asker, line_id)
        yield lambda: GetLinePaymentReceipt(asker, line_id, self.line_payment_id)
        yield lambda: ListLineStatements(asker, line_id)
        yield lambda: GetLineStatement(asker, line_id, BILLED)
        yield lambda: ReconcileLine(asker, line_id)
        yield lambda: GetLoanApplication(asker, self.loan.application_id)
        yield lambda: GetLineApplication(asker, self.line.application_id)


def borrow(world: Deployment, user_id: str) -> Borrower:
    """`user_id` opens a loan and a line on 2026-03-05 14:00 (the clock's time)."""
    loan = world.open_loan(user_id)
    line = world.accept_line(
        world.apply_line(user_id, key=f"line-{user_id}").application_id, user_id
    )
    return Borrower(user_id, loan, "", line, "")


def pay(world: Deployment, borrower: Borrower) -> Borrower:
    """The borrower draws on the line and pays both (on 2026-03-12)."""
    user = borrower.user_id
    paid = world.pay_loan(borrower.loan, 2_000, key=f"pay-{user}")
    world.draw(borrower.line, 40_000, key=f"draw-{user}")
    line_paid = world.pay_line(borrower.line, 1_000, key=f"lpay-{user}")
    return attrs.evolve(borrower, payment_id=paid.payment_id, line_payment_id=line_paid.payment_id)


def two_borrowers(storage: Storage, first: str, second: str) -> tuple[Deployment, list[Borrower]]:
    """A deployment on `storage` where both users borrow, pay and get a statement."""
    world = Deployment.build(now=LINES_OPENED, seed=11)
    world.bus = world.bus.replacing(storage(world))
    opened = [borrow(world, user) for user in (first, second)]
    world.at(dt.date(2026, 3, 12))
    borrowers = [pay(world, borrower) for borrower in opened]
    world.at(BILLED, 8)
    world.bill()
    return world, borrowers


def refused(
    world: Deployment, query: Command[object] | Callable[[], Command[object]], asker: str
) -> LocError:
    """The error `query` is refused with; it names the asker, and nothing else of theirs.

    A look-alike id that is not a valid id at all may be refused when the command is
    built (`InvalidRequest`, from the boundary validation) rather than `NotFound`.
    """
    alerts = len(world.alerter.posted)
    with pytest.raises(LocError) as caught:
        world.bus.handle(query if isinstance(query, Command) else query())
    error = caught.value
    assert isinstance(error, NotFound | InvalidRequest), repr(error)
    if isinstance(error, NotFound):
        assert error.user_id == asker, error.context
    assert len(world.alerter.posted) == alerts, "a refused read alerted operations"
    return error


def no_read_crosses_users(storage: Storage, first: str, second: str) -> None:
    """Each of two borrowers reads their own records, and none of the other's."""
    world, borrowers = two_borrowers(storage, first, second)
    for owner, other in (borrowers, borrowers[::-1]):
        mine = world.bus.handle(GetPaymentReceipt(owner.user_id, owner.payment_id))
        assert (mine.user_id, mine.loan_id) == (owner.user_id, owner.loan.loan_id)
        assert world.bus.handle(GetLoan(owner.user_id, owner.loan.loan_id)).user_id == owner.user_id
        assert world.bus.handle(ReconcileLoan(owner.user_id, owner.loan.loan_id)).matches
        assert world.bus.handle(ReconcileLine(owner.user_id, owner.line.line_id)).matches
        [statement] = world.bus.handle(ListLineStatements(owner.user_id, owner.line.line_id))
        assert statement.user_id == owner.user_id
        user = owner.user_id
        assert [loan.loan_id for loan in world.bus.handle(ListLoans(user))] == [owner.loan.loan_id]
        assert [line.line_id for line in world.bus.handle(ListLines(user))] == [owner.line.line_id]
        assert [a.application_id for a in world.bus.handle(ListLoanApplications(user))] == [
            owner.loan.application_id
        ]
        assert [a.application_id for a in world.bus.handle(ListLineApplications(user))] == [
            owner.line.application_id
        ]
        trail = world.bus.handle(ReadAuditTrail("loan", owner.loan.loan_id)).records
        assert trail
        assert {record.change.user_id for record in trail} == {user}
        for query in owner.queries(other.user_id):
            refused(world, query, other.user_id)
        # the asker's own line with the owner's payment on it
        mixed = GetLinePaymentReceipt(other.user_id, other.line.line_id, owner.line_payment_id)
        refused(world, mixed, other.user_id)
        for hostile in (
            f"{owner.user_id}#",
            f"USER#{owner.user_id}",
            f"{other.user_id}#LOAN#{owner.loan.loan_id}",
            f"{other.user_id}#LOC#{owner.line.line_id}",
        ):
            for query in owner.queries(hostile):
                refused(world, query, hostile)
    assert world.alerter.posted == []


@pytest.fixture
def storage() -> Storage:
    """The deployment's own in-memory storage; a storage adapter's suite overrides this."""
    return lambda _world: {}


@st.composite
def look_alikes(draw: st.DrawFn) -> tuple[str, str]:
    """Two different valid user ids, one a prefix, suffix or case variant of the other."""
    base = draw(st.text(ID_CHARACTERS, min_size=1, max_size=24))
    affix = draw(st.text(ID_CHARACTERS, min_size=1, max_size=8))
    separator = draw(st.sampled_from("-.:@_"))
    other = draw(
        st.sampled_from(
            [
                base + affix,
                affix + base,
                base + separator + affix,
                affix + separator + base,
                base.swapcase(),
                base.upper(),
                base.lower(),
                base + separator,
            ]
        )
    )
    if other == base:
        other = base + separator
    pair = (base, other)
    return pair[::-1] if draw(st.booleans()) else pair


def isolation_property(examples: int) -> Callable[[Storage], None]:
    """The isolation property over `examples` generated pairs of look-alike user ids,
    plus the fixed ones, on whatever store the `storage` fixture gives."""

    @settings(max_examples=examples, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(pair=look_alikes())
    @example(pair=("alice", "alice2"))
    @example(pair=("us-east-1:4f9a", "us-east-1:4f9a.b"))
    @example(pair=("Bob", "bob"))
    def no_read_path_returns_one_users_records_to_another(
        storage: Storage, pair: tuple[str, str]
    ) -> None:
        no_read_crosses_users(storage, *pair)

    return no_read_path_returns_one_users_records_to_another


test_no_read_path_returns_one_users_records_to_another = isolation_property(100)


# --- each query, asked by another borrower (in memory) ---------------------------------


@pytest.fixture
def world_of_two() -> tuple[Deployment, Borrower, Borrower]:
    """alice and bob, each with a paid loan and a billed line."""
    world, (alice, bob) = two_borrowers(lambda _world: {}, "alice", "bob")
    return world, alice, bob


QUERIES = [
    "GetLoan",
    "GetPaymentReceipt",
    "ReconcileLoan",
    "GetLine",
    "GetLinePaymentReceipt",
    "ListLineStatements",
    "GetLineStatement",
    "ReconcileLine",
    "GetLoanApplication",
    "GetLineApplication",
]


@pytest.mark.parametrize("name", QUERIES)
def test_another_borrower_asking_by_id_gets_not_found_naming_only_the_asker(
    world_of_two: tuple[Deployment, Borrower, Borrower], name: str
) -> None:
    world, alice, _bob = world_of_two
    [query] = [q() for q in alice.queries("bob") if type(q()).__name__ == name]
    error = refused(world, query, "bob")
    assert isinstance(error, NotFound)
    assert error.user_id == "bob"
    assert error.entity in {
        "loan",
        "line",
        "payment",
        "statement",
        "loan_application",
        "line_application",
    }
    assert error.entity_id in {
        alice.loan.application_id,
        alice.line.application_id,
        alice.loan.loan_id,
        alice.line.line_id,
        alice.payment_id,
        f"{alice.line.line_id}#{BILLED}",
    }
    message = str(error)  # names the ids bob sent, nothing he did not
    assert alice.loan.loan_number not in message
    assert "outstanding" not in message
    if isinstance(query, GetPaymentReceipt):  # as if nobody had made that payment
        nobody = refused(world, GetPaymentReceipt("bob", "pay-nobody"), "bob")
        assert message == str(nobody).replace("pay-nobody", alice.payment_id)


def test_the_issues_look_alike_ids_reconcile_nothing(
    world_of_two: tuple[Deployment, Borrower, Borrower],
) -> None:
    world, alice, _bob = world_of_two
    for asker in ("alice#", "USER#alice", f"bob#LOAN#{alice.loan.loan_id}"):
        refused(world, functools.partial(ReconcileLoan, asker, alice.loan.loan_id), asker)
        refused(world, functools.partial(ReconcileLine, asker, alice.line.line_id), asker)
    assert world.alerter.posted == []


def test_commands_on_another_borrowers_records_change_nothing_and_move_no_money(
    world_of_two: tuple[Deployment, Borrower, Borrower],
) -> None:
    world, alice, _bob = world_of_two
    world.users.add("bob")
    commits, moved = world.database.commits, len(world.sim.submitted)
    for command in (
        SetAutopay("bob", alice.loan.loan_id, enabled=False),
        MakePayment("bob", alice.loan.loan_id, 1_000, "bob-pays-alice"),
        DrawFromLine("bob", alice.line.line_id, 1_000, "bob-draws-alice"),
        PayLine("bob", alice.line.line_id, 1_000, "bob-pays-alices-line"),
        CloseLine("bob", alice.line.line_id),
        SetLineAutopay("bob", alice.line.line_id, enabled=False),
        AcceptOffer("bob", alice.loan.application_id),
    ):
        refused(world, command, "bob")
    assert (world.database.commits, len(world.sim.submitted)) == (commits, moved)
