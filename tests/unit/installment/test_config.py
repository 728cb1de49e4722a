import datetime as dt
from decimal import Decimal

import pytest

from loc_core.errors import InvalidConfiguration
from loc_core.installment import InstallmentProduct, RepaymentCadence
from loc_core.money import Rounding


def test_defaults_are_the_policy_of_the_domain_rules() -> None:
    product = InstallmentProduct()
    assert (product.min_installments, product.default_installments) == (4, 6)
    assert product.max_installments == 8
    assert product.cadence is RepaymentCadence.BIWEEKLY
    assert product.cadence.days == 14
    assert product.application_ttl == dt.timedelta(hours=24)
    assert product.grace_days == 5
    assert product.late_fee_fixed == 500
    assert product.late_fee_percent == Decimal(5)
    assert product.late_fee_cap_percent == Decimal(25)
    assert product.default_after_days == 60
    assert product.max_collection_attempts == 3
    assert product.fee_rounding is Rounding.HALF_UP


@pytest.mark.parametrize(
    ("installment_total", "fee"),
    [
        (5_250, 263),  # 5 % is 262.5 cents: half-up
        (10_000, 500),  # 5 % equals the fixed fee
        (20_000, 500),  # 5 % would be $10: the fixed $5 is lower
        (150, 8),  # 7.5 cents rounds up
        (1, 0),
    ],
)
def test_late_fee_is_the_lower_of_fixed_and_percent(installment_total: int, fee: int) -> None:
    assert InstallmentProduct().late_fee_for(installment_total) == fee


def test_late_fee_cap_rounds_down() -> None:
    product = InstallmentProduct()
    assert product.late_fee_cap(30_000) == 7_500
    assert product.late_fee_cap(30_003) == 7_500  # 7,500.75 never rounds past 25 %


def test_a_product_may_change_every_policy() -> None:
    product = InstallmentProduct(
        min_installments=2,
        max_installments=12,
        default_installments=3,
        grace_days=0,
        late_fee_fixed=0,
        late_fee_percent=Decimal(0),
        late_fee_cap_percent=Decimal(100),
        application_ttl=dt.timedelta(minutes=30),
        fee_rounding=Rounding.HALF_EVEN,
    )
    assert product.late_fee_for(5_000) == 0
    assert product.allows_installments(12)
    assert not product.allows_installments(13)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"min_installments": 0}, "min_installments must be at least 1, got 0"),
        ({"min_installments": 9}, r"min_installments \(9\) must not exceed max_installments \(8\)"),
        ({"default_installments": 9}, r"default_installments \(9\) must lie within .* \(4..8\)"),
        ({"default_installments": 3}, r"default_installments \(3\) must lie within"),
        ({"max_installments": 6.0}, "max_installments must be an int, got float"),
        ({"default_installments": True}, "default_installments must be an int, got bool"),
        ({"grace_days": -1}, "grace_days must be at least 0"),
        ({"late_fee_fixed": 5.0}, r"late_fee_fixed \(cents\) must be an int"),
        ({"late_fee_fixed": -1}, r"late_fee_fixed \(cents\) must be at least 0"),
        ({"late_fee_percent": 5.0}, "late_fee_percent must be a Decimal percent"),
        ({"late_fee_percent": "5"}, "late_fee_percent must be a Decimal percent"),
        ({"late_fee_percent": Decimal(-1)}, "late_fee_percent must be at least 0"),
        ({"late_fee_cap_percent": Decimal("100.01")}, "late_fee_cap_percent must be at most 100"),
        ({"late_fee_cap_percent": Decimal("NaN")}, "late_fee_cap_percent must be finite"),
        ({"default_after_days": 0}, "default_after_days must be at least 1"),
        ({"max_collection_attempts": 0}, "max_collection_attempts must be at least 1"),
        ({"application_ttl": dt.timedelta(0)}, "application_ttl must be a positive timedelta"),
        ({"application_ttl": 86_400}, "application_ttl must be a positive timedelta"),
        ({"fee_rounding": "HALF_UP"}, "fee_rounding must be a Rounding mode"),
        ({"cadence": "biweekly"}, "cadence must be a RepaymentCadence"),
    ],
)
def test_invalid_configurations_are_refused_with_a_specific_message(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidConfiguration, match=message):
        InstallmentProduct(**changes)  # type: ignore[arg-type]  # wrong types on purpose
