"""The `loc` command line (needs the ``cli`` extra: click and rich)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from loc_adapters.logs import configure_logging
from loc_core.errors import InvalidConfiguration
from loc_core.money import format_cents
from loc_entrypoints.cli import http as http_commands
from loc_entrypoints.cli.operations import job, reconcile
from loc_entrypoints.simulation import InvariantBroken, Scenario, run_simulation

if TYPE_CHECKING:
    from loc_entrypoints.simulation.documents import DocumentSample

__all__ = ["main"]

_MONEY = {
    "collected",
    "credit_losses",
    "disbursed",
    "ending_receivables",
    "interest",
    "interest_adjustments",
    "late_fee_amount",
    "late_fees_from_corrections",
    "principal_originated",
}
_RECOVERY_ROWS = (
    ("crashes_injected", "process crashes injected"),
    ("resumed_by_retry", "crashed movements booked by a retry"),
    ("booked", "movements booked by the recovery job"),
    ("abandoned", "movements abandoned (no rail moved money)"),
    ("finished", "booked movements finished (events published)"),
    ("failed", "movements the recovery job could not finish"),
    ("still_open", "transfer intents still open at the end"),
)
_ROWS = (
    ("applications", "applications"),
    ("approvals", "approvals"),
    ("originations", "loans / lines opened"),
    ("disbursements", "disbursements (loans, draws)"),
    ("disbursed", "volume disbursed"),
    ("payments_applied", "payments applied"),
    ("collected", "collected, net of reversals"),
    ("returns", "ACH returns"),
    ("chargebacks", "chargebacks"),
    ("late_fees", "late fees assessed"),
    ("late_fee_amount", "late fee amount"),
    ("late_fees_from_corrections", "late fees from corrections"),
    ("interest", "interest charged"),
    ("interest_adjustments", "interest adjustments (corrections)"),
    ("payoffs", "loans paid off"),
    ("defaults", "defaults"),
    ("credit_losses", "credit losses, net of recoveries"),
    ("ending_receivables", "ending receivables"),
)


@click.group()
@click.version_option(package_name="loc")
def main() -> None:
    """Servicing for small-dollar consumer credit."""
    # Warnings and errors as JSON lines on standard error; standard output is the answer.
    configure_logging(level="WARNING")


@main.command()
@click.option("--borrowers", type=click.IntRange(min=1), help="Borrowers in the book [10000].")
@click.option("--days", type=click.IntRange(min=1), help="Days to simulate [365].")
@click.option("--seed", type=int, help="Seed of every random draw [0].")
@click.option(
    "--scenario",
    "scenario_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TOML file of scenario parameters (see docs/simulation.md).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Where report.json and portfolio.png go.",
)
@click.option(
    "--documents",
    type=click.IntRange(min=0),
    default=0,
    help="Render the documents of this many borrowers into <out>/documents [0].",
)
def simulate(
    *,
    borrowers: int | None,
    days: int | None,
    seed: int | None,
    scenario_file: Path | None,
    out: Path,
    documents: int,
) -> None:
    """Simulate a book of borrowers day by day and report what happened."""
    console = Console()
    try:
        base = Scenario() if scenario_file is None else Scenario.load(scenario_file)
        scenario = base.resized(borrowers=borrowers, days=days, seed=seed)
    except (InvalidConfiguration, ValueError, TypeError) as exc:
        raise click.BadParameter(str(exc), param_hint="--scenario") from exc
    sample = _document_sample(documents, scenario.seed, out, console)
    columns = (
        *Progress.get_default_columns()[:1],
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(f"simulating {scenario.borrowers:,} borrowers", total=scenario.days)
        try:
            report = run_simulation(
                scenario, progress=lambda day: bar.update(task, completed=day), documents=sample
            )
        except InvariantBroken as exc:
            console.print(f"[bold red]invariant violated[/] on {exc.day}, borrower {exc.user_id}:")
            console.print(f"  {exc.invariant}: {exc.detail}")
            raise SystemExit(1) from exc
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    console.print(_summary(report))
    console.print(_recovery(report))
    timing = report["timing"]
    console.print(
        f"{report['borrower_days']:,} borrower-days in {timing['wall_seconds']:.1f} s "
        f"({timing['borrower_days_per_second']:,}/s); invariant violations: "
        f"{report['invariant_violations']}; ledger digest {report['ledger_digest'][:16]}…"
    )
    console.print(f"wrote {out / 'report.json'}")
    if sample is not None:
        console.print(f"wrote {len(sample.written)} documents under {out / 'documents'}")
    try:
        from loc_entrypoints.simulation.chart import draw_portfolio  # noqa: PLC0415 - optional

        draw_portfolio(report, out / "portfolio.png")
    except ModuleNotFoundError:
        console.print("portfolio.png skipped: install the 'report' extra for charts")
    else:
        console.print(f"wrote {out / 'portfolio.png'}")


def _document_sample(count: int, seed: int, out: Path, console: Console) -> DocumentSample | None:
    """The ``--documents`` sample; None when it is 0 or no PDF renderer is installed (said)."""
    if count == 0:
        return None
    from loc_entrypoints.bootstrap import pdf_renderer  # noqa: PLC0415 - only for documents
    from loc_entrypoints.simulation.documents import DocumentSample  # noqa: PLC0415 - same

    renderer = pdf_renderer()
    if renderer is None:
        console.print("documents skipped: install the documents extra")
        return None
    return DocumentSample(out / "documents", count, seed, renderer)


def _summary(report: dict[str, Any]) -> Table:
    table = Table(title=f"Portfolio summary: scenario {report['scenario']['name']!r}")
    table.add_column("figure")
    table.add_column("installment loans", justify="right")
    table.add_column("lines of credit", justify="right")
    summary = report["summary"]
    for key, label in _ROWS:
        cells = []
        for product in ("installment", "creditline"):
            value = summary[product].get(key, 0)
            cells.append(format_cents(value) if key in _MONEY else f"{value:,}")
        table.add_row(label, *cells)
    return table


def _recovery(report: dict[str, Any]) -> Table:
    recovery = report["recovery"]
    table = Table(
        title=f"Crash recovery: crash_probability {report['scenario']['crash_probability']}"
    )
    table.add_column("figure")
    table.add_column("count", justify="right")
    for key, label in _RECOVERY_ROWS:
        table.add_row(label, f"{recovery[key]:,}")
    return table


main.add_command(http_commands.serve)
main.add_command(http_commands.token)
main.add_command(http_commands.openapi)
main.add_command(job)
main.add_command(reconcile)
