"""Loans the original Go service wrote: the rules that derive what it did not store.

The Go service stored each installment's total and balance, but not its parts, its
number, the day it became overdue or how a payment split across the parts; nor the day a
loan defaulted. Each is derived here the way this library computes it, so an adopted
loan verifies like any other. Any split that sums to the total and verifies is valid for
an existing loan, so these rules need not repeat the Go service's own arithmetic. The
rules are listed in ``docs/data-model.md``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

import attrs

from loc_core.installment.config import InstallmentProduct
from loc_core.installment.vocabulary import InstallmentStatus
from loc_core.money import split_evenly, waterfall

__all__ = [
    "LEGACY_TERMS",
    "InstallmentParts",
    "defaulted_on",
    "installment_parts",
    "numbered_by_due_date",
    "overdue_on",
    "scheduled_parts",
    "split_applications",
]

T = TypeVar("T")

LEGACY_TERMS = InstallmentProduct()
"""The terms of a loan the Go service wrote: it stored none, so the product's defaults."""


@attrs.frozen
class InstallmentParts:
    """An amount in the three buckets of an installment, in `WATERFALL` order."""

    late_fee: int
    origination_fee: int
    principal: int


def numbered_by_due_date(
    installments: Sequence[T],
    *,
    due_date: Callable[[T], dt.date],
    tiebreak: Callable[[T], str],
) -> list[tuple[int, T]]:
    """Each installment with its number: its place in due-date order, from 1.

    Installments due the same day are ordered by `tiebreak` (a stable key such as the id).
    """
    ordered = sorted(
        installments, key=lambda installment: (due_date(installment), tiebreak(installment))
    )
    return list(enumerate(ordered, start=1))


def scheduled_parts(
    *, total_amount: int, origination_fee: int, count: int
) -> list[tuple[int, int]]:
    """Each installment's scheduled amount and origination-fee part, by number.

    Origination splits both evenly, the earliest installments carrying the odd cents
    (`build_schedule` and `originate`).
    """
    return list(
        zip(split_evenly(total_amount, count), split_evenly(origination_fee, count), strict=True)
    )


def installment_parts(
    *,
    scheduled: tuple[int, int],
    total_amount: int,
    origination_fee: int | None = None,
    principal: int | None = None,
    late_fee: int | None = None,
) -> InstallmentParts:
    """The parts of an installment of `total_amount`, keeping each part that was stored.

    A missing fee part is the scheduled one (`scheduled_parts`), a missing principal the
    scheduled amount less the fee, and a missing late fee the rest of the total.
    """
    amount, scheduled_fee = scheduled
    fee = scheduled_fee if origination_fee is None else origination_fee
    principal = amount - fee if principal is None else principal
    late_fee = total_amount - principal - fee if late_fee is None else late_fee
    return InstallmentParts(late_fee=late_fee, origination_fee=fee, principal=principal)


def overdue_on(
    *,
    due_date: dt.date,
    status: InstallmentStatus,
    late_fee: int,
    product: InstallmentProduct,
) -> dt.date | None:
    """The day an installment became overdue, or None if it never was.

    An installment that is OVERDUE or carries a late fee became overdue on the day the
    daily job makes it (`InstallmentProduct.overdue_on`).
    """
    if status is InstallmentStatus.OVERDUE or late_fee > 0:
        return product.overdue_on(due_date)
    return None


def split_applications(amounts: Sequence[int], parts: InstallmentParts) -> list[InstallmentParts]:
    """How payments of `amounts` whose split is unknown paid an installment's `parts`.

    Applied in the order given, each pays late fee, then fee, then principal
    (`WATERFALL`) out of what the earlier ones left owing.
    """
    left = [parts.late_fee, parts.origination_fee, parts.principal]
    splits: list[InstallmentParts] = []
    for amount in amounts:
        paid, _ = waterfall(amount, left)
        splits.append(InstallmentParts(*paid))
        left = [owed - part for owed, part in zip(left, paid, strict=True)]
    return splits


def defaulted_on(
    unpaid: Sequence[tuple[dt.date, dt.date | None]], *, product: InstallmentProduct
) -> dt.date | None:
    """The day a DEFAULTED loan defaulted, or None when no installment is unpaid.

    `unpaid` holds each unpaid installment's due date and the day it became overdue (None
    when unknown: `InstallmentProduct.overdue_on`). The loan defaulted
    `default_after_days` after the first of them became overdue.
    """
    overdue = [became or product.overdue_on(due) for due, became in unpaid]
    if not overdue:
        return None
    return min(overdue) + dt.timedelta(days=product.default_after_days)
