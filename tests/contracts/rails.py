"""The `PaymentRails` contract: every rail adapter, over a `SimulatedRails` named `sim`.

Fixtures: `rails`, the adapter under test, and `sim`, the simulated rail that moves the
money behind it (the adapter itself for `SimulatedRails`), whose `behaviour` and `down`
the tests change.
"""

import datetime as dt

import pytest

from loc_adapters.memory import ManualClock, RailBehaviour, SimulatedRails
from loc_core.errors import ExternalServiceError, RailUnavailable
from loc_core.payments import Direction, Rail
from loc_core.ports import PaymentRails, TransferRequest

ACCEPT_ALL = RailBehaviour(0, 0, 0, 0)


def transfer(
    key: str = "pay-1", rail: Rail = Rail.ACH, amount: int = 5000, user: str = "user-1"
) -> TransferRequest:
    return TransferRequest(
        idempotency_key=key,
        rail=rail,
        direction=Direction.DEBIT,
        user_id=user,
        amount=amount,
        reference="loan-1",
    )


class RailsContract:
    def test_an_accepted_transfer_has_a_confirmation_and_moves_money_once(
        self, rails: PaymentRails, sim: SimulatedRails
    ) -> None:
        sim.behaviour = ACCEPT_ALL
        first = rails.submit(transfer())
        again = rails.submit(transfer())
        assert first.accepted
        assert first.confirmation_id
        assert again == first
        assert len(sim.submitted) == 1

    def test_a_declined_transfer_says_why_and_moves_nothing(
        self, rails: PaymentRails, sim: SimulatedRails
    ) -> None:
        sim.behaviour = RailBehaviour(decline_probability=1)
        result = rails.submit(transfer(rail=Rail.PINLESS))
        assert not result.accepted
        assert result.decline_reason
        assert sim.submitted == []

    def test_find_reads_the_first_answer_and_none_for_a_key_never_sent(
        self, rails: PaymentRails, sim: SimulatedRails
    ) -> None:
        sim.behaviour = ACCEPT_ALL
        assert rails.find("pay-never") is None
        answer = rails.submit(transfer("pay-2:ach"))
        assert rails.find("pay-2:ach") == answer
        assert len(sim.submitted) == 1

    def test_find_states_what_an_accepted_transfer_moved(
        self, rails: PaymentRails, sim: SimulatedRails
    ) -> None:
        sim.behaviour = ACCEPT_ALL
        taken = sim.clock.now()
        rails.submit(transfer("pay-3:ach", amount=1_234))
        assert isinstance(sim.clock, ManualClock)
        sim.clock.advance(dt.timedelta(days=3))  # read back days later: still when it was taken
        found = rails.find("pay-3:ach")
        assert found is not None
        assert (found.amount, found.direction, found.accepted_at) == (1_234, Direction.DEBIT, taken)

    def test_a_key_reused_for_another_transfer_is_an_error_not_a_second_transfer(
        self, rails: PaymentRails, sim: SimulatedRails
    ) -> None:
        sim.behaviour = ACCEPT_ALL
        rails.submit(transfer(amount=5000))
        with pytest.raises(ExternalServiceError) as raised:
            rails.submit(transfer(amount=9999))
        assert not isinstance(raised.value, RailUnavailable)
        assert [request.amount for request in sim.submitted] == [5000]

    def test_a_rail_that_is_down_takes_nothing_and_says_so(
        self, rails: PaymentRails, sim: SimulatedRails
    ) -> None:
        sim.behaviour = ACCEPT_ALL
        sim.down.add(Rail.PINLESS)
        with pytest.raises(RailUnavailable):
            rails.submit(transfer(rail=Rail.PINLESS))
        assert rails.find("pay-1") is None
        assert rails.submit(transfer(rail=Rail.ACH)).accepted

    def test_the_declared_timeout_is_short_enough_for_a_lease(self, rails: PaymentRails) -> None:
        assert dt.timedelta(0) < rails.timeout <= dt.timedelta(seconds=30)
