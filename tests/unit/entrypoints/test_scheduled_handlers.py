"""The scheduled Lambda handlers on an in-memory deployment: one per job in `JOBS`, each
running its job for the business date of the EventBridge event's ``time``."""

import datetime as dt
import importlib
from typing import Any

import pytest
from deployment import LINES_OPENED, Deployment
from scheduled_events import scheduled_event

from loc_core.errors import InvalidRequest
from loc_entrypoints.jobs import JOBS, run_job
from loc_entrypoints.lambdas._runtime import Runtime

CLOSE = dt.date(2026, 4, 5)


def handler_of(name: str, world: Deployment, monkeypatch: pytest.MonkeyPatch) -> Any:
    module = importlib.import_module(f"loc_entrypoints.lambdas.{name}")
    runtime: Runtime = module.RUNTIME
    monkeypatch.setattr(runtime, "_bus", world.bus)
    return module.handler


@pytest.fixture
def world() -> Deployment:
    made = Deployment.build(now=LINES_OPENED, seed=11)
    line = made.open_line()
    made.at(dt.date(2026, 3, 12))
    made.draw(line, 40_000)
    return made


@pytest.mark.parametrize("name", sorted(JOBS))
def test_every_job_has_a_handler_named_like_it_that_runs_on_a_scheduled_event(
    name: str, world: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = handler_of(name, world, monkeypatch)
    summary = handler(scheduled_event(world.clock.now(), rule=name), None)
    assert (summary["job"], summary["business_date"]) == (name, world.today.isoformat())
    assert {"processed", "failed", "skipped"} <= summary.keys()


def test_a_late_or_retried_event_runs_the_job_for_the_day_it_was_scheduled(
    world: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = handler_of("billing_job", world, monkeypatch)
    world.at(CLOSE + dt.timedelta(days=2), 9)  # EventBridge retried the 05th's event late
    fired = dt.datetime.combine(CLOSE, dt.time(8), tzinfo=dt.UTC)
    summary = handler(scheduled_event(fired), None)
    assert summary == {
        "job": "billing_job",
        "business_date": "2026-04-05",
        "processed": 1,
        "failed": 0,
        "skipped": 0,
        "failed_ids": [],
        "pages": 1,
        "handed_on": False,
    }
    assert handler(scheduled_event(fired), None)["processed"] == 0  # a redelivery: nothing more


@pytest.mark.parametrize(
    "time",
    [None, "", "yesterday", "2026-03-12", "2026-03-12T08:00:00+02:00", 1_773_302_400],
)
def test_an_event_without_a_valid_utc_time_is_refused_and_nothing_runs(
    time: object, world: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = handler_of("billing_job", world, monkeypatch)
    event = scheduled_event(world.clock.now())
    if time is None:
        del event["time"]
    else:
        event["time"] = time
    commits = world.database.commits
    with pytest.raises(InvalidRequest, match="RFC 3339 UTC") as refused:
        handler(event, None)
    assert refused.value.key == "time"
    assert world.database.commits == commits


def test_an_event_from_the_future_is_refused(
    world: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = handler_of("overdue_job", world, monkeypatch)
    with pytest.raises(InvalidRequest, match="after the business date"):
        handler(scheduled_event(world.clock.now() + dt.timedelta(days=1)), None)


def test_an_unknown_job_is_refused_with_the_names(world: Deployment) -> None:
    with pytest.raises(InvalidRequest, match="billing_job, collections_job, daily_loan_job"):
        run_job("bill", world.bus)
