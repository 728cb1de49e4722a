"""An offer disclosed again is stored and read back, in memory and in DynamoDB alike.

`redisclosed_on` is stored as ``loc_redisclosed_on`` (``YYYY-MM-DD``) once an offer was
disclosed again; an application never disclosed again (every one the Go service wrote)
has no such attribute and is disclosed as of the day it was made.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from contracts.uow import UowFactory
from fakes import loan_offer

from loc_adapters.dynamodb import DynamoTable
from loc_adapters.memory import InMemoryDatabase, InMemoryUnitOfWork, ManualClock
from loc_core.installment import InstallmentProduct, LoanApplication, build_schedule

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MADE = dt.datetime(2026, 1, 2, 23, 30, tzinfo=dt.UTC)
"""A Friday night."""
SATURDAY = dt.date(2026, 1, 3)


def disclosed_again(offer: LoanApplication) -> None:
    schedule = build_schedule(
        total_amount=offer.total_amount,
        count=len(offer.proposed_schedule),
        disbursed_on=SATURDAY,
        product=InstallmentProduct(),
    )
    offer.disclose_again(
        schedule=schedule,
        disclosed_on=SATURDAY,
        now=MADE + dt.timedelta(hours=1),
        reason="disclosed again as of 2026-01-03",
    )


def round_trip(new_uow: UowFactory) -> tuple[LoanApplication, LoanApplication]:
    """An offer saved, disclosed again and saved; what was saved and what reads back."""
    offer = loan_offer(MADE)
    with new_uow() as uow:
        uow.loan_applications.add(offer)
        uow.commit(actor="test", request_id="approve")
    with new_uow() as uow:
        stored = uow.loan_applications.get("user-1", offer.application_id)
        assert (stored.redisclosed_on, stored.disclosed_on) == (None, MADE.date())
        disclosed_again(stored)
        uow.loan_applications.save(stored)
        uow.commit(actor="test", request_id="disclose")
    with new_uow() as uow:
        return stored, uow.loan_applications.get("user-1", offer.application_id)


def assert_same_terms(saved: LoanApplication, read: LoanApplication) -> None:
    assert (read.redisclosed_on, read.disclosed_on) == (SATURDAY, SATURDAY)
    assert read.proposed_schedule == saved.proposed_schedule
    assert read.agreement_key is None
    assert [line.due_date.isoformat() for line in read.proposed_schedule][:2] == [
        "2026-01-20",  # the 17th is a Saturday and the 19th Martin Luther King Jr. Day
        "2026-02-02",  # 31 January is a Saturday
    ]


def test_an_offer_disclosed_again_round_trips_in_memory() -> None:
    database = InMemoryDatabase(ManualClock(MADE))
    saved, read = round_trip(lambda: InMemoryUnitOfWork(database))
    assert_same_terms(saved, read)


def test_an_offer_disclosed_again_round_trips_in_dynamodb(
    new_uow: UowFactory, dynamodb: DynamoDBClient, table: DynamoTable
) -> None:
    saved, read = round_trip(new_uow)
    assert_same_terms(saved, read)
    key = {"PK": {"S": "USER#user-1"}, "SK": {"S": f"LOANAPP#{saved.application_id}"}}
    item = dynamodb.get_item(TableName=table.name, Key=key)["Item"]
    assert item["loc_redisclosed_on"] == {"S": "2026-01-03"}
