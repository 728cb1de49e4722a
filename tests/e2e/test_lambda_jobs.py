"""The scheduled Lambda handlers on DynamoDB and SQS (the moto server), each invoked with an
EventBridge scheduled event exactly as AWS documents it, asserting the state after."""

import datetime as dt
import importlib
from collections import Counter
from typing import Any

import attrs
import pytest
from click.testing import CliRunner
from fakes import line_offer, opened_line
from scheduled_events import scheduled_event

from loc_core.installment import InstallmentStatus, LoanStatus
from loc_core.ports import UnitOfWork, WorkQueue
from loc_core.services.commands import (
    JOB_PAGE,
    RECONCILE_LINE,
    RECONCILE_LOAN,
    RECONCILE_PAGE,
    DailyJobResult,
    LineReconciliation,
    Reconciliation,
)
from loc_core.services.messagebus import MessageBus
from loc_core.testing.installment import make_loan
from loc_entrypoints import jobs
from loc_entrypoints.bootstrap import Settings, bootstrap
from loc_entrypoints.cli import main
from loc_entrypoints.jobs import JOBS, SAFETY_MARGIN_MS
from loc_entrypoints.lambdas._runtime import Runtime

pytest.importorskip("aws_lambda_powertools", reason="the lambda extra is not installed")

LOANS = 3
LINES = 2
VISIBLE = dt.timedelta(seconds=30)


@attrs.frozen
class Context:
    """The part of Lambda's context object the runtime reads."""

    aws_request_id: str = "req-e2e"
    remaining_ms: int = 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def book(lambda_env: dict[str, str]) -> MessageBus:
    """Three loans disbursed 2026-01-05 (six installments each) and two lines, on the table."""
    bus = bootstrap(Settings.from_env(lambda_env))
    opened = dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC)
    for n in range(LOANS):
        with bus.get(UnitOfWork) as uow:
            uow.loans.add(make_loan(loan_id=f"loan-{n}", user_id=f"user-{n}"))
            uow.commit(actor="test", request_id=f"loan-{n}")
    with bus.get(UnitOfWork) as uow:
        for n in range(LINES):
            offer = line_offer(opened, application_id=f"app-{n}", user_id=f"user-{n}")
            uow.lines.add(opened_line(offer, line_id=f"line-{n}", cycle_day=5))
        uow.commit(actor="test", request_id="lines")
    return bus


def invoke(name: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, **context: Any) -> Any:
    module = importlib.import_module(f"loc_entrypoints.lambdas.{name}")
    monkeypatch.setattr(module, "RUNTIME", Runtime(name, environ=env))
    event = scheduled_event(dt.datetime.now(dt.UTC), rule=f"test-{name}")
    return module.handler(event, Context(**context))


def drain(bus: MessageBus) -> list[Any]:
    """What a worker does with every message on the queue: handle it, then delete it."""
    queue, results = bus.get(WorkQueue), []
    while received := queue.receive(max_messages=10, visibility=VISIBLE):
        for delivery in received:
            results.append((delivery.message.kind, bus.handle_message(delivery.message)))
            queue.ack(delivery)
    return results


def test_the_collections_job_puts_one_message_per_installment_due_on_the_queue(
    lambda_env: dict[str, str], book: MessageBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = invoke("collections_job", lambda_env, monkeypatch)
    assert (summary["enqueued"], summary["failed"]) == (LOANS * 6, 0)
    received = []
    queue = book.get(WorkQueue)
    while batch := queue.receive(max_messages=10, visibility=VISIBLE):
        received.extend(batch)
    assert Counter(d.message.kind for d in received) == {"collect_installment": LOANS * 6}
    assert len({d.message.deduplication_id for d in received}) == LOANS * 6


def test_the_daily_loan_job_marks_the_book_overdue_and_defaults_it_once(
    lambda_env: dict[str, str], book: MessageBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = invoke("daily_loan_job", lambda_env, monkeypatch)
    assert (first["processed"], first["failed"]) == (LOANS, 0)
    again = invoke("daily_loan_job", lambda_env, monkeypatch)
    assert again["processed"] == 0
    with book.get(UnitOfWork) as uow:
        loan = uow.loans.get("user-0", "loan-0")
    assert loan.status is LoanStatus.DEFAULTED
    assert InstallmentStatus.SCHEDULED not in {i.status for i in loan.installments}


@pytest.mark.usefixtures("book")
@pytest.mark.parametrize(
    "name",
    ["billing_job", "documents_job", "due_job", "upcoming_job", "overdue_job", "recovery_job"],
)
def test_the_line_jobs_and_recovery_run_for_the_events_day_with_nothing_to_do(
    name: str, lambda_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = invoke(name, lambda_env, monkeypatch)
    assert summary["job"] == name
    assert summary["business_date"] == dt.datetime.now(dt.UTC).date().isoformat()
    assert (summary["processed"], summary["failed"]) == (0, 0)


def test_the_reconciliation_fan_out_covers_every_loan_and_line_once(
    lambda_env: dict[str, str], book: MessageBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = invoke("reconciliation_job", lambda_env, monkeypatch)
    assert (summary["enqueued"], summary["handed_on"]) == (LOANS + LINES, False)
    results = drain(book)
    assert Counter(kind for kind, _ in results) == {RECONCILE_LOAN: LOANS, RECONCILE_LINE: LINES}
    assert all(result.matches for _, result in results)


def test_a_reconciliation_out_of_time_hands_the_rest_to_the_worker(
    lambda_env: dict[str, str], book: MessageBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = invoke(
        "reconciliation_job", lambda_env, monkeypatch, remaining_ms=SAFETY_MARGIN_MS - 1
    )
    assert (summary["enqueued"], summary["pages"], summary["handed_on"]) == (LOANS, 1, True)
    results = drain(book)
    kinds = Counter(kind for kind, _ in results)
    assert kinds == {RECONCILE_LOAN: LOANS, RECONCILE_LINE: LINES, RECONCILE_PAGE: 1}
    checked = Counter(
        result.loan_id if isinstance(result, Reconciliation) else result.line_id
        for _, result in results
        if isinstance(result, Reconciliation | LineReconciliation)
    )
    assert set(checked.values()) == {1}
    assert len(checked) == LOANS + LINES


def test_a_daily_loan_job_out_of_time_hands_on_page_by_page_each_loan_once(
    lambda_env: dict[str, str], book: MessageBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "JOB_PAGE_SIZE", 1)
    summary = invoke("daily_loan_job", lambda_env, monkeypatch, remaining_ms=0)
    assert (summary["processed"], summary["pages"], summary["handed_on"]) == (1, 1, True)
    results = drain(book)
    assert [kind for kind, _ in results] == [JOB_PAGE] * (LOANS - 1)
    pages = [result for _, result in results]
    assert all(isinstance(page, DailyJobResult) for page in pages)
    assert [(page.loans_checked, page.loans_changed) for page in pages] == [(1, 1)] * (LOANS - 1)
    assert pages[-1].cursor is None
    with book.get(UnitOfWork) as uow:
        statuses = {uow.loans.get(f"user-{n}", f"loan-{n}").status for n in range(LOANS)}
    assert statuses == {LoanStatus.DEFAULTED}
    assert invoke("daily_loan_job", lambda_env, monkeypatch)["processed"] == 0


def test_every_job_has_a_handler_module() -> None:
    for name in JOBS:
        module = importlib.import_module(f"loc_entrypoints.lambdas.{name}")
        assert module.RUNTIME.name == name


@pytest.mark.usefixtures("book")
def test_the_cli_runs_a_job_and_reconciles_everyone_on_the_configured_table(
    lambda_env: dict[str, str],
) -> None:
    runner = CliRunner(env=lambda_env)
    result = runner.invoke(main, ["job", "run", "collections_job"])
    assert result.exit_code == 0, result.output
    assert '"enqueued": 18' in result.output
    result = runner.invoke(main, ["reconcile", "--all"])
    assert result.exit_code == 0, result.output
    assert "loans checked │     3" in result.output
    assert "lines checked │     2" in result.output
    result = runner.invoke(main, ["reconcile", "--user", "user-1"])
    assert "loans checked │     1" in result.output
