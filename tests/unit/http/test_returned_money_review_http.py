"""The refund-paid route refuses what an operator's tool gets wrong, and records nothing."""

import datetime as dt

import pytest
from fakes import settlement
from http_api import Api

from loc_core.payments import Rail, SettlementOutcome

GOOD = {
    "paid_on": "2026-03-16",
    "reference": "chk-1001",
    "reason": "credit balance sent",
    "amount": 10_000,
}


def refund_due(api: Api, user: str) -> str:
    """A line whose $100.00 draw came back after the borrower paid it: the payment's id."""
    line_id = api.open_line(user)["line_id"]
    api.at(dt.date(2026, 3, 12))
    drawn = api.post(user, f"/lines/{line_id}/draws", {"amount": 10_000}).json()
    paid = api.post(user, f"/lines/{line_id}/payments", {"amount": 10_000}).json()
    api.at(dt.date(2026, 3, 16), 12)
    back = settlement(
        f"{drawn['draw_id']}:rtp", SettlementOutcome.RETURNED, api.world.clock.now(), Rail.RTP
    )
    api.world.settle(back)
    payment_id = str(paid["payment_id"])
    done = settlement(payment_id, SettlementOutcome.COMPLETED, api.world.clock.now(), Rail.PINLESS)
    api.world.settle(done)  # a refund is paid out once its payment has settled
    return payment_id


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param({**GOOD, "paid_on": "2026-03-17"}, 400, id="paid-tomorrow"),
        pytest.param({**GOOD, "paid_on": "2026-03-01"}, 400, id="paid-before-the-refund"),
        pytest.param({**GOOD, "paid_on": 20260316}, 400, id="date-as-number"),
        pytest.param({**GOOD, "reference": "   "}, 400, id="blank-reference"),
        pytest.param({**GOOD, "reference": 1001}, 400, id="reference-as-number"),
        pytest.param({**GOOD, "reason": " "}, 400, id="blank-reason"),
        pytest.param({**GOOD, "amount": 5}, 400, id="not-the-amount-owed-back"),
        pytest.param({**GOOD, "amount": "10000"}, 400, id="amount-as-text"),
        pytest.param({k: v for k, v in GOOD.items() if k != "amount"}, 400, id="no-amount"),
        pytest.param({"paid_on": "2026-03-16", "reference": "x", "amount": 1}, 400, id="no-reason"),
    ],
)
def test_a_wrong_body_is_refused_and_records_nothing(api: Api, body: object, status: int) -> None:
    payment_id = refund_due(api, "alice")
    path = f"/operations/users/alice/refunds/{payment_id}/paid"
    answer = api.post("ops", path, body, service=True)
    assert answer.status_code == status, answer.text
    assert api.world.sent().count("refund_paid") == 0
    assert api.post("ops", path, GOOD, service=True).status_code == 200  # nothing in the way


def test_another_borrowers_refund_is_not_found_and_stays_due(api: Api) -> None:
    payment_id = refund_due(api, "alice")
    api.world.users.add("bob")
    answer = api.post("ops", f"/operations/users/bob/refunds/{payment_id}/paid", GOOD, service=True)
    assert answer.status_code == 404
    assert api.world.sent().count("refund_paid") == 0
