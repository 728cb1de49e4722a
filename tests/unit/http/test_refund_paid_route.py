"""Operations record a refund paid out through the API (service role only)."""

import datetime as dt

from fakes import settlement
from http_api import Api

from loc_core.payments import Rail, SettlementOutcome


def test_operations_record_a_refund_paid_out_once(api: Api) -> None:
    line_id = api.open_line("alice")["line_id"]
    api.at(dt.date(2026, 3, 12))
    drawn = api.post("alice", f"/lines/{line_id}/draws", {"amount": 10_000}).json()
    payment_id = api.post("alice", f"/lines/{line_id}/payments", {"amount": 10_000}).json()[
        "payment_id"
    ]
    # The draw's credit comes back: the payment that paid it off is owed back in full.
    api.at(dt.date(2026, 3, 16), 12)
    back = settlement(
        f"{drawn['draw_id']}:rtp", SettlementOutcome.RETURNED, api.world.clock.now(), Rail.RTP
    )
    api.world.settle(back)
    path = f"/operations/users/alice/refunds/{payment_id}/paid"
    body = {
        "paid_on": "2026-03-16",
        "reference": "chk-1001",
        "reason": "credit balance sent",
        "amount": 10_000,
    }

    assert api.post("alice", path, body).status_code == 403  # a borrower cannot
    # The payment is still PENDING on its rail, which can still take it back: refused.
    early = api.post("ops", path, body, service=True)
    assert early.status_code == 422, early.text
    assert early.json()["type"] == "https://loc.dev/problems/refund-not-settled"
    assert api.world.sent().count("refund_paid") == 0
    done = settlement(payment_id, SettlementOutcome.COMPLETED, api.world.clock.now(), Rail.PINLESS)
    api.world.settle(done)
    first = api.post("ops", path, body, service=True)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "product": "creditline",
        "owner_id": line_id,
        "payment_id": payment_id,
        "amount": 10_000,
        "currency": "USD",
        "paid_on": "2026-03-16",
        "reference": "chk-1001",
        "booked_on": "2026-03-16",
    }
    again = api.post("ops", path, body, service=True)
    assert again.json() == first.json()
    other = api.post("ops", path, {**body, "reference": "chk-1002"}, service=True)
    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    unknown = api.post("ops", "/operations/users/alice/refunds/pay-x/paid", body, service=True)
    assert unknown.status_code == 404
    checked = api.post("ops", "/operations/users/alice/reconcile", None, service=True).json()
    assert checked["matches"] is True
    assert api.world.sent().count("refund_paid") == 1


def test_a_payout_before_settlement_is_taken_only_when_the_operator_says_so(api: Api) -> None:
    line_id = api.open_line("alice")["line_id"]
    api.at(dt.date(2026, 3, 12))
    drawn = api.post("alice", f"/lines/{line_id}/draws", {"amount": 10_000}).json()
    paid = api.post("alice", f"/lines/{line_id}/payments", {"amount": 10_000}).json()
    api.at(dt.date(2026, 3, 16), 12)
    back = settlement(
        f"{drawn['draw_id']}:rtp", SettlementOutcome.RETURNED, api.world.clock.now(), Rail.RTP
    )
    api.world.settle(back)
    path = f"/operations/users/alice/refunds/{paid['payment_id']}/paid"
    body = {"paid_on": "2026-03-16", "reference": "chk-1", "reason": "sent", "amount": 10_000}

    assert api.post("ops", path, body, service=True).status_code == 422
    early = api.post("ops", path, {**body, "before_settlement": True}, service=True)

    assert early.status_code == 200, early.text
    assert api.world.sent().count("refund_paid") == 1
    trail = api.world.audit("payment", paid["payment_id"])
    assert "settled" in trail[-1].change.reason
