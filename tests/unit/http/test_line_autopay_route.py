"""``PUT /lines/{line_id}/autopay`` (`setLineAutopay`): the borrower's setting, as for a loan."""

from http_api import Api


def test_the_borrower_turns_the_lines_autopay_off_and_on(api: Api) -> None:
    line_id = api.open_line("alice")["line_id"]
    path = f"/lines/{line_id}/autopay"
    off = api.client.put(path, headers=api.headers("alice"), json={"enabled": False})
    assert off.status_code == 200, off.text
    assert off.json() == {"line_id": line_id, "autopay_enabled": False}
    assert api.get("alice", f"/lines/{line_id}").json()["autopay_enabled"] is False
    again = api.client.put(path, headers=api.headers("alice"), json={"enabled": False})
    assert again.json() == off.json()  # the same setting: nothing more recorded
    assert api.world.audit_processes("line", line_id).count("AUTOPAY_SETTING") == 1
    on = api.client.put(path, headers=api.headers("alice"), json={"enabled": True})
    assert on.json() == {"line_id": line_id, "autopay_enabled": True}


def test_another_borrowers_line_answers_404_and_stays_as_it_was(api: Api) -> None:
    line_id = api.open_line("alice")["line_id"]
    path = f"/lines/{line_id}/autopay"
    answer = api.client.put(path, headers=api.headers("bob"), json={"enabled": False})
    assert answer.status_code == 404, answer.text
    assert api.get("alice", f"/lines/{line_id}").json()["autopay_enabled"] is True
