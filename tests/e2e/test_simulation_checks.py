"""The simulation's own checks catch what they are for."""

import attrs
import pytest

from loc_core.payments import Direction
from loc_core.ports import PaymentRails, TransferRequest, TransferResult
from loc_entrypoints.simulation import InvariantBroken, Scenario, Simulation
from loc_entrypoints.simulation.world import World

_JOBS_HOUR = 15
"""Autopay and the due job run at 15:00 of each simulated day."""


@attrs.define
class ChargingTwice:
    """Rails that move a job's accepted debit twice, the second time under another key."""

    inner: PaymentRails
    world: World

    def submit(self, request: TransferRequest) -> TransferResult:
        result = self.inner.submit(request)
        if (
            result.accepted
            and request.direction is Direction.DEBIT
            and self.world.clock.now().hour == _JOBS_HOUR
        ):
            again = attrs.evolve(request, idempotency_key=f"{request.idempotency_key}-again")
            self.inner.submit(again)
        return result


def test_a_job_that_charges_an_installment_or_line_twice_stops_the_run() -> None:
    simulation = Simulation.build(Scenario().resized(borrowers=50, days=60))
    world = simulation.world
    world.rails = ChargingTwice(world.rails, world)  # type: ignore[assignment]  # a test double
    with pytest.raises(InvariantBroken) as broken:
        simulation.run()
    assert broken.value.invariant == "no double charge"
    assert broken.value.user_id in simulation.borrowers
