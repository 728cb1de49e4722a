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
from fakes import Crash, CrashingOnBooking, FakeRails

from loc_adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from loc_core.creditline import CreditLine, LineStatus
from loc_core.errors import InvalidRequest, NotFound
from loc_core.installment import Loan
from loc_core.payments import PaymentStatus
from loc_core.ports import PaymentRails, Severity, UnitOfWork
from loc_core.services.commands import (
    BookLostTransfer,
    RecoverTransfers,
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


def _late(world: Deployment, loan: Loan, through: dt.date) -> None:
    """The daily jobs up to `through`: the installment the lost debit paid is charged late."""
    world.run_daily_loan_jobs(loan.installments[0].due_date, through)
    assert world.loan(loan.loan_id).installments[0].late_fee > 0  # what the borrower sees


@pytest.mark.parametrize(
    "autopay", [pytest.param(False, id="manual"), pytest.param(True, id="autopay")]
)
def test_a_lost_debit_counts_from_the_day_the_rail_took_it(
    world: Deployment, loan: Loan, *, autopay: bool
) -> None:
    """Taken before the installment was late, booked days after its late fee: no late fee."""
    taken_on = world.at(loan.installments[0].due_date, 10)
    if autopay:
        taken = backup(world.database)
        key = world.collect(loan).payment_id
        restore(world.database, taken)
    else:
        key = pay_and_lose(world, loan)
    _late(world, loan, taken_on + dt.timedelta(days=9))
    world.at(taken_on + dt.timedelta(days=10), 10)
    assert world.bus.handle(lost(loan, key, 5_250, "pinless-00000002")) == "booked"
    booked = world.sound_loan(loan.loan_id)
    first = booked.installments[0]
    assert (first.late_fee, first.outstanding_balance) == (0, 0)
    assert booked.outstanding_balance == 31_500 - 5_250
    assert booked.payments[key].submitted_on == taken_on
    assert f"{key}:adjust" in world.ledger(loan.loan_id)
    if autopay:
        assert (first.collection_attempts, first.last_collection_attempt_on) == (1, taken_on)
    assert booked.payments[key].status is PaymentStatus.PENDING  # its rail settles it:
    (completed,) = [e for e in world.sim.due_events() if e.idempotency_key == key]
    assert world.settle(completed) is SettlementHandling.SETTLED
    assert world.loan(loan.loan_id).payments[key].status is PaymentStatus.COMPLETED
    with pytest.raises(InvalidRequest, match="it is not lost"):
        world.bus.handle(lost(loan, key, 5_250, "pinless-00000002"))


def _billed_line(world: Deployment) -> CreditLine:
    """A line opened 03-05 with 40,000 drawn 03-12, billed 04-05: 1,989 due 04-27."""
    world.at(dt.date(2026, 3, 5), 14)
    return world.billed_line()


def _line_pays(world: Deployment, line: CreditLine, kind: str) -> str:
    """The borrower's payment (04-20, or 04-28 after that day's overdue job charged the
    cycle late), or the due job's debit on 04-27; its key."""
    if kind.startswith("pay"):
        if kind == "pay-after-job":
            world.at(dt.date(2026, 4, 28), 16)
            world.overdue()
            world.at(dt.date(2026, 4, 28), 20)
        else:
            world.at(dt.date(2026, 4, 20), 10)
        world.pay_line(line, 1_989, key="lost")
        return f"pay:{line.line_id}:lost:pinless"
    world.at(dt.date(2026, 4, 27), 15)
    world.due()
    (request,) = [r for r in world.sim.submitted if r.idempotency_key.startswith("due:")]
    return request.idempotency_key


@pytest.mark.parametrize("kind", ["pay", "due", "pay-after-job"])
def test_a_lost_line_debit_counts_from_the_day_the_rail_took_it(kind: str) -> None:
    """Booked after the overdue job charged its cycle late: the line is as if never lost
    (a payment taken after its day's overdue job still came after that job's late fee)."""
    on_time, late = Deployment.build(seed=11), Deployment.build(seed=11)
    line, late_line = _billed_line(on_time), _billed_line(late)
    _line_pays(on_time, line, kind)
    taken = backup(late.database)
    key = _line_pays(late, late_line, kind)
    restore(late.database, taken)
    for world in (on_time, late):
        world.at(dt.date(2026, 4, 29), 16)
        world.overdue()
    assert (late.line(late_line).status, late.line(late_line).fee_balance) == (
        LineStatus.SUSPENDED,
        500,
    )
    late.at(dt.date(2026, 5, 2), 10)
    found = late.sim.find(key)
    assert found is not None
    command = BookLostTransfer(
        late_line.user_id, late_line.line_id, key, 1_989, found.confirmation_id, "report"
    )
    assert late.bus.handle(command) == "booked"
    booked, expected = late.line(late_line), on_time.line(line)
    assert (booked.status, booked.fee_balance, booked.past_due_since) == (
        expected.status,
        expected.fee_balance,
        expected.past_due_since,
    )
    # Before the overdue job of its day, it kept the fee away; after it, it paid the fee.
    assert booked.payments[key].paid_fees == (500 if kind == "pay-after-job" else 0)
    assert booked.payments[key].submitted_on == expected.payments[key].submitted_on
    # The late fee it kept away is taken back, once (after its day's job: nothing posted).
    assert (f"{key}:adjust" in late.ledger(late_line.line_id)) is (kind != "pay-after-job")
    for world in (on_time, late):
        world.at(dt.date(2026, 5, 5), 8)
        world.bill()
    assert late.line(late_line).balances == on_time.line(line).balances  # interest too
    with pytest.raises(InvalidRequest, match="it is not lost"):
        late.bus.handle(command)


def test_a_lost_debit_taken_after_its_days_job_counts_after_that_job(
    world: Deployment, loan: Loan
) -> None:
    """Paid at 18:00 on the day the 17:00 job charged the installment late: the fee stands."""
    due = loan.installments[0].due_date
    overdue_on = due + dt.timedelta(days=5)
    _late(world, loan, overdue_on)
    world.at(overdue_on, 18)
    key = pay_and_lose(world, loan)
    world.run_daily_loan_jobs(overdue_on + dt.timedelta(days=1), overdue_on + dt.timedelta(days=3))
    world.at(overdue_on + dt.timedelta(days=4), 10)
    assert world.bus.handle(lost(loan, key, 5_250, "pinless-00000002")) == "booked"
    booked = world.sound_loan(loan.loan_id)
    first = booked.installments[0]
    assert (first.late_fee, first.outstanding_balance) == (263, 263)
    assert (booked.payments[key].submitted_on, booked.payments[key].after_daily_job) == (
        overdue_on,
        True,
    )


def test_a_lost_payoff_booked_after_a_second_payoff_makes_the_later_one_a_refund_due(
    world: Deployment, loan: Loan
) -> None:
    taken = backup(world.database)
    world.pay_loan(loan, 31_500, key="lost")
    restore(world.database, taken)
    world.at(world.today + dt.timedelta(days=1), 10)
    world.pay_loan(loan, 31_500, key="again")  # the books said it was still owed
    world.at(world.today + dt.timedelta(days=2), 10)
    key = f"manual:{loan.loan_id}:lost:pinless"
    assert world.bus.handle(lost(loan, key, 31_500, "pinless-00000002")) == "booked"
    booked = world.sound_loan(loan.loan_id)
    again = booked.payments[f"manual:{loan.loan_id}:again:pinless"]
    assert (booked.outstanding_balance, booked.payments[key].refund) == (0, None)
    assert again.refund is not None
    assert again.refund.amount == 31_500
    (refund,) = [a for a in world.alerts(Severity.WARNING) if a.title == "refund due"]
    assert refund.details["payment_id"] == again.payment_id


def test_a_lost_debit_is_refused_when_its_rail_does_not_say_the_day(
    world: Deployment, loan: Loan
) -> None:
    key = pay_and_lose(world, loan)
    found = world.sim.find(key)
    assert found is not None
    silent = FakeRails(world.sim.submit, answered={key: attrs.evolve(found, accepted_at=None)})
    bus = world.replacing(PaymentRails, silent)
    with pytest.raises(InvalidRequest, match="does not say when it took") as refused:
        bus.handle(lost(loan, key, 5_250, found.confirmation_id))
    assert refused.value.key == "transfer_key"
    assert world.sound_loan(loan.loan_id).outstanding_balance == 31_500  # nothing booked
    assert world.bus.handle(lost(loan, key, 5_250, found.confirmation_id)) == "booked"


def test_a_lost_debit_whose_booking_died_is_booked_by_the_recovery_job_as_of_its_day(
    world: Deployment, loan: Loan
) -> None:
    taken_on = world.at(loan.installments[0].due_date, 10)
    key = pay_and_lose(world, loan)
    _late(world, loan, taken_on + dt.timedelta(days=9))
    world.at(taken_on + dt.timedelta(days=10), 10)
    dying = world.replacing(UnitOfWork, CrashingOnBooking(InMemoryUnitOfWork(world.database)))
    with pytest.raises(Crash):
        dying.handle(lost(loan, key, 5_250, "pinless-00000002"))
    world.at(taken_on + dt.timedelta(days=10), 11)
    assert world.bus.handle(RecoverTransfers()).booked == 1
    booked = world.sound_loan(loan.loan_id)
    assert (booked.installments[0].late_fee, booked.payments[key].submitted_on) == (0, taken_on)


def test_a_lost_debit_beyond_the_correction_reach_is_refused_from_the_command_line(
    world: Deployment, loan: Loan
) -> None:
    pytest.importorskip("click", reason="the cli extra is not installed")
    from click.testing import CliRunner  # noqa: PLC0415 - only with the cli extra

    from loc_entrypoints.cli import main  # noqa: PLC0415 - same

    taken_on = world.today
    key = pay_and_lose(world, loan)
    world.at(taken_on + dt.timedelta(days=121), 10)
    args = ["transfers", "book", key, "--user", loan.user_id, "--account", loan.loan_id]
    args += ["--amount", "5250", "--confirmation", "pinless-00000002", "--reason", "report"]
    refused = CliRunner().invoke(main, args, obj={"bus": world.bus})
    assert refused.exit_code == 1, refused.output
    (said,) = [line for line in refused.output.splitlines() if line.startswith("Error:")]
    assert f"was taken on {taken_on}, more than 120 days" in said
    (page,) = [a for a in world.alerts(Severity.CRITICAL) if "too old" in a.title]
    assert page.details["taken_on"] == taken_on.isoformat()
    with world.bus.get(UnitOfWork) as uow:
        assert uow.intents.find(key.rpartition(":")[0]) is None  # nothing written
    assert world.loan(loan.loan_id).outstanding_balance == 31_500
