"""Fixtures shared by the credit-line tests: one product, one freshly opened line."""

import datetime as dt

import pytest
from fakes import line_offer

from loc_core.creditline import CreditLine, CreditLineApplication, CreditLineProduct

OPENED = dt.datetime(2026, 1, 10, 9, 30, tzinfo=dt.UTC)
"""A Saturday; the line's cycle day is 10, so cycles close on the 10th."""


@pytest.fixture
def product() -> CreditLineProduct:
    return CreditLineProduct()


@pytest.fixture
def application() -> CreditLineApplication:
    return line_offer(OPENED, credit_limit=100_000)


@pytest.fixture
def line(application: CreditLineApplication, product: CreditLineProduct) -> CreditLine:
    opened = application.open_line(line_id="line-1", now=OPENED, product=product)
    opened.outbox.drain()
    return opened
