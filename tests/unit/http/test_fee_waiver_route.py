"""Operations waive a loan's late fee through the API (service role only)."""

import datetime as dt

from http_api import Api


def test_operations_waive_a_late_fee_once(api: Api) -> None:
    loan = api.open_loan("alice")
    [first, *_] = api.get("alice", f"/loans/{loan['loan_id']}/installments").json()
    overdue_on = dt.date.fromisoformat(first["due_date"]) + dt.timedelta(days=5)
    api.at(overdue_on, 18)
    api.world.run_daily_loan_job()
    api.at(overdue_on + dt.timedelta(days=2), 10)
    path = (
        f"/operations/users/alice/loans/{loan['loan_id']}/installments/"
        f"{first['installment_id']}/late-fee-waiver"
    )
    body = {"reason": "autopay never presented: outage"}

    assert api.post("alice", path, body, key="w-1").status_code == 403  # a borrower cannot
    waived = api.post("ops", path, body, key="w-1", service=True)
    assert waived.status_code == 200, waived.text
    assert waived.json() == {
        "loan_id": loan["loan_id"],
        "installment_id": first["installment_id"],
        "installment_number": 1,
        "amount": 263,
        "currency": "USD",
        "effective_on": overdue_on.isoformat(),
        "waived_on": (overdue_on + dt.timedelta(days=2)).isoformat(),
        "reason": "autopay never presented: outage",
        "outstanding_balance": loan["outstanding_balance"],
        "refunds_due": 0,
    }
    again = api.post("ops", path, body, key="w-1", service=True)
    assert again.json() == waived.json()
    other = api.post("ops", path, body, key="w-2", service=True)
    assert other.status_code == 422
    assert other.json()["type"] == "https://loc.dev/problems/idempotency-conflict"
    blank = api.post("ops", path, {"reason": " "}, key="w-3", service=True)
    assert blank.status_code == 400
    checked = api.post("ops", "/operations/users/alice/reconcile", None, service=True).json()
    assert checked["matches"] is True
    assert api.world.sent().count("late_fee_waived") == 1
