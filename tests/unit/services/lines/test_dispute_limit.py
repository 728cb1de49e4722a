"""A line keeps a bounded number of billing-error disputes, so its root item stays storable.

A line's root item keeps every dispute for the line's life, and a notice may dispute as
little as a cent of a charge: without a bound, one-cent notices grow it past DynamoDB's
400 KB and every command on the line fails for good (docs/credit-lines.md, "Billing
errors"). A notice past the bound is refused, nothing changed, and operations are told
to handle it by hand.
"""

import datetime as dt

import pytest
from deployment import LINES_OPENED, Deployment

from loc_core.creditline import CreditLine, CreditLineProduct, DisputedCharge
from loc_core.errors import DisputeLimitReached
from loc_core.ports import Severity
from loc_core.services.commands import DisputeBillingError

BOUND = CreditLineProduct(max_disputes_per_line=2)
STATEMENT = dt.date(2026, 4, 5)


@pytest.fixture
def world() -> Deployment:
    """The lines' deployment under a product that keeps two disputes a line."""
    return Deployment.build(now=LINES_OPENED, seed=11, overrides={CreditLineProduct: BOUND})


def _dispute(world: Deployment, line: CreditLine, key: str) -> str:
    draw_id = next(iter(world.line(line).draws))
    command = DisputeBillingError(
        line.user_id,
        line.line_id,
        STATEMENT,
        DisputedCharge.DRAW,
        1,
        "one cent too much",
        key,
        draw_id,
    )
    return world.bus.handle(command).dispute_id


def test_a_notice_past_the_bound_is_refused_alerted_and_changes_nothing(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 6), 10)
    first = _dispute(world, billed, "cent-1")
    _dispute(world, billed, "cent-2")
    before = world.line(billed)

    with pytest.raises(DisputeLimitReached) as refused:
        _dispute(world, billed, "cent-3")

    assert refused.value.key == "max_disputes_per_line"
    assert "allows 2 a line" in str(refused.value)
    assert world.line(billed) == before
    [alert] = world.alerts(Severity.CRITICAL)
    assert alert.details["line_id"] == billed.line_id
    assert _dispute(world, billed, "cent-1") == first  # a repeat still answers
