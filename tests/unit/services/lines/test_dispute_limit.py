"""A line takes a bounded number of OPEN billing-error disputes at one time.

Every dispute is stored as an item of its own under the line (docs/data-model.md), so
resolved ones weigh on no item and never block a new notice. What stays bounded is how
many wait for an operator at once (`CreditLineProduct.max_disputes_per_line`, default 12):
a notice past it is refused, nothing changed, and operations are told to handle it by
hand (docs/credit-lines.md, "Billing errors").
"""

import datetime as dt

import pytest
from deployment import LINES_OPENED, Deployment

from loc_core.creditline import CreditLine, CreditLineProduct, DisputedCharge, DisputeStatus
from loc_core.errors import DisputeLimitReached
from loc_core.ports import Severity
from loc_core.services.commands import DisputeBillingError, ResolveBillingDispute

BOUND = CreditLineProduct(max_disputes_per_line=2)
STATEMENT = dt.date(2026, 4, 5)


@pytest.fixture
def world(request: pytest.FixtureRequest) -> Deployment:
    """The lines' deployment under a product that takes two open disputes a line (or the
    product a test names, ``indirect``)."""
    product = getattr(request, "param", BOUND)
    return Deployment.build(now=LINES_OPENED, seed=11, overrides={CreditLineProduct: product})


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


def _no_error(world: Deployment, line: CreditLine, dispute_id: str) -> None:
    world.bus.handle(
        ResolveBillingDispute(
            line.user_id, line.line_id, dispute_id, error_found=False, explanation="charged right"
        )
    )


def test_a_notice_past_the_open_bound_is_refused_alerted_and_changes_nothing(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 6), 10)
    first = _dispute(world, billed, "cent-1")
    _dispute(world, billed, "cent-2")
    before = world.line(billed)

    with pytest.raises(DisputeLimitReached) as refused:
        _dispute(world, billed, "cent-3")

    assert refused.value.key == "max_disputes_per_line"
    assert "allows 2 open at one time" in str(refused.value)
    assert world.line(billed) == before
    [alert] = world.alerts(Severity.CRITICAL)
    assert alert.details["line_id"] == billed.line_id
    assert _dispute(world, billed, "cent-1") == first  # a repeat still answers


@pytest.mark.parametrize("world", [CreditLineProduct()], indirect=True)
def test_resolved_disputes_never_block_a_new_notice(world: Deployment, billed: CreditLine) -> None:
    """With the default bound (12): a 13th notice after 12 resolved ones is accepted."""
    world.at(dt.date(2026, 4, 6), 10)
    for n in range(12):
        _no_error(world, billed, _dispute(world, billed, f"cent-{n}"))

    thirteenth = _dispute(world, billed, "cent-12")

    disputes = world.line(billed).disputes
    assert disputes[thirteenth].status is DisputeStatus.OPEN
    assert [d.status for d in disputes.values()].count(DisputeStatus.RESOLVED_NO_ERROR) == 12
    assert world.alerts(Severity.CRITICAL) == []
