"""Over the API, a borrower sees what became of money a payment took beyond what was owed.

A receipt shows the refund due next to what the payment paid (together, its amount),
and a loan or line shows the total owed back (`refunds_due`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fakes import meanwhile, settlement
from http_api import Api

from loc_adapters.memory import InMemoryUnitOfWork
from loc_core.installment import Process
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import TransferRequest


def paid_off_while_autopay_was_at_the_rail(api: Api, loan_id: str, due: dt.date) -> str:
    """The borrower's payoff commits while the autopay charge is at the rail; its id."""
    world = api.world

    def pay_off(_: TransferRequest) -> None:
        uow = InMemoryUnitOfWork(world.database)
        with uow:
            stored = uow.loans.get("alice", loan_id)
            stored.apply_payment(
                "manual-payoff",
                stored.outstanding_balance,
                process=Process.MANUAL,
                rail=Rail.ACH,
                today=due,
            )
            uow.loans.save(stored)
            uow.commit(actor="borrower", request_id="manual")

    world.rails.handler = meanwhile(world.sim, pay_off)
    world.collect(world.loan(loan_id, "alice"))
    (charge,) = (
        p for p in world.loan(loan_id, "alice").payments.values() if p.process is Process.AUTOPAY
    )
    return charge.payment_id


def adds_up(receipt: dict[str, Any]) -> bool:
    refunded = 0 if receipt["refund"] is None else receipt["refund"]["amount"]
    return bool(sum(line["amount"] for line in receipt["lines"]) + refunded == receipt["amount"])


def line_adds_up(receipt: dict[str, Any]) -> bool:
    paid = receipt["paid_fees"] + receipt["paid_interest"] + receipt["paid_principal"]
    refunded = 0 if receipt["refund"] is None else receipt["refund"]["amount"]
    return bool(paid + refunded == receipt["amount"])


def test_a_loan_receipt_shows_the_autopay_that_landed_after_the_payoff_as_a_refund(
    api: Api,
) -> None:
    loan = api.open_loan("alice")
    loan_id = loan["loan_id"]
    assert loan["refunds_due"] == 0
    # A payment the loan owed in full has no refund, and its lines are its amount.
    part = api.post("alice", f"/loans/{loan_id}/payments", {"amount": 1_000})
    assert part.status_code == 201, part.text
    assert (part.json()["refund"], adds_up(part.json())) == (None, True)
    settled = SettlementOutcome.COMPLETED
    rail = Rail(part.json()["rail"])
    api.world.settle(settlement(part.json()["payment_id"], settled, api.world.clock.now(), rail))
    first = api.get("alice", f"/loans/{loan_id}/installments").json()[0]
    due = dt.date.fromisoformat(first["due_date"])
    api.at(due)
    charge = paid_off_while_autopay_was_at_the_rail(api, loan_id, due)

    path = f"/loans/{loan_id}/payments/{charge}"
    receipt = api.get("alice", path).json()
    assert receipt["lines"] == []
    assert receipt["loan_status"] == "CLOSED"
    assert receipt["refund"] == {
        "amount": receipt["amount"],
        "status": "DUE",
        "recorded_on": due.isoformat(),
        "applied": 0,
        "paid_amount": 0,
        "paid_on": None,
        "paid_reference": None,
        "remaining": receipt["amount"],
    }
    assert adds_up(receipt)
    payoff = api.get("alice", f"/loans/{loan_id}/payments/manual-payoff").json()
    assert (payoff["refund"], adds_up(payoff)) == (None, True)
    owed_back = receipt["amount"]
    assert api.get("alice", f"/loans/{loan_id}").json()["refunds_due"] == owed_back
    assert api.get("alice", "/loans").json()["items"][0]["refunds_due"] == owed_back
    listed = {
        p["payment_id"]: p for p in api.get("alice", f"/loans/{loan_id}/payments").json()["items"]
    }
    assert listed[charge]["refund"] == receipt["refund"]

    # The charge completes and operations send the money back by check.
    api.at(due + dt.timedelta(days=2), 12)
    api.world.settle(
        settlement(charge, SettlementOutcome.COMPLETED, api.world.clock.now(), Rail.PINLESS)
    )
    body = {
        "paid_on": (due + dt.timedelta(days=2)).isoformat(),
        "reference": "chk-2001",
        "reason": "autopay after payoff sent back",
        "amount": owed_back,
    }
    sent = api.post("ops", f"/operations/users/alice/refunds/{charge}/paid", body, service=True)
    assert sent.status_code == 200, sent.text

    after = api.get("alice", path).json()
    assert after["status"] == "COMPLETED"
    assert after["refund"] == {
        **receipt["refund"],
        "status": "PAID",
        "paid_amount": owed_back,
        "paid_on": body["paid_on"],
        "paid_reference": "chk-2001",
        "remaining": 0,
    }
    assert adds_up(after)
    assert api.get("alice", f"/loans/{loan_id}").json()["refunds_due"] == 0


def test_a_line_receipt_shows_the_refund_applied_to_a_later_draw_and_the_rest_sent(
    api: Api,
) -> None:
    line_id = api.open_line("alice")["line_id"]
    api.at(dt.date(2026, 3, 12))
    drawn = api.post("alice", f"/lines/{line_id}/draws", {"amount": 10_000}).json()
    paid = api.post("alice", f"/lines/{line_id}/payments", {"amount": 10_000}).json()
    assert (paid["paid_principal"], paid["refund"]) == (10_000, None)
    payment_id = paid["payment_id"]
    path = f"/lines/{line_id}/payments/{payment_id}"
    # The draw's credit comes back: the payment that paid it off is owed back in full.
    api.at(dt.date(2026, 3, 16), 12)
    api.world.settle(
        settlement(
            f"{drawn['draw_id']}:rtp", SettlementOutcome.RETURNED, api.world.clock.now(), Rail.RTP
        )
    )
    assert api.get("alice", f"/lines/{line_id}").json()["refunds_due"] == 10_000
    # A $30.00 draw is paid from that credit first.
    api.at(dt.date(2026, 3, 18))
    assert api.post("alice", f"/lines/{line_id}/draws", {"amount": 3_000}).status_code == 201

    receipt = api.get("alice", path).json()
    assert receipt["paid_principal"] == 0
    assert receipt["refund"] == {
        "amount": 10_000,
        "status": "DUE",
        "recorded_on": receipt["refund"]["recorded_on"],
        "applied": 3_000,
        "paid_amount": 0,
        "paid_on": None,
        "paid_reference": None,
        "remaining": 7_000,
    }
    assert line_adds_up(receipt)
    assert api.get("alice", f"/lines/{line_id}").json()["refunds_due"] == 7_000
    assert api.get("alice", "/lines").json()["items"][0]["refunds_due"] == 7_000
    [listed] = api.get("alice", f"/lines/{line_id}/payments").json()["items"]
    assert listed == receipt

    # The payment completes and operations send the other $70.00 back.
    api.world.settle(
        settlement(payment_id, SettlementOutcome.COMPLETED, api.world.clock.now(), Rail.PINLESS)
    )
    body = {"paid_on": "2026-03-18", "reference": "chk-1", "reason": "sent", "amount": 7_000}
    sent = api.post("ops", f"/operations/users/alice/refunds/{payment_id}/paid", body, service=True)
    assert sent.status_code == 200, sent.text

    after = api.get("alice", path).json()
    assert after["refund"] == {
        **receipt["refund"],
        "status": "PAID",
        "paid_amount": 7_000,
        "paid_on": "2026-03-18",
        "paid_reference": "chk-1",
        "remaining": 0,
    }
    assert line_adds_up(after)
    assert api.get("alice", f"/lines/{line_id}").json()["refunds_due"] == 0
    # Another borrower's payment is answered as one nobody made.
    assert api.get("bob", path).status_code == 404
