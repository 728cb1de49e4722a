import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

import pytest
from fakes import refused

from loc_core.applications import AdverseAction, ApplicationStatus
from loc_core.creditline import (
    CreditLineApplication,
    CreditLineProduct,
    LineStatus,
)
from loc_core.errors import (
    ApplicationAlreadyConverted,
    ApplicationError,
    ApplicationExpired,
    ApplicationNotApproved,
    InvalidAmount,
    InvalidConfiguration,
    InvalidRate,
    InvalidTimestamp,
    InvalidTransition,
)
from loc_core.events import FieldChange

CREATED = dt.datetime(2026, 1, 10, 9, 30, tzinfo=dt.UTC)
PRODUCT = CreditLineProduct()


def approve(
    terms: Mapping[str, object] | None = None, *, created_at: dt.datetime = CREATED
) -> CreditLineApplication:
    offer: dict[str, object] = {
        "credit_limit": 50_000,
        "apr": Decimal("29.99"),
        "minimum_payment_percent": Decimal(3),
    } | dict(terms or {})
    return CreditLineApplication.approved(
        application_id="app-1",
        user_id="user-1",
        created_at=created_at,
        product=PRODUCT,
        credit_limit=offer["credit_limit"],
        apr=offer["apr"],
        minimum_payment_percent=offer["minimum_payment_percent"],
    )


def reject() -> CreditLineApplication:
    return CreditLineApplication.rejected(
        application_id="app-2",
        user_id="user-1",
        created_at=CREATED,
        adverse_actions=(AdverseAction("INCOME", "Insufficient income"),),
        product=PRODUCT,
    )


def test_an_approved_offer_lives_for_the_ttl() -> None:
    application = approve()
    assert application.status is ApplicationStatus.APPROVED
    assert application.expires_at == CREATED + dt.timedelta(hours=24)
    assert not application.is_expired(CREATED + dt.timedelta(hours=23, minutes=59))
    assert application.is_expired(CREATED + dt.timedelta(hours=24))
    (change,) = application.outbox.changes
    assert (change.entity, change.process) == ("application", "OPEN")
    assert FieldChange("apr", None, "29.99") in change.fields


@pytest.mark.parametrize(
    ("terms", "error", "message"),
    [
        ({"credit_limit": 0}, InvalidAmount, "credit_limit must be more than 0"),
        ({"credit_limit": 500.0}, InvalidAmount, "floats are not money"),
        ({"apr": Decimal("36.01")}, InvalidRate, "apr must be at most 36"),
        ({"apr": Decimal(-1)}, InvalidRate, "apr must be at least 0"),
        ({"apr": 29.99}, InvalidRate, "float"),
        ({"minimum_payment_percent": Decimal("0.99")}, InvalidRate, "at least 1"),
        ({"minimum_payment_percent": Decimal("5.01")}, InvalidRate, "at most 5"),
    ],
)
def test_approved_terms_must_sit_within_the_products_bounds(
    terms: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        approve(terms)


def test_timestamps_must_be_utc() -> None:
    with pytest.raises(InvalidTimestamp, match="naive"):
        CreditLineApplication.approved(
            application_id="a",
            user_id="u",
            created_at=dt.datetime(2026, 1, 10, 9, 30),  # noqa: DTZ001 - a naive time is the point
            credit_limit=1,
            apr=Decimal(1),
            minimum_payment_percent=Decimal(1),
            product=PRODUCT,
        )
    with pytest.raises(InvalidTimestamp, match="UTC"):
        approve().open_line(
            line_id="line-1",
            now=CREATED.astimezone(dt.timezone(dt.timedelta(hours=-5))),
            product=PRODUCT,
        )


def test_a_rejection_needs_an_adverse_action() -> None:
    assert reject().adverse_actions[0].code == "INCOME"
    with pytest.raises(ApplicationError, match="at least one adverse action"):
        CreditLineApplication.rejected(
            application_id="a", user_id="u", created_at=CREATED, adverse_actions=(), product=PRODUCT
        )


def test_converting_opens_an_active_line_with_the_offered_terms() -> None:
    application = approve()
    application.outbox.drain()
    now = CREATED + dt.timedelta(hours=2)
    line = application.open_line(line_id="line-1", now=now, product=PRODUCT)
    assert line.status is LineStatus.ACTIVE
    assert (line.credit_limit, line.apr, line.minimum_payment_percent) == (
        50_000,
        Decimal("29.99"),
        Decimal(3),
    )
    assert (line.opened_on, line.cycle_day, line.available_credit) == (
        dt.date(2026, 1, 10),
        10,
        50_000,
    )
    assert (application.line_id, application.converted_at) == ("line-1", now)
    (converted,) = application.outbox.changes
    assert converted.process == "CONVERSION"
    assert FieldChange("line_id", None, "line-1") in converted.fields
    (opened,) = line.outbox.changes
    assert (opened.entity, opened.entity_id, opened.process) == ("line", "line-1", "OPEN")


def test_a_line_opened_on_the_31st_cycles_on_the_28th() -> None:
    now = dt.datetime(2026, 1, 31, 1, tzinfo=dt.UTC)
    line = approve(created_at=now).open_line(line_id="line-1", now=now, product=PRODUCT)
    assert line.cycle_day == 28
    assert line.next_close_date == dt.date(2026, 2, 28)


def test_an_application_converts_once() -> None:
    application = approve()
    application.open_line(line_id="line-1", now=CREATED, product=PRODUCT)
    with refused(application, ApplicationAlreadyConverted, match="already became line line-1"):
        application.open_line(line_id="line-2", now=CREATED, product=PRODUCT)


def test_an_expired_offer_cannot_be_accepted() -> None:
    application = approve()
    with refused(application, ApplicationExpired, match=r"expired at 2026-01-11T09:30:00\+00:00"):
        application.open_line(
            line_id="line-1", now=CREATED + dt.timedelta(hours=24), product=PRODUCT
        )


def test_a_rejected_or_abandoned_application_cannot_be_accepted() -> None:
    with pytest.raises(ApplicationNotApproved, match="REJECTED"):
        reject().open_line(line_id="line-1", now=CREATED, product=PRODUCT)
    abandoned = approve()
    abandoned.abandon(now=CREATED + dt.timedelta(days=2))
    with pytest.raises(ApplicationNotApproved, match="ABANDONED"):
        abandoned.open_line(line_id="line-1", now=CREATED, product=PRODUCT)


def test_a_bad_cycle_day_opens_nothing() -> None:
    application = approve()
    with refused(application, InvalidConfiguration, match="cycle_day"):
        application.open_line(line_id="line-1", now=CREATED, product=PRODUCT, cycle_day=29)


def test_an_expired_unconverted_offer_is_abandoned_once() -> None:
    application = approve()
    application.outbox.drain()
    application.abandon(now=CREATED + dt.timedelta(hours=24))
    assert application.status is ApplicationStatus.ABANDONED
    (change,) = application.outbox.changes
    assert (change.process, change.fields) == (
        "EXPIRATION",
        (FieldChange("status", "APPROVED", "ABANDONED"),),
    )
    application.abandon(now=CREATED + dt.timedelta(days=3))
    assert len(application.outbox.changes) == 1


def test_only_an_expired_unconverted_approved_offer_is_abandoned() -> None:
    live = approve()
    with pytest.raises(InvalidTransition, match="live until"):
        live.abandon(now=CREATED + dt.timedelta(hours=1))
    with pytest.raises(ApplicationNotApproved, match="REJECTED"):
        reject().abandon(now=CREATED + dt.timedelta(days=2))
    converted = approve()
    converted.open_line(line_id="line-1", now=CREATED, product=PRODUCT)
    with pytest.raises(ApplicationAlreadyConverted):
        converted.abandon(now=CREATED + dt.timedelta(days=2))
    assert live.status is converted.status is ApplicationStatus.APPROVED
