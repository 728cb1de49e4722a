import datetime as dt
from decimal import Decimal

import pytest

from loc_adapters.memory import (
    InMemoryDatabase,
    InMemoryUnitOfWork,
    ManualClock,
    RecordingAlerter,
    RecordingNotifier,
)
from loc_core.creditline import (
    CreditLineApplication,
    CreditLineProduct,
)
from loc_core.errors import NotFound
from loc_core.events import EventType
from loc_core.installment import Process
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import SettlementEvent, Severity
from loc_core.services.settlement import Settled, handle_settlement_event
from loc_core.testing.installment import make_loan

DAY = dt.date(2026, 3, 10)
NOW = dt.datetime(2026, 3, 12, 12, tzinfo=dt.UTC)
PRODUCT = CreditLineProduct()


@pytest.fixture
def database() -> InMemoryDatabase:
    database = InMemoryDatabase(ManualClock(NOW))
    loan = make_loan(disbursed_on=dt.date(2026, 3, 2))
    loan.apply_payment("loan-pay", 5_000, process=Process.MANUAL, rail=Rail.ACH, today=DAY)
    application = CreditLineApplication.approved(
        application_id="app-line",
        user_id="user-2",
        created_at=dt.datetime(2026, 3, 5, 14, tzinfo=dt.UTC),
        credit_limit=50_000,
        apr=Decimal("29.99"),
        minimum_payment_percent=Decimal(3),
        product=PRODUCT,
    )
    line = application.open_line(
        line_id="line-1",
        now=dt.datetime(2026, 3, 5, 14, tzinfo=dt.UTC),
        product=PRODUCT,
    )
    line.request_draw(draw_id="d1", amount=20_000, on=DAY)
    line.disburse_draw(draw_id="d1", rail=Rail.RTP, on=DAY)
    line.submit_payment(payment_id="line-pay", amount=3_000, rail=Rail.ACH, on=DAY)
    uow = InMemoryUnitOfWork(database)
    with uow:
        uow.loans.add(loan)
        uow.lines.add(line)
        uow.commit(actor="test", request_id="setup")
    return database


def event(key: str, outcome: SettlementOutcome) -> SettlementEvent:
    return SettlementEvent(
        event_id=f"{key}:{outcome.value}",
        idempotency_key=key,
        confirmation_id="c-1",
        rail=Rail.ACH,
        outcome=outcome,
        occurred_at=NOW,
    )


def route(
    database: InMemoryDatabase, delivered: SettlementEvent
) -> tuple[Settled, RecordingNotifier, RecordingAlerter]:
    notifier, alerter = RecordingNotifier(), RecordingAlerter()
    settled = handle_settlement_event(
        delivered,
        uow=InMemoryUnitOfWork(database),
        clock=database.clock,
        line_product=PRODUCT,
        notifier=notifier,
        alerter=alerter,
    )
    return settled, notifier, alerter


def test_a_loan_payments_return_reaches_the_loan_once(database: InMemoryDatabase) -> None:
    returned = event("loan-pay", SettlementOutcome.RETURNED)
    settled, notifier, _ = route(database, returned)
    assert settled == Settled("installment", "settled")
    assert [e.type for e in notifier.sent] == [EventType.PAYMENT_FAILED]
    again, notifier, _ = route(database, returned)
    assert again == Settled("installment", "duplicate")
    assert notifier.sent == []
    with InMemoryUnitOfWork(database) as uow:
        assert uow.loans.get("user-1", "loan-1").outstanding_balance == 31_500


def test_a_line_payments_return_reaches_the_line_once(database: InMemoryDatabase) -> None:
    returned = event("line-pay", SettlementOutcome.RETURNED)
    settled, notifier, _ = route(database, returned)
    assert settled == Settled("creditline", "reversed")
    assert [e.type for e in notifier.sent] == [EventType.LOC_PAYMENT_FAILED]
    assert route(database, returned)[0] == Settled("creditline", "duplicate")
    with InMemoryUnitOfWork(database) as uow:
        assert uow.lines.get("user-2", "line-1").principal_balance == 20_000


def test_an_unknown_transfer_is_alerted_and_not_found(database: InMemoryDatabase) -> None:
    notifier, alerter = RecordingNotifier(), RecordingAlerter()
    with pytest.raises(NotFound, match="no loan or line records transfer 'mystery'"):
        handle_settlement_event(
            event("mystery", SettlementOutcome.COMPLETED),
            uow=InMemoryUnitOfWork(database),
            clock=database.clock,
            line_product=PRODUCT,
            notifier=notifier,
            alerter=alerter,
        )
    assert [a.severity for a in alerter.posted] == [Severity.CRITICAL]
