"""The `IntentRepository` contract: transfer intents stored, found, versioned and indexed."""

import datetime as dt

import pytest

from contracts.uow import UowFactory, pay, store_loan
from loc_core.errors import ConcurrencyConflict, NotFound
from loc_core.events import DomainEvent, EventType
from loc_core.installment import Process
from loc_core.intents import IntentKind, IntentStatus, TransferIntent
from loc_core.payments import Direction, Rail, SettlementOutcome
from loc_core.ports import IntentRef, SettlementEvent

MADE = dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC)


def make_intent(
    intent_id: str = "manual:loan-1:key-1",
    *,
    user_id: str = "user-1",
    created_at: dt.datetime = MADE,
    account_id: str = "loan-1",
) -> TransferIntent:
    return TransferIntent(
        intent_id=intent_id,
        user_id=user_id,
        kind=IntentKind.LOAN_PAYMENT,
        account_id=account_id,
        direction=Direction.DEBIT,
        amount=1_000,
        rails=(Rail.PINLESS, Rail.ACH),
        fingerprint="fp-1",
        request_key="key-1",
        created_at=created_at,
        updated_at=created_at,
    )


def settled(intent: TransferIntent, event_id: str = "evt-1") -> SettlementEvent:
    return SettlementEvent(
        event_id=event_id,
        idempotency_key=intent.transfer_key(Rail.ACH),
        confirmation_id="conf-1",
        rail=Rail.ACH,
        outcome=SettlementOutcome.COMPLETED,
        occurred_at=MADE + dt.timedelta(hours=1),
    )


def store(new_uow: UowFactory, *intents: TransferIntent) -> None:
    with new_uow() as uow:
        for intent in intents:
            uow.intents.add(intent)
        uow.commit(actor="test", request_id="setup")


def open_ids(new_uow: UowFactory, before: dt.datetime) -> list[str]:
    with new_uow() as uow:
        return [ref.intent_id for ref in uow.intents.open_before(before)]


class IntentRepositoryContract:
    def test_an_added_intent_reads_back_by_owner_and_by_id_alone(self, new_uow: UowFactory) -> None:
        intent = make_intent()
        store(new_uow, intent)
        with new_uow() as uow:
            mine = uow.intents.get("user-1", intent.intent_id)
            found = uow.intents.find(intent.intent_id)
        assert mine == found
        assert mine is not intent
        assert (mine.version, mine.status, mine.rails) == (1, IntentStatus.PENDING, intent.rails)
        assert mine.transfer_keys == intent.transfer_keys

    def test_another_users_id_and_unstorable_ids_find_nothing(self, new_uow: UowFactory) -> None:
        intent = make_intent()
        store(new_uow, intent)
        with new_uow() as uow:
            with pytest.raises(NotFound) as other:
                uow.intents.get("user-2", intent.intent_id)
            for user_id, intent_id in [("user-1#", intent.intent_id), ("user-1", "x#y"), ("", "")]:
                with pytest.raises(NotFound):
                    uow.intents.get(user_id, intent_id)
            assert uow.intents.find("manual:loan-1:key-9") is None
            assert uow.intents.find("INTENT#" + intent.intent_id) is None
            assert uow.intents.find("") is None
        assert other.value.context == {
            "entity": "intent",
            "entity_id": intent.intent_id,
            "user_id": "user-2",
        }

    def test_an_id_is_taken_once_even_by_another_user(self, new_uow: UowFactory) -> None:
        store(new_uow, make_intent())
        with pytest.raises(ConcurrencyConflict):
            store(new_uow, make_intent(user_id="user-2"))
        with new_uow() as uow:
            assert uow.intents.get("user-1", "manual:loan-1:key-1").version == 1

    def test_a_stale_save_conflicts_and_writes_nothing(self, new_uow: UowFactory) -> None:
        store(new_uow, make_intent())
        with new_uow() as first, new_uow() as second:
            mine = first.intents.get("user-1", "manual:loan-1:key-1")
            theirs = second.intents.get("user-1", "manual:loan-1:key-1")
            mine.abandon("declined", now=MADE)
            first.intents.save(mine)
            first.commit(actor="a", request_id="a")
            theirs.book(rail=Rail.ACH, confirmation_id="c", outcome="pay-1", events=[], now=MADE)
            second.intents.save(theirs)
            with pytest.raises(ConcurrencyConflict):
                second.commit(actor="b", request_id="b")
        with new_uow() as uow:
            stored = uow.intents.get("user-1", "manual:loan-1:key-1")
        assert (stored.status, stored.outcome, stored.version) == (
            IntentStatus.ABANDONED,
            "declined",
            2,
        )

    def test_held_events_and_events_to_publish_are_kept_exactly(self, new_uow: UowFactory) -> None:
        intent = make_intent()
        intent.hold(settled(intent), now=MADE)
        event = DomainEvent(
            EventType.PAYMENT_SUCCEEDED,
            "user-1",
            "pay-1",
            dt.date(2026, 1, 5),
            {"amount": 1_000, "rail": "ach", "late": False, "note": None},
        )
        intent.book(
            rail=Rail.ACH, confirmation_id="conf-1", outcome="pay-1", events=[event], now=MADE
        )
        store(new_uow, intent)
        with new_uow() as uow:
            stored = uow.intents.get("user-1", intent.intent_id)
        assert stored.held_events == [settled(intent)]
        assert stored.to_publish == [event]
        assert (stored.accepted_rail, stored.confirmation_id, stored.outcome) == (
            Rail.ACH,
            "conf-1",
            "pay-1",
        )

    def test_open_intents_are_listed_oldest_first_before_a_time(self, new_uow: UowFactory) -> None:
        hour = dt.timedelta(hours=1)
        store(
            new_uow,
            make_intent("i-3", created_at=MADE + 2 * hour),
            make_intent("i-1", created_at=MADE),
            make_intent("i-2", user_id="user-2", created_at=MADE + hour),
            make_intent("i-0", created_at=MADE + hour),
        )
        assert open_ids(new_uow, MADE + 2 * hour) == ["i-1", "i-0", "i-2"]
        assert open_ids(new_uow, MADE) == []
        with new_uow() as uow:
            refs = uow.intents.open_before(MADE + 3 * hour)
        assert refs[-1] == IntentRef("user-1", "i-3", MADE + 2 * hour)

    def test_an_intent_leaves_the_open_index_when_nothing_is_left_to_do(
        self, new_uow: UowFactory
    ) -> None:
        store(new_uow, make_intent("booked"), make_intent("publishing"), make_intent("dropped"))
        later = MADE + dt.timedelta(days=1)
        event = DomainEvent(EventType.PAYMENT_SUCCEEDED, "user-1", "pay-2", dt.date(2026, 1, 5))
        with new_uow() as uow:
            booked = uow.intents.get("user-1", "booked")
            booked.book(rail=Rail.ACH, confirmation_id="c", outcome="pay-1", events=[], now=later)
            publishing = uow.intents.get("user-1", "publishing")
            publishing.book(
                rail=Rail.ACH, confirmation_id="c", outcome="pay-2", events=[event], now=later
            )
            dropped = uow.intents.get("user-1", "dropped")
            dropped.abandon("declined everywhere", now=later)
            for intent in (booked, publishing, dropped):
                uow.intents.save(intent)
            uow.commit(actor="test", request_id="finish")
        assert open_ids(new_uow, later) == ["publishing"]
        with new_uow() as uow:
            publishing = uow.intents.get("user-1", "publishing")
            publishing.published(later)
            uow.intents.save(publishing)
            uow.commit(actor="test", request_id="published")
        assert open_ids(new_uow, later) == []

    def test_an_accounts_open_intents_are_the_borrowers_unfinished_ones_oldest_first(
        self, new_uow: UowFactory
    ) -> None:
        hour = dt.timedelta(hours=1)
        store(
            new_uow,
            make_intent("late", created_at=MADE + hour),
            make_intent("early", created_at=MADE),
            make_intent("booked"),
            make_intent("held", created_at=MADE + 2 * hour),
            make_intent("dropped"),
            make_intent("other-line", account_id="line-1"),
            make_intent("other-user", user_id="user-2"),
        )
        with new_uow() as uow:
            booked = uow.intents.get("user-1", "booked")
            booked.book(rail=Rail.ACH, confirmation_id="c", outcome="pay-1", events=[], now=MADE)
            booked.published(MADE)
            held = uow.intents.get("user-1", "held")
            held.held_events.append(settled(held))
            held.book(rail=Rail.ACH, confirmation_id="c", outcome="pay-2", events=[], now=MADE)
            dropped = uow.intents.get("user-1", "dropped")
            dropped.held_events.append(settled(dropped))  # kept, never applied: no work left
            dropped.abandon("declined everywhere", now=MADE)
            for finished in (booked, held, dropped):
                uow.intents.save(finished)
            uow.commit(actor="test", request_id="finish")
        with new_uow() as uow:
            assert [i.intent_id for i in uow.intents.open_for("user-1", "loan-1")] == [
                "early",
                "late",
                "held",  # booked, its held settlement event not applied yet
            ]
            assert [i.intent_id for i in uow.intents.open_for("user-2", "loan-1")] == ["other-user"]
            assert uow.intents.open_for("user-1", "loan-2") == []
            dropped = uow.intents.get("user-1", "dropped")
            dropped.reopen(MADE + hour)
            held = uow.intents.get("user-1", "held")
            held.held_events.clear()
            held.published(MADE + hour)
            uow.intents.save(dropped)
            uow.intents.save(held)
            uow.commit(actor="test", request_id="reopen")
        with new_uow() as uow:
            assert [i.intent_id for i in uow.intents.open_for("user-1", "loan-1")] == [
                "dropped",
                "early",
                "late",
            ]

    def test_an_intent_is_booked_with_the_loan_or_not_at_all(self, new_uow: UowFactory) -> None:
        store_loan(new_uow)
        store(new_uow, make_intent())
        with new_uow() as first, new_uow() as second:
            stale = second.loans.get("user-1", "loan-1")
            intent = second.intents.get("user-1", "manual:loan-1:key-1")
            pay(first, "pay-0", 500)
            first.commit(actor="other", request_id="other")  # the loan moves on meanwhile
            stale.apply_payment(
                "pay-1", 1_000, process=Process.MANUAL, rail=Rail.ACH, today=dt.date(2026, 1, 6)
            )
            second.loans.save(stale)
            intent.book(rail=Rail.ACH, confirmation_id="c", outcome="pay-1", events=[], now=MADE)
            second.intents.save(intent)
            with pytest.raises(ConcurrencyConflict):
                second.commit(actor="test", request_id="book")
        with new_uow() as uow:
            stored = uow.intents.get("user-1", "manual:loan-1:key-1")
            assert (stored.status, stored.version) == (IntentStatus.PENDING, 1)
            assert sorted(uow.loans.get("user-1", "loan-1").payments) == ["pay-0"]
