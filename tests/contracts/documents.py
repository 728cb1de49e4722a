"""The `DocumentStore` contract: what every document store does with a key and a body.

Fixtures: `documents`, the store under test, empty at the start of each test.
"""

import datetime as dt

import pytest

from loc_core.errors import InvalidRequest, NotFound
from loc_core.ports import PDF, DocumentStore, agreement_key, statement_key

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
