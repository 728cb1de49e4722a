import datetime as dt

import pytest
from deployment import QUIET

from loc_adapters.memory import ManualClock, RailBehaviour, SimulatedRails
from loc_core import calendar
from loc_core.errors import ExternalServiceError
from loc_core.payments import Direction, Rail, SettlementOutcome
from loc_core.ports import PaymentRails, TransferRequest

MONDAY = dt.datetime(2026, 3, 2, 15, tzinfo=dt.UTC)


def debit(key: str, rail: Rail = Rail.ACH, amount: int = 5000) -> TransferRequest:
    return TransferRequest(
        idempotency_key=key,
        rail=rail,
        direction=Direction.DEBIT,
        user_id="user-1",
        amount=amount,
        reference="loan-1",
    )


def rails(behaviour: RailBehaviour = QUIET, seed: int = 7) -> tuple[SimulatedRails, ManualClock]:
    clock = ManualClock(MONDAY)
    return SimulatedRails(clock, seed=seed, behaviour=behaviour), clock


def test_a_repeated_key_moves_money_once_and_answers_the_same() -> None:
    sim, _ = rails()
    port: PaymentRails = sim
    first = port.submit(debit("pay-1"))
    second = port.submit(debit("pay-1"))
    assert first == second
    assert first.accepted
    assert len(sim.submitted) == 1


def test_a_key_reused_for_a_different_transfer_is_refused() -> None:
    sim, _ = rails()
    sim.submit(debit("pay-1", amount=5000))
    with pytest.raises(ExternalServiceError, match="reused"):
        sim.submit(debit("pay-1", amount=9999))


def test_ach_debits_complete_within_one_to_three_business_days() -> None:
    sim, clock = rails()
    for n in range(40):
        sim.submit(debit(f"pay-{n}"))
    clock.advance(dt.timedelta(days=10))
    events = sim.due_events()
    assert len(events) == 40
    latest = calendar.add_business_days(MONDAY.date(), 3)
    for event in events:
        assert event.outcome is SettlementOutcome.COMPLETED
        assert MONDAY.date() < event.occurred_at.date() <= latest
        assert calendar.is_business_day(event.occurred_at.date())
    assert sim.due_events() == []


def test_returns_arrive_within_two_business_days_of_settlement() -> None:
    sim, clock = rails(RailBehaviour(decline_probability=0, nsf_return_probability=1))
    for n in range(30):
        sim.submit(debit(f"pay-{n}"))
    clock.advance(dt.timedelta(days=20))
    by_key: dict[str, list[SettlementOutcome]] = {}
    for event in sim.due_events():
        by_key.setdefault(event.idempotency_key, []).append(event.outcome)
        if event.outcome is SettlementOutcome.RETURNED:
            assert event.return_code == "R01"
            assert event.occurred_at.date() <= calendar.add_business_days(MONDAY.date(), 5)
    assert all(outcomes[-1] is SettlementOutcome.RETURNED for outcomes in by_key.values())
    assert len(by_key) == 30


def test_chargebacks_follow_completed_pinless_debits() -> None:
    sim, clock = rails(RailBehaviour(decline_probability=0, chargeback_probability=1))
    sim.submit(debit("pay-1", Rail.PINLESS))
    assert [e.outcome for e in sim.due_events()] == [SettlementOutcome.COMPLETED]
    clock.advance(dt.timedelta(days=65))
    assert [e.outcome for e in sim.due_events()] == [SettlementOutcome.CHARGED_BACK]


def test_outcomes_depend_on_seed_and_key_not_on_submission_order() -> None:
    mild = RailBehaviour(decline_probability=0.3, nsf_return_probability=0.3)
    forward, clock_a = rails(mild, seed=11)
    backward, clock_b = rails(mild, seed=11)
    keys = [f"pay-{n}" for n in range(50)]
    answers_a = {k: forward.submit(debit(k)).accepted for k in keys}
    answers_b = {k: backward.submit(debit(k)).accepted for k in reversed(keys)}
    assert answers_a == answers_b
    assert 0 < sum(answers_a.values()) < 50
    clock_a.advance(dt.timedelta(days=90))
    clock_b.advance(dt.timedelta(days=90))
    outcomes_a = {(e.idempotency_key, e.outcome, e.occurred_at) for e in forward.due_events()}
    outcomes_b = {(e.idempotency_key, e.outcome, e.occurred_at) for e in backward.due_events()}
    assert outcomes_a == outcomes_b


def test_a_rail_that_is_down_raises_and_rtp_never_collects() -> None:
    sim, _ = rails()
    sim.down.add(Rail.ACH)
    with pytest.raises(ExternalServiceError, match="ach rail unreachable"):
        sim.submit(debit("pay-1"))
    with pytest.raises(ExternalServiceError, match="only sends credits"):
        sim.submit(debit("pay-2", Rail.RTP))
    assert sim.submitted == []


def test_probabilities_are_checked() -> None:
    with pytest.raises(ValueError, match="probability"):
        RailBehaviour(decline_probability=1.5)


def test_keys_are_forgotten_after_the_remembered_time_and_submitted_can_be_taken() -> None:
    clock = ManualClock(MONDAY)
    sim = SimulatedRails(clock, behaviour=QUIET, remember=dt.timedelta(days=30))
    first = sim.submit(debit("pay-1"))
    assert [r.idempotency_key for r in sim.take_submitted()] == ["pay-1"]
    assert sim.take_submitted() == []
    clock.advance(dt.timedelta(days=10))
    assert sim.submit(debit("pay-1")) == first  # remembered: no second transfer
    assert sim.take_submitted() == []
    clock.advance(dt.timedelta(days=31))
    sim.submit(debit("pay-2"))  # any submission lets old keys go
    again = sim.submit(debit("pay-1"))
    assert again.confirmation_id != first.confirmation_id  # forgotten: a new transfer
