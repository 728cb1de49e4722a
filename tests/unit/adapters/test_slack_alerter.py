"""`SlackAlerter` over `httpx.MockTransport` and over real HTTP on 127.0.0.1, beside the
`RecordingAlerter`: the same alerter contract, then Block Kit, rate and coalescing rules.
Time moves only on a `ManualClock`: nothing sleeps."""

import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from contracts.alerter import AlerterContract, Shown, storm
from structlog.testing import capture_logs

from loc_adapters.memory import ManualClock, RecordingAlerter
from loc_core.ports import Alert, Alerter, Severity

pytest.importorskip("httpx", reason="the slack extra is not installed")

import httpx
from local_http import serve

from loc_adapters.slack import SlackAlerter

WEBHOOK = "https://hooks.slack.test/services/T000/B000/never-in-a-log-9999"
SECOND = dt.timedelta(seconds=1)


@attrs.define
class FakeSlack:
    """An incoming webhook: keeps each message body; `answer` replaces ``ok`` while set."""

    bodies: list[dict[str, Any]] = attrs.field(factory=list)
    answer: httpx.Response | None = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.answer is not None:
            return self.answer
        self.bodies.append(json.loads(request.content))
        return httpx.Response(200, text="ok")

    def texts(self) -> list[str]:
        return [body["text"] for body in self.bodies]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC))


@pytest.fixture
def slack() -> FakeSlack:
    return FakeSlack()


@pytest.fixture
def alerter(slack: FakeSlack, clock: ManualClock) -> SlackAlerter:
    client = httpx.Client(transport=httpx.MockTransport(slack.handle))
    return SlackAlerter(client, WEBHOOK, clock)


def drain(alerter: SlackAlerter, clock: ManualClock) -> None:
    """Let time pass until the alerter has sent everything it holds."""
    for _ in range(100):
        if not alerter.held:
            return
        clock.advance(SECOND)
        alerter.flush()
    raise AssertionError("the alerter never emptied")


def titles_shown(slack: FakeSlack) -> set[str]:
    """The titles of every message: a single alert's section text, a burst's listed lines."""
    titles = set()
    for body in slack.bodies:
        text = body["blocks"][1]["text"]["text"]
        lines = text.splitlines()
        titles |= {line.split("* ", 1)[1] for line in lines if line.startswith("• ")}
        if not text.startswith("• "):
            titles.add(text)
    return titles


def alert(title: str, severity: Severity = Severity.WARNING) -> Alert:
    return Alert(severity, title, {"loan_id": "loan-1"})


class TestRecordingAlerter(AlerterContract):
    @pytest.fixture
    def recorder(self) -> RecordingAlerter:
        return RecordingAlerter()

    @pytest.fixture
    def alerter(self, recorder: RecordingAlerter) -> Alerter:
        return recorder

    @pytest.fixture
    def shown(self, recorder: RecordingAlerter) -> Shown:
        return lambda: [posted.title for posted in recorder.posted]

    @pytest.fixture
    def break_down(self) -> Callable[[], None]:
        return lambda: None  # a recorder has no channel to lose


class TestSlackAlerterOverMockTransport(AlerterContract):
    @pytest.fixture
    def shown(self, alerter: SlackAlerter, slack: FakeSlack, clock: ManualClock) -> Shown:
        def show() -> list[str]:
            drain(alerter, clock)
            return slack.texts()

        return show

    @pytest.fixture
    def break_down(self, slack: FakeSlack) -> Callable[[], None]:
        return lambda: setattr(slack, "answer", httpx.Response(500, text="boom"))


def test_one_alert_is_a_block_kit_message_with_severity_details_and_fallback(
    alerter: SlackAlerter, slack: FakeSlack
) -> None:
    alerter.alert(
        Alert(Severity.CRITICAL, "money moved but not booked", {"loan_id": "loan-1", "cents": 5})
    )
    (body,) = slack.bodies
    assert body["text"] == "CRITICAL: money moved but not booked (loan_id=loan-1, cents=5)"
    header, section = body["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": "CRITICAL alert"}}
    assert section["text"] == {"type": "mrkdwn", "text": "money moved but not booked"}
    assert section["fields"] == [
        {"type": "mrkdwn", "text": "*loan_id*\nloan-1"},
        {"type": "mrkdwn", "text": "*cents*\n5"},
    ]


def test_at_most_one_message_a_second_and_a_burst_is_one_message_with_each_title(
    alerter: SlackAlerter, slack: FakeSlack, clock: ManualClock
) -> None:
    alerter.alert(alert("first"))
    for n in range(5):
        alerter.alert(alert(f"burst {n}"))
    clock.advance(SECOND / 2)
    alerter.flush()
    assert slack.texts() == ["WARNING: first (loan_id=loan-1)"]
    clock.advance(SECOND / 2)
    alerter.flush()
    alerter.flush()
    assert len(slack.bodies) == 2
    burst = slack.bodies[1]
    assert burst["blocks"][0]["text"]["text"] == "5 alerts (0 critical)"
    assert all(f"burst {n}" in burst["blocks"][1]["text"]["text"] for n in range(5))
    assert alerter.held == 0


def test_a_critical_in_a_storm_of_100_is_titled_in_the_very_next_message(
    alerter: SlackAlerter, slack: FakeSlack, clock: ManualClock
) -> None:
    for item in storm(100, critical_at=37):
        alerter.alert(item)
    assert len(slack.bodies) == 1  # the first alert; the other 99 wait for the second
    clock.advance(SECOND)
    alerter.flush()
    second = slack.bodies[1]["text"]
    assert second.startswith("99 alerts (1 critical)")
    assert "money moved but not booked on loan-37" in second
    assert "… and 79 more" in second
    assert alerter.held == 0


def test_no_critical_is_dropped_when_more_wait_than_one_message_titles(
    alerter: SlackAlerter, slack: FakeSlack, clock: ManualClock
) -> None:
    for n in range(45):
        alerter.alert(alert(f"critical {n}", Severity.CRITICAL))
    drain(alerter, clock)
    assert titles_shown(slack) == {f"critical {n}" for n in range(45)}
    assert len(slack.bodies) == 4  # 1 + 20 + 20 + 4, one a second


def test_a_failed_post_is_logged_without_the_webhook_and_sent_on_the_next_flush(
    alerter: SlackAlerter, slack: FakeSlack, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    slack.answer = httpx.Response(500, text="boom")
    with capture_logs() as lines:
        alerter.alert(alert("job failed", Severity.CRITICAL))
    (failed,) = [line for line in lines if line["event"] == "slack alert post failed"]
    assert (failed["log_level"], failed["held"]) == ("warning", 1)
    assert failed["reason"].startswith("500")
    assert alerter.held == 1
    slack.answer = None
    clock.advance(SECOND)
    alerter.flush()
    assert slack.texts() == ["CRITICAL: job failed (loan_id=loan-1)"]
    assert WEBHOOK not in caplog.text + repr(lines)
    assert "never-in-a-log" not in repr(alerter)


def test_drain_waits_out_the_interval_until_nothing_is_held(
    alerter: SlackAlerter, slack: FakeSlack, clock: ManualClock
) -> None:
    for n in range(45):
        alerter.alert(alert(f"critical {n}", Severity.CRITICAL))
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(dt.timedelta(seconds=seconds))

    assert alerter.drain(sleep=sleep) == 0
    assert titles_shown(slack) == {f"critical {n}" for n in range(45)}
    assert slept == [1.0, 1.0, 1.0]  # one message a second, never faster


def test_drain_gives_up_within_its_budget_and_says_what_it_left(
    alerter: SlackAlerter, slack: FakeSlack, clock: ManualClock
) -> None:
    slack.answer = httpx.Response(500, text="down")
    alerter.alert(alert("job failed", Severity.CRITICAL))
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(dt.timedelta(seconds=seconds))

    with capture_logs() as lines:
        left = alerter.drain(budget=dt.timedelta(seconds=3), sleep=sleep)
    assert left == 1
    assert sum(slept) <= 3
    assert {"event": "slack alerts left unsent", "held": 1, "log_level": "error"} in lines


def test_a_throttled_post_waits_as_long_as_slack_asks(
    alerter: SlackAlerter, slack: FakeSlack, clock: ManualClock
) -> None:
    slack.answer = httpx.Response(429, headers={"Retry-After": "5"})
    alerter.alert(alert("late"))
    slack.answer = None
    clock.advance(SECOND * 4)
    alerter.flush()
    assert slack.bodies == []
    clock.advance(SECOND)
    alerter.flush()
    assert slack.texts() == ["WARNING: late (loan_id=loan-1)"]


def test_while_slack_is_down_held_alerts_are_bounded_but_criticals_all_kept(
    slack: FakeSlack, clock: ManualClock
) -> None:
    alerter = SlackAlerter(
        httpx.Client(transport=httpx.MockTransport(slack.handle)), WEBHOOK, clock, max_held=10
    )

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    alerter.client = httpx.Client(transport=httpx.MockTransport(refuse))
    for n in range(500):
        alerter.alert(alert(f"noise {n}", Severity.CRITICAL if n % 100 == 0 else Severity.INFO))
        clock.advance(SECOND / 10)
    assert alerter.held == 10 + 5
    alerter.client = httpx.Client(transport=httpx.MockTransport(slack.handle))
    drain(alerter, clock)
    (body,) = slack.bodies
    assert body["text"].startswith("500 alerts (5 critical)")
    assert {f"noise {n}" for n in (0, 100, 200, 300, 400)} <= titles_shown(slack)


def test_an_alert_goes_to_a_webhook_over_real_http(slack: FakeSlack, clock: ManualClock) -> None:
    with serve(slack.handle) as url:
        alerter = SlackAlerter.connect(f"{url}/services/T000/B000/x", clock=clock)
        alerter.alert(alert("over the wire", Severity.CRITICAL))
        alerter.client.close()
    assert slack.texts() == ["CRITICAL: over the wire (loan_id=loan-1)"]
