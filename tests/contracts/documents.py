"""The `DocumentStore` contract: what every document store does with a key and a body.

Fixtures: `documents`, the store under test, empty at the start of each test.
"""

import datetime as dt

import pytest

from loc_core.errors import InvalidRequest, NotFound
from loc_core.ports import (
    DOCUMENT_LINK_LIFETIME,
    MAX_DOCUMENT_LINK_LIFETIME,
    PDF,
    DocumentStore,
    agreement_key,
    document_owner,
    statement_key,
)

AGREEMENT = agreement_key("user-1", "loan-1")
STATEMENT = statement_key("user-1", "line-1", dt.date(2026, 2, 5))


class DocumentStoreContract:
    def test_keys_are_those_the_data_model_lists(self) -> None:
        assert AGREEMENT == "agreements/user-1/loan-1.pdf"
        assert STATEMENT == "statements/user-1/line-1/2026-02-05.pdf"

    @pytest.mark.parametrize("bad", ["", "a/b"])
    def test_a_key_part_that_is_empty_or_has_a_slash_is_refused(self, bad: str) -> None:
        with pytest.raises(InvalidRequest) as refused:
            agreement_key(bad, "loan-1")
        assert refused.value.key == "user_id"

    def test_a_stored_body_is_read_back_byte_for_byte(self, documents: DocumentStore) -> None:
        body = b"%PDF-1.4\n" + bytes(range(256))
        documents.put(AGREEMENT, body, content_type=PDF)
        assert documents.get(AGREEMENT) == body

    def test_a_second_put_replaces_the_first(self, documents: DocumentStore) -> None:
        documents.put(STATEMENT, b"first", content_type=PDF)
        documents.put(STATEMENT, b"second", content_type=PDF)
        assert documents.get(STATEMENT) == b"second"

    def test_keys_are_independent(self, documents: DocumentStore) -> None:
        documents.put(AGREEMENT, b"agreement", content_type=PDF)
        documents.put(STATEMENT, b"statement", content_type=PDF)
        assert (documents.get(AGREEMENT), documents.get(STATEMENT)) == (b"agreement", b"statement")

    def test_an_absent_key_is_not_found(self, documents: DocumentStore) -> None:
        documents.put(AGREEMENT, b"agreement", content_type=PDF)
        with pytest.raises(NotFound) as missing:
            documents.get(STATEMENT)
        assert (missing.value.entity, missing.value.entity_id) == ("document", STATEMENT)

    def test_a_stored_document_has_a_link_and_an_absent_one_none(
        self, documents: DocumentStore
    ) -> None:
        documents.put(AGREEMENT, b"agreement", content_type=PDF)
        link = documents.link(AGREEMENT, expires=DOCUMENT_LINK_LIFETIME)
        assert link is not None
        assert AGREEMENT in link
        assert documents.link(STATEMENT, expires=DOCUMENT_LINK_LIFETIME) is None

    @pytest.mark.parametrize(
        "expires",
        [dt.timedelta(0), -dt.timedelta(minutes=1), MAX_DOCUMENT_LINK_LIFETIME + dt.timedelta(1)],
    )
    def test_a_link_lifetime_out_of_bounds_is_refused(
        self, documents: DocumentStore, expires: dt.timedelta
    ) -> None:
        documents.put(AGREEMENT, b"agreement", content_type=PDF)
        with pytest.raises(InvalidRequest) as refused:
            documents.link(AGREEMENT, expires=expires)
        assert refused.value.key == "expires"

    @pytest.mark.parametrize(
        ("key", "owner"),
        [
            (AGREEMENT, "user-1"),
            (STATEMENT, "user-1"),
            ("audit/date=2026-02-05/r-1.jsonl", None),
            ("agreements/user-1", None),
            ("statements//line-1/2026-02-05.pdf", None),
        ],
    )
    def test_a_borrower_document_names_its_owner(self, key: str, owner: str | None) -> None:
        assert document_owner(key) == owner
