"""The simulation's own checks catch what they are for."""

import attrs
import pytest
from fakes import FakeRails

from loc_core.payments import Direction
from loc_core.ports import PaymentRails, TransferRequest, TransferResult
from loc_entrypoints.simulation import InvariantBroken, Scenario, Simulation

_JOBS_HOUR = 15
"""Autopay and the due job run at 15:00 of each simulated day."""


def test_a_job_that_charges_an_installment_or_line_twice_stops_the_run() -> None:
    simulation = Simulation.build(Scenario().resized(borrowers=50, days=60))
    world = simulation.world

    def charge_twice(request: TransferRequest) -> TransferResult:
        """A job's accepted debit moves twice, the second time under another key."""
        result = world.rails.submit(request)
        if (
            result.accepted
            and request.direction is Direction.DEBIT
            and world.clock.now().hour == _JOBS_HOUR
        ):
            world.rails.submit(
                attrs.evolve(request, idempotency_key=f"{request.idempotency_key}-2")
            )
        return result

    world.bus = world.bus.replacing({PaymentRails: FakeRails(charge_twice)})
    with pytest.raises(InvariantBroken) as broken:
        simulation.run()
    assert broken.value.invariant == "no double charge"
    assert broken.value.user_id in simulation.book.borrowers
