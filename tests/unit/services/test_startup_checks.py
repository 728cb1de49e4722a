"""The start-up checks: a configuration that could fail a booking after money moved is
refused when the bus is built, before any command runs."""

from __future__ import annotations

import datetime as dt

import pytest
from fakes import FakeRails, loan_offer

from loc_adapters.memory import (
    InMemoryDatabase,
    InMemoryUnitOfWork,
    InMemoryUsers,
    ManualClock,
    SimulatedRails,
)
from loc_core.errors import InvalidConfiguration, InvariantViolation, NotFound
from loc_core.installment import InstallmentProduct, LoanApplication, OriginationFee
from loc_core.ports import Clock, PaymentRails, TransferResult, UnitOfWork, Users
from loc_core.services.checks import (
    COMMIT_MARGIN,
    RAIL_LEASES,
    acceptance_items,
)
from loc_core.services.commands import AcceptOffer
from loc_core.services.messagebus import MessageBus
from loc_core.services.moving import RECOVERY_AFTER
from loc_entrypoints.bootstrap import bootstrap

NOW = dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC)

TWO_YEARS_BIWEEKLY = InstallmentProduct(
    min_installments=4, default_installments=6, max_installments=52
)
"""Every second week for two years: 52 installments, one commit of 111 items."""


def _memory_uow(limit: int) -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(InMemoryDatabase(ManualClock(NOW)), transaction_limit=limit)


def test_a_product_whose_acceptance_cannot_fit_one_transaction_is_refused_at_bootstrap() -> None:
    with pytest.raises(InvalidConfiguration) as refused:
        bootstrap(overrides={InstallmentProduct: TWO_YEARS_BIWEEKLY})
    message = str(refused.value)
    assert "max_installments=52" in message
    assert f"writes {acceptance_items(TWO_YEARS_BIWEEKLY)} items" in message
    assert "at most 100" in message
    fitting = int(message.split("lower max_installments to ")[1].split(maxsplit=1)[0])
    assert acceptance_items(InstallmentProduct(max_installments=fitting)) <= 100
    assert acceptance_items(InstallmentProduct(max_installments=fitting + 1)) > 100


def test_the_largest_product_that_fits_is_accepted_and_its_acceptance_commits() -> None:
    product = InstallmentProduct(max_installments=46, default_installments=46)
    limit = acceptance_items(product)
    assert limit <= 100
    uow = _memory_uow(limit)
    users = InMemoryUsers()
    users.add("user-1", active=True)
    bus = bootstrap(
        overrides={InstallmentProduct: product, UnitOfWork: uow, Clock: uow.clock, Users: users}
    )
    offer = LoanApplication.approve(
        product=product,
        user_id="user-1",
        application_id="app-1",
        loan_number="FM-000001",
        loan_amount=460_000,
        fee=OriginationFee.fixed(1_500),
        now=NOW,
        installment_count=46,
    )
    with uow:
        uow.loan_applications.add(offer)
        uow.commit(actor="test", request_id="offer")
    loan = bus.handle(AcceptOffer("user-1", "app-1"))
    assert len(loan.installments) == 46
    with pytest.raises(InvalidConfiguration, match="takes at most"):
        bus.replacing({UnitOfWork: _memory_uow(limit - 1)})


def test_the_memory_store_refuses_a_commit_over_its_limit_before_writing() -> None:
    uow = _memory_uow(1)
    offer = loan_offer(NOW)  # created: its root and one audit change, two items
    with uow:
        uow.loan_applications.add(offer)
        with pytest.raises(InvariantViolation, match="writes 2 items") as refused:
            uow.commit(actor="test", request_id="r-1")
    assert refused.value.invariant == "transaction_limit"
    with uow, pytest.raises(NotFound):
        uow.loan_applications.get("user-1", "app-1")


def test_the_acceptance_check_reads_the_registered_store_and_product() -> None:
    product = InstallmentProduct()
    fitting = acceptance_items(product)
    bus = bootstrap(overrides={InstallmentProduct: product, UnitOfWork: _memory_uow(fitting)})
    with pytest.raises(InvalidConfiguration, match="lower max_installments to 7"):
        bus.replacing({UnitOfWork: _memory_uow(fitting - 1)})
    with pytest.raises(InvalidConfiguration, match="no schedule fits"):
        bus.replacing({UnitOfWork: _memory_uow(3)})


def _rails(timeout: dt.timedelta) -> PaymentRails:
    return FakeRails(lambda _request: TransferResult(accepted=True), timeout=timeout)


def test_rails_whose_calls_outlast_a_lease_are_refused_at_bootstrap() -> None:
    shortest = min(RAIL_LEASES, key=lambda lease: lease.ttl)
    longest_timeout = (shortest.ttl - COMMIT_MARGIN) / len(shortest.order)
    bootstrap(overrides={PaymentRails: _rails(longest_timeout)})
    with pytest.raises(InvalidConfiguration) as refused:
        bootstrap(overrides={PaymentRails: _rails(longest_timeout + dt.timedelta(seconds=1))})
    assert shortest.what in str(refused.value)
    assert f"a timeout of at most {longest_timeout}" in str(refused.value)


def test_the_simulated_rails_declare_a_timeout_every_lease_outlasts() -> None:
    rails = SimulatedRails(ManualClock(NOW))
    for lease in RAIL_LEASES:
        assert lease.ttl >= len(lease.order) * rails.timeout + COMMIT_MARGIN
    slow = SimulatedRails(ManualClock(NOW), timeout=dt.timedelta(minutes=5))
    with pytest.raises(InvalidConfiguration, match="lease"):
        bootstrap(overrides={PaymentRails: slow})


@pytest.mark.parametrize("timeout", [dt.timedelta(0), dt.timedelta(seconds=-1), 10])
def test_a_timeout_that_is_not_a_positive_timedelta_is_refused(timeout: object) -> None:
    rails = FakeRails(lambda _request: TransferResult(accepted=True))
    object.__setattr__(rails, "timeout", timeout)
    with pytest.raises(InvalidConfiguration, match="positive timedelta"):
        bootstrap(overrides={PaymentRails: rails})


def test_a_check_is_wired_like_a_handler() -> None:
    ran: list[object] = []

    def needs_clock(*, clock: Clock) -> None:
        ran.append(clock)

    def optional_rails(*, rails: PaymentRails | None = None) -> None:
        ran.append(rails)

    clock = ManualClock(NOW)
    bus = MessageBus(
        dependencies={Clock: clock},
        handlers={},
        event_handlers={},
        messages={},
        startup_checks=(needs_clock, optional_rails),
    )
    assert ran == [clock, None]
    bus.replacing({})
    assert ran == [clock, None, clock, None]
    with pytest.raises(InvalidConfiguration, match="needs clock"):
        MessageBus(
            dependencies={},
            handlers={},
            event_handlers={},
            messages={},
            startup_checks=(needs_clock,),
        )


def test_the_recovery_job_waits_out_every_lease_a_live_movement_holds() -> None:
    """An intent younger than any lease may belong to a live process: never taken over."""
    assert all(lease.ttl < RECOVERY_AFTER for lease in RAIL_LEASES)
