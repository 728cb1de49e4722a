"""A money movement no rail can tell about, settled by an operator (`SettleTransferByHand`).

Such a movement stays PENDING through every recovery run and holds back every other
debit on its loan or line; the operator, who learned its fate at the bank, books it or
abandons it, and the borrower can pay again.
"""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import Crash, CrashingUnitOfWork, Silent, timing_out

from loc_core.creditline import DrawStatus
from loc_core.errors import (
    DebitUnconfirmed,
    ExternalServiceError,
    InvalidRequest,
    InvalidTransition,
)
from loc_core.installment import Loan
from loc_core.intents import IntentStatus
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import (
    PaymentRails,
    SettlementEvent,
    Severity,
    TransferRequest,
    TransferResult,
    UnitOfWork,
)
from loc_core.services.commands import MakePayment, RecoverTransfers, SettleTransferByHand
from loc_core.services.handling import SettlementHandling
from loc_core.services.messagebus import MessageBus


@pytest.fixture
def loan(world: Deployment) -> Loan:
    made = world.open_loan()
    world.at(dt.date(2026, 1, 12), 10)
    return made


def stuck(world: Deployment, loan: Loan) -> tuple[MessageBus, str]:
    """A $100.00 payment the rail took, its answer lost, and a rail that cannot tell."""
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})
    with pytest.raises(ExternalServiceError):
        world.pay_loan(loan, 10_000, key="lost")
    bus = world.replacing(PaymentRails, Silent(world.sim.submit))
    world.clock.advance(dt.timedelta(hours=1))
    assert bus.handle(RecoverTransfers()).failed == 1
    with pytest.raises(DebitUnconfirmed):
        bus.handle(MakePayment("user-1", loan.loan_id, 1_000, "next"))
    return bus, f"manual:{loan.loan_id}:lost"


def by_hand(intent_id: str, *, moved: bool, rail: Rail | None = None) -> SettleTransferByHand:
    return SettleTransferByHand(
        "user-1",
        intent_id,
        moved,
        "on the processor's settlement report of 2026-01-12",
        rail,
        "conf-77" if moved else "",
    )


def test_a_movement_the_operator_saw_move_is_booked_and_the_borrower_can_pay_again(
    world: Deployment, loan: Loan
) -> None:
    bus, intent_id = stuck(world, loan)
    with pytest.raises(InvalidRequest, match="offered to pinless, ach, not rtp"):
        bus.handle(by_hand(intent_id, moved=True, rail=Rail.RTP))
    assert bus.handle(by_hand(intent_id, moved=True, rail=Rail.PINLESS)) == "booked"
    paid = world.loan(loan.loan_id)
    assert paid.payments[f"{intent_id}:pinless"].amount == 10_000
    assert paid.outstanding_balance == 31_500 - 10_000
    with pytest.raises(InvalidTransition, match="is BOOKED"):
        bus.handle(by_hand(intent_id, moved=True, rail=Rail.PINLESS))
    world.pay_loan(loan, 1_000, key="next")
    assert world.loan(loan.loan_id).outstanding_balance == 31_500 - 11_000
    (said,) = [a for a in world.alerts(Severity.WARNING) if "settled by hand" in a.title]
    assert said.details["reason"] == "on the processor's settlement report of 2026-01-12"


def test_a_movement_the_operator_saw_fail_is_abandoned_and_a_rail_that_answers_is_not_overruled(
    world: Deployment, loan: Loan
) -> None:
    bus, intent_id = stuck(world, loan)
    with pytest.raises(InvalidRequest, match="the recovery job settles it"):
        world.bus.handle(by_hand(intent_id, moved=False))  # the simulated rail answers: moved
    assert bus.handle(by_hand(intent_id, moved=False)) == "abandoned"
    with world.bus.get(UnitOfWork) as uow:
        assert uow.intents.get("user-1", intent_id).status is IntentStatus.ABANDONED
    world.pay_loan(loan, 1_000, key="next")
    assert world.loan(loan.loan_id).outstanding_balance == 31_500 - 1_000


def test_a_settlement_by_hand_must_say_how_the_money_moved() -> None:
    with pytest.raises(InvalidRequest, match="rail and the confirmation"):
        SettleTransferByHand("user-1", "manual:l:k", True, "seen", None, "")  # noqa: FBT003 - positional as the CLI builds it
    with pytest.raises(InvalidRequest, match="names no rail"):
        SettleTransferByHand("user-1", "manual:l:k", False, "seen", Rail.ACH, "")  # noqa: FBT003 - same


def test_the_operator_settles_it_from_the_command_line(world: Deployment, loan: Loan) -> None:
    pytest.importorskip("click", reason="the cli extra is not installed")
    from click.testing import CliRunner  # noqa: PLC0415 - only with the cli extra

    from loc_entrypoints.cli import main  # noqa: PLC0415 - same

    bus, intent_id = stuck(world, loan)
    args = ["transfers", "settle", intent_id, "--user", "user-1", "--reason", "bank report"]
    runner = CliRunner()
    unsaid = runner.invoke(main, args, obj={"bus": bus})
    assert unsaid.exit_code == 2, unsaid.output  # neither --moved nor --not-moved
    no_rail = runner.invoke(main, [*args, "--moved"], obj={"bus": bus})
    assert no_rail.exit_code == 1, no_rail.output
    assert "rail and the confirmation" in no_rail.output
    done = runner.invoke(
        main, [*args, "--moved", "--rail", "pinless", "--confirmation", "c-9"], obj={"bus": bus}
    )
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"transfer {intent_id} (user user-1): booked"
    (said,) = [a for a in world.alerts(Severity.WARNING) if "settled by hand" in a.title]
    assert said.details["reason"] == "operator (loc transfers settle): bank report"


def test_a_draw_its_live_attempt_is_still_moving_is_not_settled_by_hand(world: Deployment) -> None:
    """A draw holds no lease: while its attempt asks a rail, the operator must wait."""
    line = world.open_line()
    operator = world.another_process({PaymentRails: Silent(world.sim.submit)})
    refused: list[Exception] = []

    def meanwhile(request: TransferRequest) -> TransferResult:
        intent_id = request.idempotency_key.rsplit(":", 1)[0]
        with pytest.raises(InvalidRequest, match="live attempt may still be moving") as said:
            operator.handle(by_hand(intent_id, moved=False))
        refused.append(said.value)
        return world.sim.submit(request)

    world.rails.handler = meanwhile
    draw = world.draw(line, 20_000, key="d1")
    assert refused
    assert world.line(line).principal_balance == 20_000
    assert world.line(line).draws[draw.draw_id].status is DrawStatus.DISBURSED


def test_a_draw_and_a_disbursement_the_operator_saw_move_are_booked(world: Deployment) -> None:
    line = world.open_line("user-1")
    world.users.add("user-2")
    offer = world.apply_loan("user-2", key="apply-2")
    world.rails.handler = timing_out(world.sim, set(Rail))
    with pytest.raises(ExternalServiceError):
        world.draw(line, 20_000, key="d1")
    with pytest.raises(ExternalServiceError):
        world.accept_loan(offer.application_id, "user-2")
    bus = world.replacing(PaymentRails, Silent(world.sim.submit))
    world.clock.advance(dt.timedelta(minutes=6))
    with bus.get(UnitOfWork) as uow:
        (draw, disbursement) = [
            uow.intents.get(ref.user_id, ref.intent_id)
            for ref in uow.intents.open_before(world.clock.now())
        ]
    for intent in (draw, disbursement):
        settled = SettleTransferByHand(
            intent.user_id,
            intent.intent_id,
            moved=True,
            reason="bank report",
            rail=intent.rails[0],
            confirmation_id="c-1",
        )
        assert bus.handle(settled) == "booked"
    assert world.line(line).principal_balance == 20_000
    loan_id = world.database.loan_for_application("user-2", offer.application_id)
    assert loan_id is not None
    assert world.loan(loan_id, "user-2").outstanding_balance == offer.total_amount


def test_a_movement_abandoned_by_hand_with_an_event_held_on_it_is_finished(
    world: Deployment, loan: Loan
) -> None:
    """Its held event is kept as the rail's word, never applied: no work is left on it.

    Open for its held event, it stayed in the recovery job's index for good, and every run
    failed on it and paged operations to settle by hand what was settled by hand.
    """
    bus, intent_id = stuck(world, loan)
    charged_back = SettlementEvent(
        "chargeback-1",
        f"{intent_id}:pinless",
        "conf-1",
        Rail.PINLESS,
        SettlementOutcome.CHARGED_BACK,
        world.clock.now(),
    )
    assert world.settle(charged_back) is SettlementHandling.HELD
    assert bus.handle(by_hand(intent_id, moved=False)) == "abandoned"
    paged = len(world.alerts(Severity.CRITICAL))
    with world.bus.get(UnitOfWork) as uow:
        kept = uow.intents.get("user-1", intent_id)
        assert kept.held_events == [charged_back]
        assert uow.intents.open_for("user-1", loan.loan_id) == []
    world.clock.advance(dt.timedelta(hours=2))
    assert bus.handle(RecoverTransfers()).examined == 0
    assert len(world.alerts(Severity.CRITICAL)) == paged
    assert world.loan(loan.loan_id).outstanding_balance == 31_500


def test_an_operator_whose_process_died_before_settling_is_said_to_have_asked_only(
    world: Deployment, loan: Loan
) -> None:
    bus, intent_id = stuck(world, loan)
    dying = CrashingUnitOfWork(world.database, on_commit=2)  # the note commits, then death
    with pytest.raises(Crash):
        bus.replacing({UnitOfWork: dying}).handle(by_hand(intent_id, moved=False))
    world.clock.advance(dt.timedelta(minutes=10))
    world.bus.handle(RecoverTransfers())  # the rail now says it took the money: booked
    with world.bus.get(UnitOfWork) as uow:
        assert uow.intents.get("user-1", intent_id).status is IntentStatus.BOOKED
    (said,) = [a for a in world.alerts(Severity.WARNING) if "settled by hand" in a.title]
    assert said.title.endswith("the operator asked it abandoned")  # not that it was
