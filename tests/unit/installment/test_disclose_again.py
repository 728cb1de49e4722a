"""An offer disclosed again: its schedule runs from another day, its agreement is refiled."""

import datetime as dt

import attrs
import pytest
from fakes import loan_offer, refused

from loc_core.applications import AdverseAction
from loc_core.disclosures import loan_disclosure
from loc_core.errors import DomainError, InvalidTimestamp, InvalidTransition, InvariantViolation
from loc_core.events import FieldChange
from loc_core.installment import (
    InstallmentProduct,
    LoanApplication,
    ScheduledInstallment,
    build_schedule,
)

PRODUCT = InstallmentProduct()
NOW = dt.datetime(2026, 4, 10, 23, 30, tzinfo=dt.UTC)
SATURDAY = dt.date(2026, 4, 11)
LATER = NOW + dt.timedelta(hours=1)


def saturdays(offer: LoanApplication) -> tuple[ScheduledInstallment, ...]:
    return build_schedule(
        total_amount=offer.total_amount, count=6, disbursed_on=SATURDAY, product=PRODUCT
    )


def test_disclosing_again_replaces_the_terms_and_clears_the_agreement_key() -> None:
    offer = loan_offer(NOW)
    offer.file_agreement("agreements/user-1/app-1.pdf", now=NOW)
    offer.outbox.drain()
    assert (offer.disclosed_on, offer.redisclosed_on) == (NOW.date(), None)
    offer.disclose_again(schedule=saturdays(offer), disclosed_on=SATURDAY, now=LATER, reason="why")
    assert offer.proposed_schedule == saturdays(offer)
    assert (offer.disclosed_on, offer.redisclosed_on) == (SATURDAY, SATURDAY)
    assert (offer.agreement_key, offer.updated_at) == (None, LATER)
    assert loan_disclosure(offer, PRODUCT).disclosed_on == SATURDAY
    [change] = offer.outbox.changes
    assert (change.process, change.reason) == ("UNDERWRITING", "why")
    assert FieldChange("redisclosed_on", None, "2026-04-11") in change.fields
    assert FieldChange("agreement_key", "agreements/user-1/app-1.pdf", None) in change.fields


def test_a_converted_offer_may_be_disclosed_again_on_its_loans_terms() -> None:
    offer = loan_offer(NOW)
    offer.convert(loan_id="loan-1", now=LATER)
    offer.disclose_again(schedule=saturdays(offer), disclosed_on=SATURDAY, now=LATER, reason="r")
    assert (offer.loan_id, offer.disclosed_on) == ("loan-1", SATURDAY)


def test_only_an_approved_offer_with_its_own_totals_is_disclosed_again() -> None:
    offer = loan_offer(NOW)
    schedule = saturdays(offer)
    first, *rest = schedule
    with refused(offer, DomainError, match="is not its terms"):
        offer.disclose_again(
            schedule=(ScheduledInstallment(first.amount + 1, first.due_date), *rest),
            disclosed_on=SATURDAY,
            now=LATER,
            reason="r",
        )
    with refused(offer, DomainError, match="is not its terms"):
        offer.disclose_again(schedule=schedule[:5], disclosed_on=SATURDAY, now=LATER, reason="r")
    with refused(offer, DomainError, match="was made on 2026-04-10"):
        offer.disclose_again(
            schedule=schedule, disclosed_on=dt.date(2026, 4, 9), now=LATER, reason="r"
        )
    with refused(offer, InvalidTimestamp, match="disclosed_on"):
        offer.disclose_again(schedule=schedule, disclosed_on=LATER, now=LATER, reason="r")
    rejected = LoanApplication.reject(
        user_id="user-1",
        application_id="app-2",
        adverse_actions=[AdverseAction("R01", "Insufficient income")],
        now=NOW,
    )
    with refused(rejected, InvalidTransition, match="no offer to disclose"):
        rejected.disclose_again(schedule=schedule, disclosed_on=SATURDAY, now=LATER, reason="r")


def test_a_stored_redisclosure_before_the_application_is_refused_on_load() -> None:
    with pytest.raises(InvariantViolation, match="redisclosed_on is before"):
        attrs.evolve(loan_offer(NOW), redisclosed_on=dt.date(2026, 4, 9))
