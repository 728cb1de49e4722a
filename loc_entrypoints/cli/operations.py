"""Operators' commands: run a scheduled job once, reconcile borrowers (docs/jobs.md).

Both go through the bus the bootstrap builds from the ``LOC_*`` environment (with none
set: the embedded in-memory default), exactly like the Lambda functions.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from loc_core.errors import LocError
from loc_core.ports import Clock
from loc_core.services.commands import BookPage, ListBook, ReconcileLine, ReconcileLoan
from loc_core.services.messagebus import MessageBus
from loc_entrypoints.cli import _params as params
from loc_entrypoints.cli._progress import progress_bar
from loc_entrypoints.jobs import JOBS, run_job

__all__ = ["check_table", "command_bus", "finish_bus", "job", "reconcile"]


def command_bus(ctx: click.Context, *, storage: bool = True) -> MessageBus:
    """The bus a test put in the context object, or the one the environment describes.

    Built from the environment, its table is asked for once (`check_storage`) unless
    `storage` is False (the caller checks it later with `check_table`): a misspelt
    ``LOC_TABLE_NAME`` ends the command before it serves or runs anything, in one line
    naming the table, instead of failing each request or page with it.
    """
    given = (ctx.obj or {}).get("bus")
    if isinstance(given, MessageBus):
        return given
    from loc_entrypoints.bootstrap import (  # noqa: PLC0415 - only commands that need a bus build one
        Settings,
        bootstrap,
        check_storage,
    )

    try:
        settings = Settings.from_env(os.environ)
        bus = bootstrap(settings)
        if storage:
            check_storage(settings)
    except LocError as exc:
        raise click.ClickException(f"cannot build the deployment: {exc}") from exc
    except Exception as exc:
        # A client library refusing a setting (botocore's "Invalid endpoint" for an
        # empty LOC_REGION): one line for the operator, not a traceback.
        reason = f"{type(exc).__name__}: {exc}"
        raise click.ClickException(f"cannot build the deployment: {reason}") from exc
    return bus


def check_table(ctx: click.Context) -> None:
    """Ask once whether the environment's table exists (none to ask with a test's bus).

    Raises:
        click.ClickException: one line naming the table and ``LOC_TABLE_NAME``, exit 1.
    """
    if isinstance((ctx.obj or {}).get("bus"), MessageBus):
        return
    from loc_entrypoints.bootstrap import Settings, check_storage  # noqa: PLC0415 - see command_bus

    try:
        check_storage(Settings.from_env(os.environ))
    except LocError as exc:
        raise click.ClickException(f"cannot build the deployment: {exc}") from exc


def finish_bus(bus: MessageBus) -> None:
    """Flush and close what the bus's adapters hold (`bootstrap.finish`), after a command."""
    from loc_entrypoints.bootstrap import finish  # noqa: PLC0415 - see command_bus

    finish(bus)


@click.group()
def job() -> None:
    """Scheduled jobs (the Lambda schedules) run by hand."""


@job.command("run")
@click.argument("name", type=click.Choice(sorted(JOBS)), metavar="NAME")
@click.option(
    "--date",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The business date to run for (YYYY-MM-DD) [today's].",
)
@click.pass_context
def run(ctx: click.Context, name: str, as_of: dt.datetime | None) -> None:
    """Run the job NAME once and print its summary as JSON; exit 1 if anything failed."""
    bus = command_bus(ctx)
    # Pinned once, so a run that pages across midnight UTC keeps deciding for one day.
    day = bus.get(Clock).now().date() if as_of is None else as_of.date()
    try:
        summary = run_job(name, bus, day)  # a refusal ends the command (LocGroup): exit 1
    finally:
        finish_bus(bus)
    click.echo(json.dumps(summary.as_json(name, day), sort_keys=True))
    if summary.failed:
        raise SystemExit(1)


@click.command()
@click.option(
    "--user",
    "user_id",
    callback=params.user_id,
    help="Reconcile this borrower's loans and lines.",
)
@click.option(
    "--all", "everyone", is_flag=True, help="Reconcile every loan and line, page by page."
)
@click.pass_context
def reconcile(ctx: click.Context, user_id: str | None, everyone: bool) -> None:  # noqa: FBT001 - a click flag
    """Reconcile balances against the ledger; print checked and mismatched, exit 1 on any."""
    if (user_id is None) == (not everyone):
        raise click.UsageError("give exactly one of --user USER_ID and --all")
    bus = command_bus(ctx)
    console = Console()  # the result; the progress bar goes to standard error
    checked = {"loans": 0, "lines": 0}
    mismatched: list[str] = []
    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
    try:
        with progress_bar(*columns, TimeElapsedColumn()) as bar:
            task = bar.add_task("reconciling", total=None)
            for page in _pages(bus, user_id):
                bar.update(
                    task, total=(bar.tasks[0].total or 0) + len(page.loans) + len(page.lines)
                )
                for loan in page.loans:
                    if not bus.handle(ReconcileLoan(loan.user_id, loan.loan_id)).matches:
                        mismatched.append(f"loan {loan.loan_id} (user {loan.user_id})")
                    checked["loans"] += 1
                    bar.advance(task)
                for line in page.lines:
                    if not bus.handle(ReconcileLine(line.user_id, line.line_id)).matches:
                        mismatched.append(f"line {line.line_id} (user {line.user_id})")
                    checked["lines"] += 1
                    bar.advance(task)
    finally:
        finish_bus(bus)
    console.print(_summary(checked, mismatched))
    if mismatched:
        raise SystemExit(1)


def _pages(bus: MessageBus, user_id: str | None) -> Iterator[BookPage]:
    """One borrower's book as one page, or every page of the whole book."""
    if user_id is not None:
        yield bus.handle(ListBook(user_id=user_id))
        return
    cursor = None
    while True:
        page = bus.handle(ListBook(cursor))
        yield page
        if page.cursor is None:
            return
        cursor = page.cursor


def _summary(checked: dict[str, int], mismatched: list[str]) -> Table:
    table = Table(title="Reconciliation")
    table.add_column("figure")
    table.add_column("count", justify="right")
    table.add_row("loans checked", f"{checked['loans']:,}")
    table.add_row("lines checked", f"{checked['lines']:,}")
    table.add_row("mismatches", f"{len(mismatched):,}")
    for what in mismatched:
        table.add_row(f"  mismatch: {what}", "")
    return table
