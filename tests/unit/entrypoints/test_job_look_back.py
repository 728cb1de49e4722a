"""A scheduled job runs for a past date only within the look-back window.

`loc_core.services.kit.JOB_LOOK_BACK_DAYS` (366) before the clock's business date is the
earliest date a job decides for; an older one (a typo such as 0001-01-01) is refused
with `InvalidRequest` naming ``as_of`` and stating the window, before anything is read,
from every way a job is run: the bus, ``loc job run``, the scheduled Lambda handlers and
the operations route.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from deployment import LINES_OPENED, Deployment
from http_api import Api
from litestar.testing import TestClient

from loc_core.errors import InvalidRequest
from loc_entrypoints.cli import main
from loc_entrypoints.http import create_app
from loc_entrypoints.jobs import JOBS, run_job
from loc_entrypoints.lambdas._runtime import Runtime

TODAY = dt.date(2026, 4, 6)
EARLIEST = dt.date(2025, 4, 5)
"""366 days before `TODAY`: the oldest date a job may be run for."""
DATED_JOBS = sorted(name for name in JOBS if name != "recovery_job")
"""Every job that decides for a business date (recovery finishes what is open now)."""
TOO_OLD = [dt.date(1, 1, 1), dt.date(1, 1, 5), EARLIEST - dt.timedelta(days=1)]


@pytest.fixture
def world() -> Deployment:
    """Lines billed on the 5th and loans with installments due: every job has work."""
    made = Deployment.build(now=LINES_OPENED, seed=11)
    line = made.open_line()
    made.open_loan(autopay=False)
    made.at(dt.date(2026, 3, 12))
    made.draw(line, 40_000)
    made.at(TODAY, 9)
    return made


def unchanged(world: Deployment) -> tuple[int, int, int]:
    """What a job run would change: commits, rail submissions, queued messages."""
    queued = world.queue.receive(max_messages=10, visibility=dt.timedelta(0))
    return world.database.commits, len(world.sim.submitted), len(queued)


@pytest.mark.parametrize("day", [pytest.param(day, id=str(day)) for day in TOO_OLD])
@pytest.mark.parametrize("name", DATED_JOBS)
def test_a_date_before_the_window_is_refused_naming_it_and_nothing_changes(
    world: Deployment, name: str, day: dt.date
) -> None:
    before = unchanged(world)
    with pytest.raises(InvalidRequest) as refused:
        run_job(name, world.bus, day)
    assert refused.value.key == "as_of"
    assert str(refused.value) == (
        f"as_of {day.isoformat()} is more than 366 days before the business date 2026-04-06: "
        "a job runs for a date from 2025-04-05 to 2026-04-06"
    )
    assert unchanged(world) == before


@pytest.mark.parametrize("name", DATED_JOBS)
def test_the_oldest_date_of_the_window_runs(world: Deployment, name: str) -> None:
    summary = run_job(name, world.bus, EARLIEST)
    assert summary.as_json(name, EARLIEST)["business_date"] == "2025-04-05"
    assert summary.failed == 0


def test_a_date_inside_the_window_still_does_that_days_work(world: Deployment) -> None:
    billed = run_job("billing_job", world.bus, dt.date(2026, 4, 5))  # the missed close
    assert billed.processed == 1


def test_the_cli_prints_the_window_and_exits_1_without_a_traceback(world: Deployment) -> None:
    before = unchanged(world)
    result = CliRunner().invoke(
        main, ["job", "run", "billing_job", "--date", "0001-01-01"], obj={"bus": world.bus}
    )
    assert result.exit_code == 1
    assert "Error: as_of 0001-01-01 is more than 366 days before the business date" in (
        result.output
    )
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    assert unchanged(world) == before


@pytest.mark.parametrize("name", ["billing_job", "documents_job", "daily_loan_job"])
def test_a_scheduled_event_before_the_window_is_refused_and_nothing_runs(
    world: Deployment, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = importlib.import_module(f"loc_entrypoints.lambdas.{name}")
    runtime: Runtime = module.RUNTIME
    monkeypatch.setattr(runtime, "_bus", world.bus)
    event = {"detail-type": "Scheduled Event", "source": "aws.events"}
    before = unchanged(world)
    with pytest.raises(InvalidRequest, match="a job runs for a date from 2025-04-05") as refused:
        module.handler({**event, "time": "0001-01-01T08:00:00Z"}, None)
    assert refused.value.key == "as_of"
    assert unchanged(world) == before


@pytest.fixture
def api(world: Deployment) -> Iterator[Api]:
    with TestClient(create_app(bus=world.bus)) as client:
        yield Api(world, client)


def test_the_operations_route_answers_400_naming_the_date(api: Api) -> None:
    before = unchanged(api.world)
    answer = api.post(
        "ops", "/operations/jobs/billing_job", {"business_date": "0001-01-01"}, service=True
    )
    assert answer.status_code == 400, answer.text
    assert "a job runs for a date from 2025-04-05 to 2026-04-06" in answer.json()["detail"]
    assert answer.json()["fields"] == ["business_date"]  # the field the client sent
    assert unchanged(api.world) == before
