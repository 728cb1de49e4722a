"""``POST /lines/{line_id}/disputes`` (`disputeBillingError`): a borrower's billing-error notice."""

import datetime as dt

from http_api import Api

from loc_core.services.commands import GetLine


def test_the_borrower_disputes_a_charge_once_and_a_late_notice_is_refused(api: Api) -> None:
    line_id = api.open_line("alice")["line_id"]
    api.at(dt.date(2026, 3, 12))
    assert api.post("alice", f"/lines/{line_id}/draws", {"amount": 40_000}).status_code == 201
    api.at(dt.date(2026, 4, 5), 8)
    api.world.bill()
    api.at(dt.date(2026, 4, 10))
    (draw_id,) = api.world.bus.handle(GetLine("alice", line_id)).draws
    path = f"/lines/{line_id}/disputes"
    body = {
        "statement_date": "2026-04-05",
        "charge": "draw",
        "draw_id": draw_id,
        "amount": 10_000,
        "description": "not my draw",
    }
    first = api.post("alice", path, body, key="dispute-1")
    assert first.status_code == 201, first.text
    shown = first.json()
    assert (shown["status"], shown["amount"], shown["resolve_by"]) == ("OPEN", 10_000, "2026-07-04")
    assert (shown["charge"], shown["charge_ref"], shown["charge_date"]) == (
        "draw",
        draw_id,
        "2026-03-12",
    )
    again = api.post("alice", path, body, key="dispute-1")
    assert (again.status_code, again.json()) == (201, shown)  # the same key: the first answer
    too_much = api.post("alice", path, {**body, "amount": 30_001}, key="dispute-2")
    assert too_much.status_code == 400, too_much.text  # 10,000 of the 40,000 disputed already
    assert too_much.json()["fields"] == ["amount"]
    for wrong, field in (({"charge": "fees"}, "charge"), ({"draw_id": "nope"}, "draw_id")):
        refused = api.post("alice", path, {**body, **wrong}, key="dispute-4")
        assert refused.status_code == 400, refused.text
        assert refused.json()["fields"] == [field]
    assert api.post("bob", path, body, key="dispute-3").status_code == 404
    line = api.world.bus.handle(GetLine("alice", line_id))
    assert list(line.disputes) == [shown["dispute_id"]]
