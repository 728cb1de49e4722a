"""Rules the installment loans and the credit lines share, checked once for each product.

Each `Product` row says how a test applies for the product, reads back what was filed,
borrows and pays, and what the product alone records (its metric, its alert's title).
"""

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

import attrs
import pytest
from deployment import LINES_OPENED, LOANS_OPENED, Deployment

from loc_core.applications import ApplicationStatus
from loc_core.errors import NotEligible, RailUnavailable
from loc_core.payments import PaymentStatus, Rail
from loc_core.ports import Severity, UnitOfWork


@attrs.frozen
class Debt:
    """A borrower's loan or line with money owed: how a test pays it and reads it back."""

    pay: Callable[[], PaymentStatus]
    """Pays the same amount with the key pay-1; the receipt's status."""
    payments: Callable[[], Mapping[str, object]]
    """The payments stored on the loan or line."""
    rails_down_title: str
    """The alert's title when no rail could be reached for this payment."""


@attrs.frozen
class Product:
    """How a test applies for, borrows on and pays one product, and what it reads back."""

    name: str
    opened: dt.datetime
    apply: Callable[[Deployment], ApplicationStatus]
    """user-1 applies with the key apply-1; the application's status."""
    applications: Callable[[Deployment], Sequence[object]]
    """What user-1 has filed."""
    refusals_counted: str | None
    """The metric an ineligible application counts in, where the product keeps one."""
    owe: Callable[[Deployment], Debt]
    """Opens the product for user-1 and moves the clock to a day it can be paid on."""

    def world(self) -> Deployment:
        """A fresh deployment on the day this product's examples start, with no users."""
        return Deployment.build(now=self.opened)


def _owe_on_a_loan(world: Deployment) -> Debt:
    """A $300.00 loan disbursed 2026-01-05, paid $52.50 on 01-12."""
    loan = world.open_loan()
    world.at(dt.date(2026, 1, 12))
    return Debt(
        pay=lambda: world.pay_loan(loan, 5_250).status,
        payments=lambda: world.loan(loan.loan_id).payments,
        rails_down_title=f"every payment rail is down: payment on loan {loan.loan_id}",
    )


def _owe_on_a_line(world: Deployment) -> Debt:
    """A line opened 2026-03-05 with $400.00 drawn on 03-12, paid $50.00 on 03-20."""
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    world.at(dt.date(2026, 3, 20), 10)
    return Debt(
        pay=lambda: world.pay_line(line, 5_000).status,
        payments=lambda: world.line(line).payments,
        rails_down_title=f"every payment rail is down: debit of 5000 cents on line {line.line_id}",
    )


def _loan_applications(world: Deployment) -> Sequence[object]:
    with world.bus.get(UnitOfWork) as uow:
        return uow.loan_applications.for_user("user-1")


def _line_applications(world: Deployment) -> Sequence[object]:
    with world.bus.get(UnitOfWork) as uow:
        return uow.line_applications.for_user("user-1")


PRODUCTS = [
    Product(
        name="loan",
        opened=LOANS_OPENED,
        apply=lambda world: world.apply_loan().status,
        applications=_loan_applications,
        refusals_counted="loc.loans.applications.not_eligible",
        owe=_owe_on_a_loan,
    ),
    Product(
        name="line",
        opened=LINES_OPENED,
        apply=lambda world: world.apply_line().status,
        applications=_line_applications,
        refusals_counted=None,
        owe=_owe_on_a_line,
    ),
]


@pytest.fixture(params=PRODUCTS, ids=lambda product: product.name)
def product(request: pytest.FixtureRequest) -> Product:
    """Each product in turn."""
    chosen: Product = request.param
    return chosen


def test_an_inactive_user_is_not_eligible_and_may_retry_the_key_later(product: Product) -> None:
    world = product.world()
    world.users.add("user-1", active=False)
    with pytest.raises(NotEligible) as refused:
        product.apply(world)
    assert refused.value.reasons == ("USER_INACTIVE",)
    assert product.applications(world) == []
    if product.refusals_counted is not None:
        assert world.metrics.count(product.refusals_counted) == 1
    world.users.add("user-1")
    assert product.apply(world) is ApplicationStatus.APPROVED


def test_every_rail_down_is_refused_alerted_and_the_same_key_succeeds_later(
    product: Product,
) -> None:
    world = product.world()
    debt = product.owe(world)
    world.sim.down = {Rail.PINLESS, Rail.ACH}
    with pytest.raises(RailUnavailable, match="no rail accepted"):
        debt.pay()
    assert debt.payments() == {}
    assert [(a.severity, a.title) for a in world.alerts()] == [
        (Severity.CRITICAL, debt.rails_down_title)
    ]
    world.sim.down = set()
    assert debt.pay() is PaymentStatus.PENDING
    assert len(debt.payments()) == 1
    assert len(world.sim.submitted) == 2  # the disbursement or the draw, and one debit
