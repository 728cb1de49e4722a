"""`as_written`: what a save keeps of a stored value, decided attribute by attribute."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from loc_adapters.dynamodb._convert import ABSENT, as_written

GO = "2026-03-01T07:30:00-05:00"
OURS = "2026-03-01T12:30:00Z"


def test_an_unchanged_meaning_keeps_the_stored_text() -> None:
    assert as_written(GO, OURS, OURS) == GO


def test_a_changed_meaning_is_written_in_the_library_format() -> None:
    assert as_written(GO, OURS, "2026-03-02T00:00:00Z") == "2026-03-02T00:00:00Z"


def test_what_the_item_lacked_is_added_and_what_the_command_removed_goes() -> None:
    stored = {"loc_status": "OPEN", "ttl": Decimal(5), "go_x": {1, 2}, "loc_note": None}
    read = {"loc_status": "OPEN", "ttl": Decimal(5), "loc_number": 1}
    written = {"loc_status": "OPEN", "loc_number": 1}
    assert as_written(stored, read, written) == {
        "loc_status": "OPEN",
        "go_x": {1, 2},  # nobody here knows it
        "loc_note": None,  # a NULL the library reads as nothing, still nothing
        "loc_number": 1,  # derived, absent from the item
    }


def test_maps_in_lists_keep_their_keys_and_gain_derived_ones() -> None:
    stored = [{"amount": Decimal(500), "payment_date": GO, "go_ref": "x"}]
    read = [{"amount": 500, "payment_date": "2026-03-01T00:00:00Z", "late_fee": 0}]
    assert as_written(stored, read, read) == [
        {"amount": Decimal(500), "payment_date": GO, "go_ref": "x", "late_fee": 0}
    ]
    grown = [*read, {"amount": 100, "payment_date": OURS, "late_fee": 0}]
    assert as_written(stored, read, grown)[0]["payment_date"] == GO
    assert as_written(stored, read, grown)[1] == grown[1]


def test_strings_the_library_reads_as_maps_stay_strings() -> None:
    read = [{"code": "LOW", "text": "LOW"}]
    assert as_written(["LOW"], read, read) == ["LOW"]


@given(
    st.recursive(
        st.integers() | st.text(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)
    )
)
def test_when_nothing_changed_the_stored_value_is_kept(stored: object) -> None:
    assert as_written(stored, stored, stored) == stored
    assert as_written(ABSENT, stored, stored) == stored
