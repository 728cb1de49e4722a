"""The cycle's bound on a borrower's movements holds under concurrent requests.

A draw is held on the line (its PENDING draw, committed under the line's version) before
any rail is asked, so the bound is checked again in that commit: of two draws racing for
the cycle's last place, the one that commits second finds it taken. A payment is not on
the line until a rail took its money; the debit lease lets one be in flight at a time,
so a draw taking the last place meanwhile puts the cycle one over the bound, which the
items' worst case allows (`UNREFUSED_MOVEMENTS_PER_CYCLE`), and nothing after it passes.
"""

from collections.abc import Callable

import attrs
import pytest
from deployment import LINES_OPENED, Deployment
from fakes import meanwhile

from loc_core.creditline import CreditLine, CreditLineProduct, movements_in_cycle
from loc_core.errors import MovementLimitReached
from loc_core.ports import FeatureFlags
from loc_core.services.commands import DrawFromLine, RecoverTransfers
from loc_core.services.messagebus import MessageBus
from loc_core.services.moving import RECOVERY_AFTER

BOUND = CreditLineProduct(max_movements_per_cycle=3)


@pytest.fixture
def world() -> Deployment:
    """The lines' deployment under a product that allows three movements a cycle."""
    return Deployment.build(now=LINES_OPENED, seed=11, overrides={CreditLineProduct: BOUND})


@attrs.define
class FlagsMeanwhile:
    """Feature flags that run `action` the first time they are asked, then say the default.

    A draw asks them between its checks and the commit that holds its credit.
    """

    action: Callable[[], object] | None

    def is_enabled(self, flag: str, *, default: bool, user_id: str | None = None) -> bool:
        del flag, user_id
        action, self.action = self.action, None
        if action is not None:
            action()
        return default


def _draw(bus: MessageBus, line: CreditLine, key: str) -> Callable[..., object]:
    return lambda *_: bus.handle(DrawFromLine(line.user_id, line.line_id, 100, key))


def test_of_two_draws_racing_for_the_cycles_last_place_one_is_refused(
    world: Deployment, drawn: CreditLine, second_process: MessageBus
) -> None:
    world.pay_line(drawn, 1, key="cent-1")  # with the draw: two of three this cycle
    racing = world.using(FeatureFlags, FlagsMeanwhile(_draw(second_process, drawn, "draw-b")))

    with pytest.raises(MovementLimitReached):
        racing.draw(drawn, 100, key="draw-a")

    line = world.line(drawn)
    assert movements_in_cycle(line, world.today)[0] == 3
    assert sorted(draw_id.rsplit(":", 1)[1] for draw_id in line.draws) == ["draw-1", "draw-b"]
    assert not [s for s in world.sim.submitted if "draw-a" in s.idempotency_key]
    world.clock.advance(2 * RECOVERY_AFTER)  # the refused draw's intent is closed, nothing moved
    assert world.bus.handle(RecoverTransfers()).abandoned == 1


def test_a_payment_in_flight_while_a_draw_takes_the_last_place_is_booked_and_nothing_after(
    world: Deployment, drawn: CreditLine, second_process: MessageBus
) -> None:
    world.pay_line(drawn, 1, key="cent-1")  # with the draw: two of three this cycle
    world.rails.handler = meanwhile(world.sim, _draw(second_process, drawn, "draw-b"))

    assert world.pay_line(drawn, 1, key="cent-2").amount == 1  # its money moved: booked
    world.rails.handler = world.sim.submit

    assert movements_in_cycle(world.line(drawn), world.today)[0] == 4
    with pytest.raises(MovementLimitReached):
        world.draw(drawn, 100, key="draw-c")
    with pytest.raises(MovementLimitReached):
        world.pay_line(drawn, 1, key="cent-3")
