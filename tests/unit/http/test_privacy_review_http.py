"""Privacy review of the HTTP API's errors: an error body names ids, never the borrower's
bank details, and a 404 for another borrower's record reads like one for no record."""

from __future__ import annotations

import datetime as dt

from http_api import STATEMENT_DATE, Api

ACCOUNT_NUMBER = "000123456789"


def test_a_refused_accept_does_not_echo_a_bank_account_number(api: Api) -> None:
    """A user record whose `account_last_four` holds a whole account number is refused,
    and neither the 422 body nor the log line repeats the number."""
    api.world.users.add("alice", account_last_four=ACCOUNT_NUMBER)
    applied = api.post("alice", "/loans/applications", {"requested_amount": 30_000})
    assert applied.status_code == 201, applied.text

    accepted = api.post(
        "alice", f"/loans/applications/{applied.json()['application_id']}/accept", {}
    )

    assert accepted.status_code == 422, accepted.text
    assert "account_last_four" in accepted.json()["detail"]
    assert ACCOUNT_NUMBER not in accepted.text
    assert "6789" not in accepted.text


def test_a_404_for_another_borrowers_record_reads_as_one_for_no_record(api: Api) -> None:
    """No enumeration oracle: bob learns nothing from asking for alice's ids."""
    loan, line = api.open_loan("alice"), api.open_line("alice")
    api.at(dt.date(2026, 3, 12))
    api.at(STATEMENT_DATE, 8)
    api.post("ops", "/operations/jobs/billing_job", {"business_date": "2026-04-05"}, service=True)
    theirs = {
        loan["loan_id"]: "missing-loan",
        line["line_id"]: "missing-line",
        loan["application_id"]: "missing-application",
        line["application_id"]: "missing-line-application",
    }
    paths = [
        f"/loans/applications/{loan['application_id']}",
        f"/loans/{loan['loan_id']}",
        f"/loans/{loan['loan_id']}/payments",
        f"/lines/applications/{line['application_id']}",
        f"/lines/{line['line_id']}/statements/2026-04-05/document",
    ]
    for path in paths:
        missing = path
        for real, made_up in theirs.items():
            missing = missing.replace(real, made_up)
        other, none = api.get("bob", path), api.get("bob", missing)
        assert (other.status_code, none.status_code) == (404, 404), path
        detail = other.json()["detail"]
        for real, made_up in theirs.items():
            detail = detail.replace(real, made_up)
        assert detail == none.json()["detail"], path
        assert set(other.json()) == set(none.json()), path
