"""`OwnerIds`: an owner's ids and loan numbers do not depend on other owners' work."""

import re

import pytest

from loc_adapters.memory import OwnerIds


def made_for(ids: OwnerIds, owner: str) -> tuple[str, str]:
    ids.owner = owner
    return ids.new_id(), ids.next_loan_number()


def test_an_owners_ids_are_the_same_whatever_others_did_before() -> None:
    alone, crowded = OwnerIds(prefix="sim"), OwnerIds(prefix="sim")
    made_for(crowded, "user-0000001")
    made_for(crowded, "user-0000003")
    assert made_for(alone, "user-0000002") == made_for(crowded, "user-0000002")
    assert made_for(alone, "user-0000002") == ("sim-user-0000002-0002", "FM-0000002002")


def test_loan_numbers_match_the_cores_pattern_and_jobs_get_their_own_ids() -> None:
    ids = OwnerIds()
    assert re.fullmatch(r"[A-Z]+-[0-9]+", made_for(ids, "user-0000042")[1])
    ids.owner = ""
    assert ids.new_id() == "id-job-000001"
    with pytest.raises(ValueError, match="ending in a number"):
        ids.next_loan_number()
