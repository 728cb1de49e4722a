"""Fixtures shared by the credit-line tests: one product, one freshly opened line."""

import datetime as dt
from decimal import Decimal

import pytest

from loc_core.creditline import CreditLine, CreditLineApplication, CreditLineProduct

OPENED = dt.datetime(2026, 1, 10, 9, 30, tzinfo=dt.UTC)
"""A Saturday; the line's cycle day is 10, so cycles close on the 10th."""


@pytest.fixture
def product() -> CreditLineProduct:
    return CreditLineProduct()


@pytest.fixture
def application(product: CreditLineProduct) -> CreditLineApplication:
    return CreditLineApplication.approved(
        application_id="app-1",
        user_id="user-1",
        created_at=OPENED,
        credit_limit=100_000,
        apr=Decimal("29.99"),
        minimum_payment_percent=Decimal(3),
        product=product,
    )


@pytest.fixture
def line(application: CreditLineApplication, product: CreditLineProduct) -> CreditLine:
    opened = application.open_line(line_id="line-1", now=OPENED, product=product)
    opened.outbox.drain()
    return opened
