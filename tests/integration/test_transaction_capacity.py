"""The start-up check counts what the DynamoDB adapter really writes when an offer is accepted.

For generated products that pass the check, the acceptance commit's real
`TransactWriteItems` (seen through botocore's events) holds exactly the items
`acceptance_items` counted, and so never more than DynamoDB's 100.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from integration.conftest import START

from loc_adapters.dynamodb import DynamoTable, DynamoUnitOfWork, create_table
from loc_adapters.memory import InMemoryUsers, ManualClock
from loc_core.errors import InvalidConfiguration, InvariantViolation
from loc_core.installment import InstallmentProduct, LoanApplication, OriginationFee, originate
from loc_core.payments import Rail
from loc_core.ports import TRANSACTION_LIMIT, Clock, UnitOfWork, Users
from loc_core.services.checks import acceptance_items
from loc_core.services.commands import AcceptOffer
from loc_entrypoints.bootstrap import bootstrap

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_TRANSACT = "provide-client-params.dynamodb.TransactWriteItems"


def _offer(product: InstallmentProduct, fee: OriginationFee) -> LoanApplication:
    """An approved offer to user-1 of the product's longest schedule."""
    return LoanApplication.approve(
        product=product,
        user_id="user-1",
        application_id="app-1",
        loan_number="FM-000001",
        loan_amount=10_000 * product.max_installments,
        fee=fee,
        now=START,
        installment_count=product.max_installments,
    )


def _longest(count: int) -> InstallmentProduct:
    return InstallmentProduct(min_installments=1, default_installments=1, max_installments=count)


def products() -> st.SearchStrategy[InstallmentProduct]:
    """Products of any size; the check decides which may be used."""
    return st.builds(_longest, st.integers(min_value=1, max_value=60))


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(product=products(), fixed_fee=st.booleans(), autopay=st.booleans())
@example(product=_longest(46), fixed_fee=False, autopay=True)  # the largest that fits: 99 items
@example(product=_longest(47), fixed_fee=True, autopay=False)  # the smallest refused: 101
def test_the_acceptance_commit_on_dynamodb_is_what_the_check_counted(
    dynamodb: DynamoDBClient, *, product: InstallmentProduct, fixed_fee: bool, autopay: bool
) -> None:
    name = f"cap-{uuid.uuid4().hex[:12]}-loc-service"
    clock = ManualClock(START)
    uow = DynamoUnitOfWork(create_table(dynamodb, name), clock=clock)
    users = InMemoryUsers()
    users.add("user-1", active=True)
    sizes: list[int] = []

    def record(params: dict[str, Any], **_: object) -> None:
        sizes.append(len(params["TransactItems"]))

    dynamodb.meta.events.register(_TRANSACT, record)
    try:
        overrides = {InstallmentProduct: product, UnitOfWork: uow, Clock: clock, Users: users}
        try:
            bus = bootstrap(overrides=overrides)
        except InvalidConfiguration:
            assert acceptance_items(product) > TRANSACTION_LIMIT
            return
        count = product.max_installments
        fee = OriginationFee.fixed(1_500) if fixed_fee else OriginationFee.percentage(Decimal(5))
        offer = _offer(product, fee)
        with uow:
            uow.loan_applications.add(offer)
            uow.commit(actor="test", request_id="offer")
        sizes.clear()
        loan = bus.handle(AcceptOffer("user-1", "app-1", autopay_enabled=autopay))
    finally:
        dynamodb.meta.events.unregister(_TRANSACT, record)
        dynamodb.delete_table(TableName=name)
    assert len(loan.installments) == count
    # the intent before the rail call, the booking, the intent closed once events went out
    assert sizes == [1, acceptance_items(product), 1]
    assert max(sizes) <= TRANSACTION_LIMIT


def test_a_commit_over_the_limit_is_refused_before_dynamodb_sees_it(
    dynamodb: DynamoDBClient, table: DynamoTable
) -> None:
    product = InstallmentProduct(max_installments=60)
    offer = _offer(product, OriginationFee.fixed(1_500))
    offer.outbox.drain()
    loan = originate(
        offer,
        product=product,
        loan_id="loan-1",
        installment_id=lambda number: f"inst-{number}",
        disbursed_on=START.date(),
        rail=Rail.ACH,
        confirmation_id="conf-1",
        now=START,
        autopay_enabled=True,
    )
    sizes: list[int] = []

    def record(params: dict[str, Any], **_: object) -> None:
        sizes.append(len(params["TransactItems"]))

    uow = DynamoUnitOfWork(table, clock=ManualClock(START))
    dynamodb.meta.events.register(_TRANSACT, record)
    try:
        with uow:
            uow.loans.add(loan)
            with pytest.raises(InvariantViolation, match="at most 100") as refused:
                uow.commit(actor="test", request_id="r-1")
    finally:
        dynamodb.meta.events.unregister(_TRANSACT, record)
    assert refused.value.invariant == "transaction_limit"
    assert sizes == []
