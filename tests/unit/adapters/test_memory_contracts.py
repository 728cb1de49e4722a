"""The in-memory adapters pass the same contract suites as the real ones."""

import datetime as dt
from collections.abc import Callable

import pytest
from contracts.documents import AGREEMENT, DocumentStoreContract
from contracts.idempotency import IdempotencyContract
from contracts.lock import LockContract
from contracts.queue import QueueContract

from loc_adapters.memory import (
    InMemoryDocumentStore,
    InMemoryIdempotencyStore,
    InMemoryLock,
    InMemoryQueue,
    ManualClock,
)
from loc_core.ports import (
    DOCUMENT_LINK_LIFETIME,
    PDF,
    DocumentStore,
    IdempotencyStore,
    Lock,
    WorkQueue,
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC))


@pytest.fixture
def advance(clock: ManualClock) -> Callable[[dt.timedelta], None]:
    return clock.advance


class TestInMemoryLock(LockContract):
    @pytest.fixture
    def lock(self, clock: ManualClock) -> Lock:
        return InMemoryLock(clock)


class TestInMemoryIdempotencyStore(IdempotencyContract):
    @pytest.fixture
    def store(self) -> IdempotencyStore:
        return InMemoryIdempotencyStore()


class TestInMemoryQueue(QueueContract):
    @pytest.fixture
    def queue(self, clock: ManualClock) -> WorkQueue:
        return InMemoryQueue(clock)


class TestInMemoryDocumentStore(DocumentStoreContract):
    @pytest.fixture
    def documents(self) -> DocumentStore:
        return InMemoryDocumentStore()

    def test_a_link_names_the_api_route_that_serves_the_document(self) -> None:
        documents = InMemoryDocumentStore(link_base="http://127.0.0.1:8000/documents/")
        documents.put(AGREEMENT, b"agreement", content_type=PDF)
        link = documents.link(AGREEMENT, expires=DOCUMENT_LINK_LIFETIME)
        assert link == "http://127.0.0.1:8000/documents/agreements/user-1/loan-1.pdf"


def test_expired_idempotency_records_are_dropped_as_time_passes(clock: ManualClock) -> None:
    store = InMemoryIdempotencyStore()
    ttl = dt.timedelta(hours=24)
    for n in range(100):
        store.begin(f"k{n}", fingerprint="f", now=clock.now(), ttl=ttl)
    assert len(store) == 100
    clock.advance(dt.timedelta(hours=25))
    store.begin("later", fingerprint="f", now=clock.now(), ttl=ttl)
    assert len(store) == 1  # only the live one is held


def test_a_record_kept_for_years_does_not_hold_back_the_others(clock: ManualClock) -> None:
    """The due job's ten-year record, begun first, never keeps a day's records alive."""
    store = InMemoryIdempotencyStore()
    store.begin("years", fingerprint="f", now=clock.now(), ttl=dt.timedelta(days=3653))
    for n in range(100):
        store.begin(f"k{n}", fingerprint="f", now=clock.now(), ttl=dt.timedelta(hours=24))
    clock.advance(dt.timedelta(hours=25))
    store.begin("later", fingerprint="f", now=clock.now(), ttl=dt.timedelta(hours=24))
    assert len(store) == 2  # the ten-year record and the live one
