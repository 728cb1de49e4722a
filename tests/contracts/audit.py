"""The `AuditLog` contract: an entity's, a borrower's and a process's trail, paginated."""

import datetime as dt
import functools
from collections.abc import Callable

import pytest

from contracts.uow import UowFactory, pay, store_loan
from loc_adapters.memory import ManualClock
from loc_core.errors import InvalidRequest
from loc_core.events import AuditRecord
from loc_core.installment import Process
from loc_core.ports import AUDIT_PAGE_LIMIT, AuditRecordPage, UnitOfWork

Pager = Callable[[str | None, int], AuditRecordPage]


def every(page: Pager, size: int) -> list[AuditRecord]:
    """Every record a trail gives, page after page, each page at most `size`, in order."""
    found: list[AuditRecord] = []
    cursor = None
    while True:
        listed = page(cursor, size)
        assert len(listed.records) <= size
        found.extend(listed.records)
        if listed.cursor is None:
            return found
        assert listed.records  # a page with a next one is never empty here
        cursor = listed.cursor


def three_reads(
    uow: UnitOfWork, *, cursor: str | None, limit: int
) -> list[Callable[[], AuditRecordPage]]:
    """A read of each trail (an entity's, a borrower's, a process's) with `cursor` and `limit`."""
    return [
        functools.partial(uow.audit.user_page, "user-1", cursor=cursor, limit=limit),
        functools.partial(uow.audit.process_page, "AUTOPAY", cursor=cursor, limit=limit),
        functools.partial(uow.audit.entity_page, "loan", "loan-1", cursor=cursor, limit=limit),
    ]


def ids(records: list[AuditRecord]) -> list[str]:
    return [record.record_id for record in records]


class AuditLogContract:
    @pytest.fixture
    def book(self, new_uow: UowFactory, clock: ManualClock) -> list[AuditRecord]:
        """Two borrowers' loans, then payments by hand and by autopay an hour apart.

        Returns every record stored, oldest first.
        """
        loans = {
            "user-1": store_loan(new_uow),
            "user-2": store_loan(new_uow, loan_id="loan-2", user_id="user-2"),
        }
        for n, (user, process) in enumerate(
            [("user-1", Process.MANUAL), ("user-2", Process.AUTOPAY), ("user-1", Process.AUTOPAY)]
        ):
            clock.advance(dt.timedelta(hours=1))
            with new_uow() as uow:
                loan = loans[user]
                pay(uow, f"pay-{n}", 1_000, process=process, user_id=user, loan_id=loan.loan_id)
                uow.commit(actor="test", request_id=f"req-{n}")
        trails: list[AuditRecord] = []
        with new_uow() as uow:
            for loan in loans.values():
                trails += uow.audit.records_for("loan", loan.loan_id)
                for installment in loan.installments:
                    trails += uow.audit.records_for("installment", installment.installment_id)
            for n in range(3):
                trails += uow.audit.records_for("payment", f"pay-{n}")
        return trails

    @pytest.mark.usefixtures("book")
    def test_an_entity_trail_pages_oldest_first_as_records_for_reads_it(
        self, new_uow: UowFactory
    ) -> None:
        with new_uow() as uow:
            whole = uow.audit.records_for("installment", "loan-1:1")
            for size in (1, 2, AUDIT_PAGE_LIMIT):
                paged = every(
                    lambda c, n: uow.audit.entity_page(
                        "installment", "loan-1:1", cursor=c, limit=n
                    ),
                    size,
                )
                assert ids(paged) == ids(whole)
        assert len(whole) >= 2  # created, then paid by hand and by autopay

    def test_a_borrowers_trail_is_every_record_of_their_entities_newest_first(
        self, new_uow: UowFactory, book: list[AuditRecord]
    ) -> None:
        mine = [record for record in book if record.change.user_id == "user-1"]
        with new_uow() as uow:
            paged = every(lambda c, n: uow.audit.user_page("user-1", cursor=c, limit=n), 2)
        assert sorted(ids(paged)) == sorted(ids(mine))
        times = [record.recorded_at for record in paged]
        assert times == sorted(times, reverse=True)
        assert paged[0].change.process == "AUTOPAY"  # the last payment comes first
        assert paged[-1].change.process == "CREATION"

    def test_a_process_trail_is_every_record_of_its_changes_newest_first(
        self, new_uow: UowFactory, book: list[AuditRecord]
    ) -> None:
        autopay = [record for record in book if record.change.process == "AUTOPAY"]
        with new_uow() as uow:
            paged = every(lambda c, n: uow.audit.process_page("AUTOPAY", cursor=c, limit=n), 3)
        assert sorted(ids(paged)) == sorted(ids(autopay))
        assert paged[0].change.user_id == "user-1"  # its autopay was the last
        assert {record.change.user_id for record in paged} == {"user-1", "user-2"}
        times = [record.recorded_at for record in paged]
        assert times == sorted(times, reverse=True)

    @pytest.mark.usefixtures("book")
    def test_the_changes_of_one_commit_come_newest_first_in_reverse_order(
        self, new_uow: UowFactory
    ) -> None:
        with new_uow() as uow:
            newest = uow.audit.user_page("user-2", cursor=None, limit=AUDIT_PAGE_LIMIT)
        changed = [record.change.entity_id for record in newest.records]
        # the autopay commit (loan, installment, payment), then the creation (loan first)
        assert changed == [
            "pay-1",
            "loan-2:1",
            "loan-2",
            *(f"loan-2:{n}" for n in range(6, 0, -1)),
            "loan-2",
        ]

    @pytest.mark.usefixtures("book")
    def test_an_unknown_owner_or_process_has_an_empty_trail(self, new_uow: UowFactory) -> None:
        empty = AuditRecordPage((), None)
        with new_uow() as uow:
            assert uow.audit.user_page("user-9", cursor=None, limit=5) == empty
            assert uow.audit.user_page("user-1#", cursor=None, limit=5) == empty
            assert uow.audit.process_page("CURE", cursor=None, limit=5) == empty
            assert uow.audit.entity_page("loan", "loan-9", cursor=None, limit=5) == empty

    @pytest.mark.usefixtures("book")
    @pytest.mark.parametrize("limit", [0, -1, AUDIT_PAGE_LIMIT + 1])
    def test_a_limit_out_of_bounds_is_refused(self, new_uow: UowFactory, limit: int) -> None:
        with new_uow() as uow:
            for read in three_reads(uow, cursor=None, limit=limit):
                with pytest.raises(InvalidRequest) as refused:
                    read()
                assert refused.value.key == "limit"

    @pytest.mark.usefixtures("book")
    @pytest.mark.parametrize("cursor", ["", "not base64!", "cmVjb3Jk", "eyJQSyI6IDF9"])
    def test_a_cursor_not_handed_out_is_refused(self, new_uow: UowFactory, cursor: str) -> None:
        with new_uow() as uow:
            for read in three_reads(uow, cursor=cursor, limit=2):
                with pytest.raises(InvalidRequest) as refused:
                    read()
                assert refused.value.key == "cursor"
