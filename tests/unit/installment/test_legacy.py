import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from loc_core.installment import InstallmentProduct, InstallmentStatus
from loc_core.installment.legacy import (
    LEGACY_TERMS,
    InstallmentParts,
    defaulted_on,
    installment_parts,
    numbered_by_due_date,
    overdue_on,
    scheduled_parts,
    split_applications,
)

PRODUCT = InstallmentProduct()  # five days of grace, default after sixty
DUE = dt.date(2024, 2, 2)


def test_a_go_loan_has_the_default_terms() -> None:
    assert InstallmentProduct() == LEGACY_TERMS


def test_installments_are_numbered_in_due_date_order_then_by_id() -> None:
    stored = [("c", dt.date(2024, 3, 1)), ("b", dt.date(2024, 2, 1)), ("a", dt.date(2024, 3, 1))]
    numbered = numbered_by_due_date(stored, due_date=lambda i: i[1], tiebreak=lambda i: i[0])
    assert [(number, i[0]) for number, i in numbered] == [(1, "b"), (2, "a"), (3, "c")]


def test_the_schedule_splits_total_and_fee_evenly_earliest_first() -> None:
    assert scheduled_parts(total_amount=31_501, origination_fee=1_502, count=3) == [
        (10_501, 501),
        (10_500, 501),
        (10_500, 500),
    ]


def test_missing_parts_come_from_the_schedule_and_the_late_fee_is_the_rest() -> None:
    parts = installment_parts(scheduled=(5_250, 250), total_amount=5_513)
    assert parts == InstallmentParts(late_fee=263, origination_fee=250, principal=5_000)


def test_stored_parts_are_kept() -> None:
    parts = installment_parts(
        scheduled=(5_250, 250), total_amount=5_513, origination_fee=300, principal=4_950
    )
    assert parts == InstallmentParts(late_fee=263, origination_fee=300, principal=4_950)
    kept = installment_parts(scheduled=(5_250, 250), total_amount=5_250, late_fee=0)
    assert kept.late_fee == 0


@given(
    total=st.integers(min_value=1, max_value=10**9),
    fee=st.integers(min_value=0, max_value=10**7),
    count=st.integers(min_value=1, max_value=60),
)
def test_derived_parts_add_up_to_each_total_and_the_loan(total: int, fee: int, count: int) -> None:
    schedule = scheduled_parts(total_amount=total, origination_fee=fee, count=count)
    parts = [installment_parts(scheduled=s, total_amount=s[0]) for s in schedule]
    assert sum(p.late_fee for p in parts) == 0
    assert sum(p.origination_fee + p.principal for p in parts) == total
    assert sum(p.origination_fee for p in parts) == fee


def test_an_overdue_or_late_charged_installment_became_overdue_after_grace() -> None:
    day = dt.date(2024, 2, 7)
    assert (
        overdue_on(due_date=DUE, status=InstallmentStatus.OVERDUE, late_fee=0, product=PRODUCT)
        == day
    )
    assert (
        overdue_on(due_date=DUE, status=InstallmentStatus.COMPLETED, late_fee=263, product=PRODUCT)
        == day
    )


def test_an_installment_without_late_fee_that_is_not_overdue_never_was() -> None:
    assert (
        overdue_on(due_date=DUE, status=InstallmentStatus.SCHEDULED, late_fee=0, product=PRODUCT)
        is None
    )


def test_payments_pay_late_fee_then_fee_then_principal_in_order() -> None:
    parts = InstallmentParts(late_fee=263, origination_fee=250, principal=5_000)
    assert split_applications([500, 1_000], parts) == [
        InstallmentParts(late_fee=263, origination_fee=237, principal=0),
        InstallmentParts(late_fee=0, origination_fee=13, principal=987),
    ]


@given(
    parts=st.tuples(*[st.integers(min_value=0, max_value=10_000)] * 3),
    data=st.data(),
)
def test_a_split_places_every_cent_of_what_was_owed(
    parts: tuple[int, int, int], data: st.DataObject
) -> None:
    owed = sum(parts)
    amounts = data.draw(st.lists(st.integers(min_value=1, max_value=owed + 1), max_size=4))
    splits = split_applications(amounts, InstallmentParts(*parts))
    paid = [s.late_fee + s.origination_fee + s.principal for s in splits]
    assert sum(paid) == min(sum(amounts), owed)
    assert all(p <= a for p, a in zip(paid, amounts, strict=True))


def test_a_loan_defaulted_after_its_first_unpaid_installment_was_overdue_long_enough() -> None:
    unpaid = [(dt.date(2024, 3, 1), None), (DUE, dt.date(2024, 2, 7)), (dt.date(2024, 2, 16), None)]
    assert defaulted_on(unpaid, product=PRODUCT) == dt.date(2024, 4, 7)


def test_an_unknown_overdue_day_is_the_due_date_plus_grace() -> None:
    assert defaulted_on([(DUE, None)], product=PRODUCT) == dt.date(2024, 4, 7)


def test_a_loan_with_nothing_unpaid_has_no_default_day() -> None:
    assert defaulted_on([], product=PRODUCT) is None
