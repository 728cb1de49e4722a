"""Operations waive a line's late fee through the API (service role only)."""

import datetime as dt

from http_api import Api


def test_operations_waive_a_lines_late_fee_once(api: Api) -> None:
    line_id = api.open_line("alice")["line_id"]
    api.at(dt.date(2026, 3, 12))
    assert api.post("alice", f"/lines/{line_id}/draws", {"amount": 40_000}).status_code == 201
    api.at(dt.date(2026, 4, 5), 8)
    api.world.bill()
    api.at(dt.date(2026, 4, 28), 16)
    api.world.overdue()  # the 04-05 statement's minimum, due 04-27, unpaid: its fee
    api.at(dt.date(2026, 4, 30), 10)
    path = f"/operations/users/alice/lines/{line_id}/late-fees/2026-04-05/waiver"
    body = {"reason": "the due debit was never presented: outage"}

    assert api.post("alice", path, body, key="w-1").status_code == 403  # a borrower cannot
    waived = api.post("ops", path, body, key="w-1", service=True)
    assert waived.status_code == 200, waived.text
    assert waived.json() == {
        "line_id": line_id,
        "late_fee_cycle": "2026-04-05",
        "fee_reference": f"{line_id}:2026-04-05:late_fee",
        "amount": 500,
        "currency": "USD",
        "effective_on": "2026-04-28",
        "waived_on": "2026-04-30",
        "reason": "the due debit was never presented: outage",
        "line_status": "SUSPENDED",
        "balance": 40_789,
        "refunds_due": 0,
    }
    again = api.post("ops", path, body, key="w-1", service=True)
    assert again.json() == waived.json()
    other = api.post("ops", path, body, key="w-2", service=True)
    assert other.status_code == 422
    assert other.json()["type"] == "https://loc.dev/problems/idempotency-conflict"
    no_fee = path.replace("2026-04-05", "2026-03-05")
    none = api.post("ops", no_fee, body, key="w-3", service=True)
    assert (none.status_code, none.json()["type"]) == (422, "https://loc.dev/problems/no-late-fee")
    checked = api.post("ops", "/operations/users/alice/reconcile", None, service=True).json()
    assert checked["matches"] is True
    assert api.world.sent().count("loc_late_fee_waived") == 1
