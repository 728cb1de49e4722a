import datetime as dt
from decimal import Decimal

import attrs
import pytest
from fakes import refused
from hypothesis import given

from loc_core.applications import AdverseAction, ApplicationStatus
from loc_core.errors import (
    ApplicationAlreadyConverted,
    ApplicationExpired,
    ApplicationNotApproved,
    DomainError,
    InvalidAmount,
    InvalidConfiguration,
    InvalidRate,
    InvalidTimestamp,
    InvalidTransition,
    InvariantViolation,
    ScheduleError,
)
from loc_core.events import FieldChange
from loc_core.installment import (
    FeeType,
    InstallmentProduct,
    LoanApplication,
    OriginationFee,
    ScheduledInstallment,
)
from loc_core.testing.installment import applications

NOW = dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC)
PRODUCT = InstallmentProduct()
REASON = AdverseAction("R01", "Insufficient income")


def approve(**changes: object) -> LoanApplication:
    arguments: dict[str, object] = {
        "product": PRODUCT,
        "user_id": "user-1",
        "application_id": "app-1",
        "loan_number": "FM-000001",
        "loan_amount": 30_000,
        "fee": OriginationFee.fixed(1_500),
        "now": NOW,
    }
    arguments.update(changes)
    return LoanApplication.approve(**arguments)  # type: ignore[arg-type]  # tests pass bad types


def reject(**changes: object) -> LoanApplication:
    arguments: dict[str, object] = {
        "user_id": "user-1",
        "application_id": "app-2",
        "adverse_actions": [REASON],
        "now": NOW,
    }
    arguments.update(changes)
    return LoanApplication.reject(**arguments)  # type: ignore[arg-type]  # tests pass bad types


def test_an_approved_fixed_fee_offer() -> None:
    application = approve()
    assert application.status is ApplicationStatus.APPROVED
    assert application.fee_type is FeeType.FIXED
    assert application.origination_fee == 1_500
    assert application.fee_percent is None
    assert application.total_amount == 31_500
    assert application.amount_disbursed == 30_000
    assert application.loan_number == "FM-000001"
    assert application.expires_at == NOW + dt.timedelta(hours=24)
    assert application.proposed_schedule[0] == ScheduledInstallment(5_250, dt.date(2026, 1, 20))
    assert len(application.proposed_schedule) == 6
    assert application.is_live(NOW)
    [change] = application.outbox.changes
    assert (change.entity, change.entity_id, change.process) == (
        "application",
        "app-1",
        "UNDERWRITING",
    )
    assert FieldChange("status", None, "APPROVED") in change.fields
    assert FieldChange("expires_at", None, "2026-01-06T15:00:00+00:00") in change.fields


@pytest.mark.parametrize(
    ("loan_amount", "percent", "fee"),
    [
        (30_000, "5", 1_500),
        (30_010, "5", 1_501),  # 1,500.5 cents rounds half-up
        (30_009, "5", 1_500),  # 1,500.45 rounds down
        (10_000, "0", 0),
    ],
)
def test_a_percentage_fee_is_a_half_up_percent_of_the_loan(
    loan_amount: int, percent: str, fee: int
) -> None:
    application = approve(loan_amount=loan_amount, fee=OriginationFee.percentage(Decimal(percent)))
    assert application.fee_type is FeeType.PERCENTAGE
    assert application.fee_percent == Decimal(percent)
    assert application.origination_fee == fee
    assert application.total_amount == loan_amount + fee
    assert application.amount_disbursed == loan_amount
    assert sum(line.amount for line in application.proposed_schedule) == loan_amount + fee


def test_underwriting_may_choose_the_installment_count() -> None:
    assert len(approve(installment_count=4).proposed_schedule) == 4
    with pytest.raises(ScheduleError, match=r"within 4..8, got 9"):
        approve(installment_count=9)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"loan_amount": 0}, InvalidAmount, "loan_amount must be more than 0 cents"),
        ({"loan_amount": 300.0}, InvalidAmount, "floats are not money"),
        ({"loan_number": "000001"}, DomainError, "loan_number must look like 'FM-000001'"),
        ({"user_id": ""}, DomainError, "user_id must be a non-empty string"),
        ({"application_id": None}, DomainError, "application_id must be a non-empty string"),
        ({"fee": 1_500}, DomainError, "fee must be an OriginationFee"),
        ({"now": dt.datetime(2026, 1, 5, 15)}, InvalidTimestamp, "must carry a time zone"),  # noqa: DTZ001 - a naive time, refused on purpose
        (
            {"now": dt.datetime(2026, 1, 5, 15, tzinfo=dt.timezone(dt.timedelta(hours=-5)))},
            InvalidTimestamp,
            "must be in UTC",
        ),
    ],
)
def test_an_approval_with_bad_input_is_refused(
    changes: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        approve(**changes)


def test_origination_fee_values_are_checked() -> None:
    with pytest.raises(InvalidAmount, match="origination fee must not be negative"):
        OriginationFee.fixed(-1)
    with pytest.raises(InvalidAmount, match="floats are not money"):
        OriginationFee.fixed(15.0)  # type: ignore[arg-type]  # floats must be refused at runtime
    with pytest.raises(InvalidRate, match=r"got the float 5\.0"):
        OriginationFee.percentage(5.0)  # type: ignore[arg-type]  # floats must be refused at runtime
    with pytest.raises(InvalidRate, match="got str '5'"):
        OriginationFee.percentage("5")  # type: ignore[arg-type]  # strings are refused too
    with pytest.raises(InvalidRate, match="at most 100"):
        OriginationFee.percentage(Decimal(101))
    with pytest.raises(InvalidConfiguration, match="a fixed fee carries fixed_cents only"):
        OriginationFee(FeeType.FIXED, fixed_cents=100, percent=Decimal(5))
    with pytest.raises(InvalidConfiguration, match="a fixed fee carries fixed_cents only"):
        OriginationFee(FeeType.PERCENTAGE, fixed_cents=100)


def test_a_rejection_carries_its_adverse_actions() -> None:
    application = reject(adverse_actions=[REASON, AdverseAction("R02", "Thin file")])
    assert application.status is ApplicationStatus.REJECTED
    assert [action.code for action in application.adverse_actions] == ["R01", "R02"]
    assert application.expires_at is None
    assert application.loan_number is None
    assert not application.is_live(NOW)
    [change] = application.outbox.changes
    assert change.reason == "rejected: R01, R02"


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        ([], "at least one adverse action"),
        ([AdverseAction("", "No code")], "needs a code and a text"),
        (["R01"], "needs a code and a text"),
    ],
)
def test_a_rejection_without_proper_reasons_is_refused(actions: list[object], message: str) -> None:
    with pytest.raises(DomainError, match=message):
        reject(adverse_actions=actions)


def test_an_offer_converts_once() -> None:
    application = approve()
    application.outbox.drain()
    application.convert(loan_id="loan-1", now=NOW + dt.timedelta(hours=1))
    assert application.loan_id == "loan-1"
    assert not application.is_live(NOW)
    [change] = application.outbox.changes
    assert change.fields[0] == FieldChange(
        "updated_at", "2026-01-05T15:00:00+00:00", "2026-01-05T16:00:00+00:00"
    )
    assert FieldChange("loan_id", None, "loan-1") in change.fields
    with refused(application, ApplicationAlreadyConverted, match="already became loan loan-1"):
        application.convert(loan_id="loan-2", now=NOW)


@pytest.mark.parametrize("late", [dt.timedelta(hours=24), dt.timedelta(days=3)])
def test_an_expired_offer_cannot_be_accepted(late: dt.timedelta) -> None:
    application = approve()
    with refused(application, ApplicationExpired, match="expired at 2026-01-06T15:00:00"):
        application.convert(loan_id="loan-1", now=NOW + late)


def test_a_rejected_or_abandoned_application_has_no_offer_to_accept() -> None:
    rejected = reject()
    with pytest.raises(ApplicationNotApproved, match="is REJECTED: there is no offer"):
        rejected.convert(loan_id="loan-1", now=NOW)
    abandoned = approve()
    abandoned.abandon(now=NOW + dt.timedelta(days=1))
    with refused(abandoned, ApplicationNotApproved, match="is ABANDONED"):
        abandoned.convert(loan_id="loan-1", now=NOW)


def test_an_expired_offer_is_saved_again_as_abandoned_without_ttl() -> None:
    application = approve()
    application.outbox.drain()
    application.abandon(now=NOW + dt.timedelta(hours=25))
    assert application.status is ApplicationStatus.ABANDONED
    assert application.expires_at is None
    assert application.updated_at == NOW + dt.timedelta(hours=25)
    [change] = application.outbox.changes
    assert change.process == "EXPIRATION"
    assert FieldChange("status", "APPROVED", "ABANDONED") in change.fields


def test_only_an_expired_unconverted_offer_is_abandoned() -> None:
    live = approve()
    with refused(live, InvalidTransition, match="is live until 2026-01-06T15:00:00"):
        live.abandon(now=NOW + dt.timedelta(hours=23))
    converted = approve()
    converted.convert(loan_id="loan-1", now=NOW)
    with pytest.raises(ApplicationAlreadyConverted, match="became loan loan-1"):
        converted.abandon(now=NOW + dt.timedelta(days=2))
    with pytest.raises(InvalidTransition, match="only an APPROVED offer"):
        reject().abandon(now=NOW + dt.timedelta(days=2))


def test_a_loaded_application_is_verified_not_trusted() -> None:
    application = approve()
    with pytest.raises(InvariantViolation, match="total_amount != loan_amount"):
        attrs.evolve(application, total_amount=31_501)
    with pytest.raises(InvariantViolation, match="does not add up to total_amount"):
        attrs.evolve(application, proposed_schedule=application.proposed_schedule[:-1])
    with pytest.raises(InvariantViolation, match="created_at must be an aware UTC"):
        attrs.evolve(application, created_at=dt.datetime(2026, 1, 5))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(InvariantViolation, match="no TTL and no loan"):
        attrs.evolve(reject(), expires_at=NOW)


@given(application=applications())
def test_generated_applications_are_consistent(application: LoanApplication) -> None:
    application.verify()
    if application.status is ApplicationStatus.APPROVED:
        assert application.is_live(application.created_at)
        assert application.total_amount == application.loan_amount + application.origination_fee
    else:
        assert application.adverse_actions
