"""The table restored from a point-in-time backup that is behind the payment rails.

PayEngine moved money in the lost window that the restored table does not know. A job
run again sends its debit under the same key (the installment's attempt, the line's due
date), so the rail answers with the transfer it took; a borrower's payment is not sent
again by anyone, so its debit is lost to the books until an operator books it from the
processor's report (`BookLostTransfer`, ``loc transfers book``).
"""

import copy
import datetime as dt
from typing import Any

import attrs
import pytest
from deployment import Deployment

from loc_adapters.memory import InMemoryDatabase
from loc_core.creditline import CreditLine
from loc_core.errors import InvalidRequest, NotFound
from loc_core.installment import Loan
from loc_core.ports import Severity
from loc_core.services.commands import (
    BookLostTransfer,
    SettlementHandling,
    SettleTransfer,
)

_NOT_RESTORED = frozenset({"clock", "lock", "leases"})


def backup(database: InMemoryDatabase) -> dict[str, Any]:
    """What a point-in-time backup of the table holds now."""
    return {
        field.name: copy.deepcopy(getattr(database, field.name))
        for field in attrs.fields(InMemoryDatabase)
        if field.name not in _NOT_RESTORED
    }


def restore(database: InMemoryDatabase, taken: dict[str, Any]) -> None:
    """The table as the backup had it: everything written since is lost."""
    for name, value in taken.items():
        setattr(database, name, copy.deepcopy(value))


@pytest.fixture
def loan(world: Deployment) -> Loan:
    made = world.open_loan()
    world.settle_due()
    world.at(made.installments[0].due_date - dt.timedelta(days=1), 10)
    return made


def lost(loan: Loan, key: str, amount: int, confirmation: str) -> BookLostTransfer:
    return BookLostTransfer(
        loan.user_id, loan.loan_id, key, amount, confirmation, "PayEngine report of 2026-01-19"
    )


def pay_and_lose(world: Deployment, loan: Loan) -> str:
    """A borrower's 5,250-cent payment the rail took, lost to a restore; its key."""
    taken = backup(world.database)
    world.pay_loan(loan, 5_250, key="lost")
    restore(world.database, taken)
    return f"manual:{loan.loan_id}:lost:pinless"


def test_autopay_run_again_after_a_restore_takes_the_installment_once(
    world: Deployment, loan: Loan
) -> None:
    world.at(loan.installments[0].due_date)
    world.sim.take_submitted()
    taken = backup(world.database)
    (first,) = world.run_collections()
    restore(world.database, taken)
    (again,) = world.run_collections()  # the same attempt, the same key: the rail's answer
    assert again.payment_id == first.payment_id
    assert [r.idempotency_key for r in world.sim.take_submitted()] == [first.payment_id]
    assert world.sound_loan(loan.loan_id).outstanding_balance == 31_500 - 5_250


def test_a_payment_lost_in_a_restore_is_booked_from_the_rails_report(
    world: Deployment, loan: Loan
) -> None:
    key = pay_and_lose(world, loan)
    world.at(loan.installments[0].due_date - dt.timedelta(days=1), 12)
    (completed,) = world.sim.due_events()
    with pytest.raises(NotFound):  # the rail's event names a transfer the table lost
        world.bus.handle(SettleTransfer(completed))
    (said,) = [a for a in world.alerts(Severity.CRITICAL) if "no loan or line" in a.title]
    assert said.details["idempotency_key"] == key  # what the operator looks for
    with pytest.raises(InvalidRequest, match=r"confirms transfer .* as 'pinless-00000002'"):
        world.bus.handle(lost(loan, key, 5_250, "pinless-9"))
    assert world.bus.handle(lost(loan, key, 5_250, "pinless-00000002")) == "booked"
    assert world.settle(completed) is SettlementHandling.SETTLED  # the event, replayed
    booked = world.sound_loan(loan.loan_id)
    assert booked.payments[key].amount == 5_250
    assert booked.outstanding_balance == 31_500 - 5_250
    with pytest.raises(InvalidRequest, match="it is not lost"):
        world.bus.handle(lost(loan, key, 5_250, "pinless-00000002"))
    (alert,) = [a for a in world.alerts(Severity.WARNING) if "lost transfer" in a.title]
    assert alert.details["reason"] == "PayEngine report of 2026-01-19"
    world.at(loan.installments[0].due_date)
    assert world.run_collections() == []  # the installment is paid: no second debit


def test_a_lost_debit_is_booked_for_what_the_rail_moved_never_a_typed_amount(
    world: Deployment, loan: Loan
) -> None:
    key = pay_and_lose(world, loan)
    for typo in (525, 52_500, 5_251):
        with pytest.raises(InvalidRequest, match=r"records transfer .* as 5250 cents") as refused:
            world.bus.handle(lost(loan, key, typo, "pinless-00000002"))
        assert refused.value.key == "amount"
    assert world.sound_loan(loan.loan_id).outstanding_balance == 31_500  # nothing booked
    assert world.bus.handle(lost(loan, key, 5_250, "pinless-00000002")) == "booked"
    assert world.sound_loan(loan.loan_id).outstanding_balance == 31_500 - 5_250


def test_a_lost_autopay_debit_is_booked_as_its_attempt(world: Deployment, loan: Loan) -> None:
    world.at(loan.installments[0].due_date)
    taken = backup(world.database)
    (charged,) = world.run_collections()
    restore(world.database, taken)
    assert world.bus.handle(lost(loan, charged.payment_id, 5_250, "pinless-00000002")) == "booked"
    booked = world.sound_loan(loan.loan_id)
    assert booked.installments[0].collection_attempts == 1
    assert booked.outstanding_balance == 31_500 - 5_250


def test_only_a_debit_the_rail_took_on_the_borrowers_account_is_booked(
    world: Deployment, loan: Loan
) -> None:
    for key, problem in [
        (f"disburse:user-1:{loan.application_id}:pinless", "is handled by hand"),
        (f"manual:{loan.loan_id}:never:pinless", "never received it"),
        ("manual:other-loan:k:pinless", "is not a debit on"),
        (f"autopay:{loan.loan_id}:1:ach", "not an autopay attempt"),
        (f"manual:{loan.loan_id}:k:swift", "is not the transfer key of a debit"),
    ]:
        with pytest.raises(InvalidRequest, match=problem):
            world.bus.handle(lost(loan, key, 100, "c-1"))
    with pytest.raises(NotFound):
        world.bus.handle(
            BookLostTransfer("user-2", loan.loan_id, f"manual:{loan.loan_id}:k:ach", 1, "c", "r")
        )
    assert world.sound_loan(loan.loan_id).outstanding_balance == 31_500


def test_a_line_payment_lost_in_a_restore_is_booked_from_the_command_line(
    world: Deployment,
) -> None:
    pytest.importorskip("click", reason="the cli extra is not installed")
    from click.testing import CliRunner  # noqa: PLC0415 - only with the cli extra

    from loc_entrypoints.cli import main  # noqa: PLC0415 - same

    world.at(dt.date(2026, 3, 5), 14)
    line: CreditLine = world.open_line()
    world.draw(line, 50_000)
    taken = backup(world.database)
    world.pay_line(line, 20_000, key="lost")
    restore(world.database, taken)
    args = ["transfers", "book", f"pay:{line.line_id}:lost:pinless", "--user", "user-1"]
    args += ["--account", line.line_id, "--amount", "20000", "--reason", "PayEngine report"]
    runner = CliRunner()
    wrong = runner.invoke(main, [*args, "--confirmation", "c-1"], obj={"bus": world.bus})
    assert wrong.exit_code == 1, wrong.output
    mangled = [args[0], args[1], "pay lost", *args[3:], "--confirmation", "c-1"]
    refused = runner.invoke(main, mangled, obj={"bus": world.bus})
    assert refused.exit_code == 2, refused.output  # named as the operator typed it
    assert "transfer_key must be" in " ".join(refused.output.split())
    confirmation = world.sim.find(f"pay:{line.line_id}:lost:pinless")
    assert confirmation is not None
    done = runner.invoke(
        main, [*args, "--confirmation", confirmation.confirmation_id], obj={"bus": world.bus}
    )
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"transfer pay:{line.line_id}:lost:pinless (user user-1): booked"
    assert world.line(line).principal_balance == 50_000 - 20_000
