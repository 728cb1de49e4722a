"""Start-up checks: what would make a booking fail for good is refused when the bus is built.

Money moves before a booking commits, so a booking that can never commit (a commit too
big for the store's transaction, a lease that runs out while the rails still answer)
would leave money moved and unbooked on every try. Each check is a plain function that
declares the ports it needs as keyword-only parameters, as handlers do; the bus runs
each once when it is built and raises its `InvalidConfiguration`, which says what is
wrong and how to fix it. ``docs/configuration.md`` lists them.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

import attrs

from loc_core.creditline import CreditLineProduct, largest_root_bytes
from loc_core.errors import InvalidConfiguration
from loc_core.installment import (
    FeeType,
    InstallmentProduct,
    LoanApplication,
    OriginationFee,
    RepaymentCadence,
    largest_installment_bytes,
    originate,
)
from loc_core.payments import REPAYMENT_RAILS, Rail
from loc_core.ports import ITEM_SIZE_LIMIT, PaymentRails, UnitOfWork, items_written
from loc_core.services.lines._unit import LEASE_TTL
from loc_core.services.loans.payments import PAYMENT_LEASE

__all__ = [
    "COMMIT_MARGIN",
    "RAIL_LEASES",
    "RailLease",
    "acceptance_items",
    "check_acceptance_fits",
    "check_leases_outlast_rails",
    "check_line_items_fit",
    "check_loan_items_fit",
]

COMMIT_MARGIN = dt.timedelta(seconds=20)
"""What a lease must leave after its rail calls: the reads before them and the booking's
commits after them, with their conflict retries *(policy)*."""


@attrs.frozen
class RailLease:
    """A lease held across rail calls, and the rails it may ask in turn."""

    what: str
    """What holds it, as an error message names it."""
    ttl: dt.timedelta
    """How long the lease lasts: its one definition, imported from where it is used."""
    order: tuple[Rail, ...]
    """The rails asked one after the other while it is held."""


RAIL_LEASES: tuple[RailLease, ...] = (
    RailLease(
        "a loan's payment lease (PAYMENT_LEASE: manual payment, autopay)",
        PAYMENT_LEASE,
        REPAYMENT_RAILS,
    ),
    RailLease(
        "a credit line's lease (LEASE_TTL: line payment, due-minimum debit)",
        LEASE_TTL,
        REPAYMENT_RAILS,
    ),
)
"""Every lease that protects a rail call."""


def check_leases_outlast_rails(*, rails: PaymentRails) -> None:
    """Refuse rails whose calls could outlast a lease held across them.

    Each lease must last at least ``len(order) x rails.timeout + COMMIT_MARGIN``: a lease
    that ran out while a rail still answered lets another payment decide on a stale
    read, and the booking of money that moved could then be refused.

    Raises:
        InvalidConfiguration: naming the lease, the time it needs and the longest
            timeout it allows.
    """
    timeout = rails.timeout
    if not isinstance(timeout, dt.timedelta) or timeout <= dt.timedelta(0):
        raise InvalidConfiguration(
            f"the payment rails' timeout must be a positive timedelta, got {timeout!r}"
        )
    for lease in RAIL_LEASES:
        needed = len(lease.order) * timeout + COMMIT_MARGIN
        if lease.ttl < needed:
            longest = (lease.ttl - COMMIT_MARGIN) / len(lease.order)
            raise InvalidConfiguration(
                f"{lease.what} lasts {lease.ttl}, but {len(lease.order)} rail calls of up to "
                f"{timeout} and the commit margin of {COMMIT_MARGIN} need {needed}: "
                f"give the payment rails a timeout of at most {longest}"
            )


def acceptance_items(product: InstallmentProduct) -> int:
    """The items the commit that accepts an offer writes, for the longest schedule.

    Counted by `items_written` on the real commit: a loan of
    ``product.max_installments`` originated from an approved offer (added: its root,
    installments, disbursement entry and creation changes), the offer it converts
    (saved: its root and conversion change) and the transfer intent it books.
    """
    return _acceptance_items(product.cadence, product.max_installments)


@functools.cache
def _acceptance_items(cadence: RepaymentCadence, count: int) -> int:
    product = InstallmentProduct(
        cadence=cadence, min_installments=1, default_installments=1, max_installments=count
    )
    now = dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC)
    offer = LoanApplication.approve(
        product=product,
        user_id="capacity-check",
        application_id="capacity-check",
        loan_number="FM-000001",
        loan_amount=100 * count,
        fee=OriginationFee(FeeType.PERCENTAGE, percent=Decimal(5)),
        now=now,
        installment_count=count,
    )
    offer.outbox.drain()  # the approval was committed when the offer was made
    loan = originate(
        offer,
        product=product,
        loan_id="capacity-check",
        installment_id=lambda number: f"capacity-check-{number}",
        disbursed_on=now.date(),
        rail=Rail.ACH,
        confirmation_id="capacity-check",
        now=now,
        autopay_enabled=True,
        disbursed=True,
    )
    intent = 1  # the disbursement's transfer intent, BOOKED in the same commit
    return items_written(loan, new=True) + items_written(offer, new=False) + intent


def check_acceptance_fits(*, uow: UnitOfWork, product: InstallmentProduct) -> None:
    """Refuse an installment product whose acceptance commit the store cannot take.

    The disbursement is paid before the loan is booked: a commit over the unit of
    work's `transaction_limit` would fail after the money moved, on every retry.

    Raises:
        InvalidConfiguration: naming the items needed, the limit, and the most
            installments that fit.
    """
    needed = acceptance_items(product)
    limit = uow.transaction_limit
    if needed <= limit:
        return
    fitting = product.max_installments - 1
    while fitting > 0 and _acceptance_items(product.cadence, fitting) > limit:
        fitting -= 1
    fix = (
        f"lower max_installments to {fitting} or fewer"
        if fitting
        else "no schedule fits: use a store with a larger transaction"
    )
    raise InvalidConfiguration(
        f"accepting an offer of max_installments={product.max_installments} writes "
        f"{needed} items in one commit; the unit of work takes at most {limit}: {fix}"
    )


def check_line_items_fit(*, product: CreditLineProduct) -> None:
    """Refuse a credit-line product whose lines' items could pass the store's item size.

    A line's root item holds its open and last cycles' activity, which grows with each
    draw and payment (`loc_core.creditline.capacity`); past `ITEM_SIZE_LIMIT`, every
    command on the line and its billing would fail, after money moved too. (Its disputes
    and waivers are items of their own, each far below the limit.)

    Raises:
        InvalidConfiguration: naming the bytes the largest root could take, the limit,
            and the most `max_movements_per_cycle` that fits (one always does).
    """
    needed = largest_root_bytes(product)
    if needed <= ITEM_SIZE_LIMIT:
        return
    fitting = product.max_movements_per_cycle - 1
    while fitting > 1 and (
        largest_root_bytes(attrs.evolve(product, max_movements_per_cycle=fitting)) > ITEM_SIZE_LIMIT
    ):
        fitting -= 1
    raise InvalidConfiguration(
        f"a credit line under max_movements_per_cycle={product.max_movements_per_cycle} can "
        f"grow its item to {needed:,} bytes; a stored item holds at most "
        f"{ITEM_SIZE_LIMIT:,}: lower max_movements_per_cycle to {fitting} or fewer"
    )


def check_loan_items_fit(*, product: InstallmentProduct) -> None:
    """Refuse an installment product whose installments' items could pass the item size.

    An installment item (and the audit record of a change to it) keeps every payment
    applied to it, and a replay may put all of a loan's payments on one installment
    (`loc_core.installment.capacity`); past `ITEM_SIZE_LIMIT`, every command on the loan
    would fail, after money moved too.

    Raises:
        InvalidConfiguration: naming the bytes the largest installment could take, the
            limit, and the most `max_manual_payments_per_loan` that fits.
    """
    needed = largest_installment_bytes(product)
    if needed <= ITEM_SIZE_LIMIT:
        return
    fitting = product.max_manual_payments_per_loan - 1
    while fitting > 0 and (
        largest_installment_bytes(attrs.evolve(product, max_manual_payments_per_loan=fitting))
        > ITEM_SIZE_LIMIT
    ):
        fitting -= 1
    fix = (
        f"lower max_manual_payments_per_loan to {fitting} or fewer"
        if fitting
        else "no bound fits: lower max_installments or max_collection_attempts"
    )
    raise InvalidConfiguration(
        f"a loan under max_manual_payments_per_loan={product.max_manual_payments_per_loan}, "
        f"max_installments={product.max_installments} and max_collection_attempts="
        f"{product.max_collection_attempts} can grow an installment's item to {needed:,} "
        f"bytes; a stored item holds at most {ITEM_SIZE_LIMIT:,}: {fix}"
    )
