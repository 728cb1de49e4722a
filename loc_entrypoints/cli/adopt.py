"""``loc adopt``: take over a table the Go service wrote (docs/migration.md).

An offline maintenance tool that reads and writes raw items, so it uses the DynamoDB
adapter's `adopt_table` directly instead of the bus (no use case serves a loan before it
is adopted). The table comes from the ``LOC_*`` environment, like every other command.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import click
from rich.console import Console
from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from loc_core.errors import LocError
from loc_entrypoints.cli._paths import writable_file
from loc_entrypoints.cli._progress import progress_bar

if TYPE_CHECKING:
    from loc_adapters.dynamodb import DynamoTable
    from loc_adapters.dynamodb.adopt import AdoptionReport, LoanNumbers

__all__ = ["adopt"]

_TABLE_NAME = "LOC_TABLE_NAME"
_READ = frozenset(
    {
        _TABLE_NAME,
        "LOC_REGION",
        "LOC_ENDPOINT_URL",
        "LOC_SHARDS",
        "LOC_AWS_CONNECT_TIMEOUT_SECONDS",
        "LOC_AWS_READ_TIMEOUT_SECONDS",
        "LOC_AWS_MAX_ATTEMPTS",
    }
)
"""The settings adopt reads (docs/migration.md); the others may be set, and are ignored."""


def _table(ctx: click.Context) -> DynamoTable:
    """The table a test put in the context object, or the one the environment names.

    Only the table's settings are read: a queue, lock or outside service set for the other
    commands is ignored, not required. The table name must be given: adopting the default
    ``dev-loc-service`` because the variable was forgotten is never what was meant.
    """
    given = (ctx.obj or {}).get("table")
    if given is not None:
        return given  # type: ignore[no-any-return] # a test's DynamoTable
    from botocore.exceptions import BotoCoreError  # noqa: PLC0415 - the aws extra, this command's

    from loc_adapters.dynamodb import DynamoTable  # noqa: PLC0415 - same
    from loc_entrypoints.bootstrap import (  # noqa: PLC0415 - same
        ENV_PREFIX,
        Settings,
        aws_client,
    )

    if not os.environ.get(_TABLE_NAME, "").strip():
        raise click.ClickException(
            f"{_TABLE_NAME} is required: the table to adopt (the Go service names it "
            "<env>-loc-service)"
        )
    known = {f"{ENV_PREFIX}{field.name.upper()}" for field in attrs.fields(Settings)}
    try:
        settings = Settings.from_env(
            {
                name: value
                for name, value in os.environ.items()
                if name in _READ or name not in known  # a misspelt name is still refused
            }
        )
    except LocError as exc:
        raise click.ClickException(f"cannot read the settings: {exc}") from exc
    try:
        client = aws_client("dynamodb", settings)
        return DynamoTable(client, settings.table_name, shards=settings.shards)
    except (BotoCoreError, ValueError, LocError) as exc:  # a region or endpoint it refuses
        at = f" at {settings.endpoint_url}" if settings.endpoint_url else ""
        raise click.ClickException(
            f"cannot use table {settings.table_name} in region {settings.region!r}{at}: {exc}"
        ) from exc


@click.command()
@click.option("--apply", is_flag=True, help="Write; without it, a dry run that writes nothing.")
@click.option(
    "--segments",
    type=click.IntRange(min=1, max=64),
    default=4,
    show_default=True,
    help="Parallel scan segments (TotalSegments).",
)
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=writable_file,
    help="Where each segment's position is saved after every page; a rerun resumes.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=writable_file,
    help="Write the report (counts and every loan not already served) as JSON here.",
)
@click.pass_context
def adopt(
    ctx: click.Context,
    *,
    apply: bool,
    segments: int,
    checkpoint: Path | None,
    report_file: Path | None,
) -> None:
    """Adopt the Go service's loans: rebuild their payments and opening journal entries."""
    from loc_adapters.dynamodb.adopt import (  # noqa: PLC0415 - needs the aws extra
        adopt_table,
        align_loan_numbers,
    )

    table = _table(ctx)
    for path in (checkpoint, report_file):
        if path is not None:  # checked writable at parse; made now that the run starts
            path.parent.mkdir(parents=True, exist_ok=True)
    console = Console()  # the result; the progress goes to standard error
    now = dt.datetime.now(dt.UTC)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with progress_bar(*columns) as bar:
        task = bar.add_task("items scanned: 0", total=None)
        scanned = 0

        def advance(count: int) -> None:
            nonlocal scanned
            scanned += count
            bar.update(task, description=f"items scanned: {scanned:,}")

        # A refusal (LocError) ends the command in one line, whatever DynamoDB's message
        # held (LocGroup): exit 1.
        report = adopt_table(
            table,
            today=now.date(),
            now=now,
            apply=apply,
            segments=segments,
            checkpoint=checkpoint,
            progress=advance,
        )
        numbers = align_loan_numbers(table, highest=report.highest_loan_number, apply=apply)
    if report_file is not None:
        report_file.write_text(json.dumps(report.as_json(), indent=2, sort_keys=True) + "\n")
    console.print(_table_of(report))
    console.print(_summary(report, checkpoint))
    console.print(_numbers(numbers, applied=apply))
    counts = report.counts()
    if counts["does not verify"] or counts["changed during adoption, retry"]:
        # A script that runs the adoption must not take a partial one for done.
        raise click.exceptions.Exit(1)


def _summary(report: AdoptionReport, checkpoint: Path | None) -> str:
    """One line: what was written (or would be), by the whole run if it was resumed."""
    counts = report.counts()
    payments, entries = report.written()
    verb = "wrote" if report.applied else "dry run: would write"
    whole = f" by the whole run (resumed from {checkpoint})" if report.resumed else ""
    return (
        f"{report.scanned:,} items scanned{whole}; {verb} {payments} payments and "
        f"{entries} journal entries; {counts['does not verify']} do not verify, "
        f"{counts['changed during adoption, retry']} changed during adoption"
    )


def _numbers(numbers: LoanNumbers, *, applied: bool) -> str:
    """One line: the loan-number counter against the numbers the table's items carry."""
    issued = f"the table's loans and offers carry numbers up to {numbers.highest}"
    if not numbers.behind:
        return f"loan numbers: {issued}; the counter ({numbers.counter}) is past them"
    if numbers.raised:
        return f"loan numbers: {issued}; the counter was raised from {numbers.counter}"
    if applied:  # handed out past them meanwhile
        return f"loan numbers: {issued}; the counter moved past them during the run"
    return f"loan numbers: {issued}; dry run: would raise the counter from {numbers.counter}"


def _table_of(report: AdoptionReport) -> Table:
    table = Table(title="loc adopt" + ("" if report.applied else " (dry run)"))
    for column in ("kind", "user", "id", "outcome", "payments", "detail"):
        table.add_column(column)
    for finding in report.as_json()["findings"]:
        table.add_row(
            finding["kind"],
            finding["user_id"],
            finding["item_id"],
            finding["outcome"],
            str(finding["payments"]),
            finding["detail"],
        )
    return table
