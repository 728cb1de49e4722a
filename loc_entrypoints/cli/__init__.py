"""The `loc` command line (needs the ``cli`` extra: click and rich)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import uuid
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
from loc_entrypoints.cli._errors import LocGroup, fail, interruptible
from loc_entrypoints.cli._paths import writable_folder
from loc_entrypoints.cli.adopt import adopt
from loc_entrypoints.cli.autopay import autopay
from loc_entrypoints.cli.disputes import disputes
from loc_entrypoints.cli.lines import lines
from loc_entrypoints.cli.loans import loans
from loc_entrypoints.cli.operations import job, reconcile
from loc_entrypoints.cli.transfers import transfers
from loc_entrypoints.simulation import (
    ClusterUnavailable,
    ClusterUnreachable,
    InvariantBroken,
    PartitionFailed,
    Scenario,
    run_simulation,
)
from loc_entrypoints.simulation.compare import (
    Comparison,
    changed_settings,
    ignored_book,
    paired,
)
from loc_entrypoints.simulation.partition import cluster_address
from loc_entrypoints.simulation.scenario import MAX_BORROWERS

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
    ("disbursed", "volume disbursed, net of returned"),
    ("credits_returned", "disbursements returned by the bank"),
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


@click.group(cls=LocGroup)
@click.version_option(package_name="loc")
def main() -> None:
    """Servicing for small-dollar consumer credit."""
    # Warnings and errors as JSON lines on standard error; standard output is the answer.
    configure_logging(level="WARNING")


@main.command()
@click.option(
    "--borrowers",
    type=click.IntRange(min=1, max=MAX_BORROWERS),
    help="Borrowers in the book [10000].",
)
@click.option("--days", type=click.IntRange(min=1), help="Days to simulate [365].")
@click.option("--seed", type=int, help="Seed of every random draw [0].")
@click.option(
    "--scenario",
    "scenario_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TOML file of scenario parameters (see docs/simulation.md).",
)
@click.option(
    "--compare",
    "compare_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A second scenario's TOML file: its policy runs on the same book and draws, and "
    "both reports are shown side by side.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    callback=writable_folder,
    help="Where report.json and portfolio.png go.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Split the book into partitions of borrowers and run them in this many processes "
    "(same report).",
)
@click.option(
    "--cluster",
    metavar="ADDRESS",
    callback=lambda _ctx, _param, value: None if value is None else _cluster(value),
    help="Run the partitions on this Dask scheduler (tcp://host:8786), or 'local' for a "
    "local cluster of --workers processes (needs the 'cluster' extra).",
)
@click.option(
    "--documents",
    type=click.IntRange(min=0),
    default=0,
    help="Render the documents of this many borrowers into <out>/documents [0]; a run in "
    "this process only (not with --workers or --cluster).",
)
@interruptible("no report was written")
def simulate(
    *,
    borrowers: int | None,
    days: int | None,
    seed: int | None,
    scenario_file: Path | None,
    compare_file: Path | None,
    out: Path,
    workers: int | None,
    cluster: str | None,
    documents: int,
) -> None:
    """Simulate a book of borrowers day by day and report what happened."""
    console = Console()
    base = _resized(_scenario(scenario_file, "--scenario"), borrowers, days, seed)
    other = None
    if compare_file is not None:
        loaded = _scenario(compare_file, "--compare")
        other = paired(base, loaded)
        if ignored := ignored_book(base, loaded, compare_file):
            console.print(
                f"[yellow]note[/]: {compare_file.name} sets {', '.join(ignored)}; ignored, as "
                f"a comparison runs the base's book ({base.borrowers:,} borrowers, "
                f"{base.days} days, from {base.start}, seed {base.seed})"
            )
        console.print(_settings_note(base, other), highlight=False, markup=False)
    if documents and (workers is not None or cluster is not None):
        msg = "renders from a run in this process: leave out --workers and --cluster"
        raise click.BadParameter(msg, param_hint="--documents")
    sample = _document_sample(documents, base.seed, out, console)
    report = _run(base, console, workers=workers, cluster=cluster, sample=sample)
    compared = None if other is None else _run(other, console, workers=workers, cluster=cluster)
    files = {"report.json": _json(report)}
    if compared is None:
        console.print(_summary(report))
        console.print(_recovery(report))
        _timing(console, report)
    else:
        comparison = Comparison(report, compared)
        files["report-compared.json"] = _json(compared)
        files["comparison.json"] = _json(comparison.to_dict())
        console.print(_side_by_side(comparison, "installment", "Installment loans"))
        console.print(_side_by_side(comparison, "creditline", "Lines of credit"))
        _timing(console, report)
        _timing(console, compared)
    chart = _chart(report, compared)
    if chart is not None:
        files["portfolio.png"] = chart
    try:
        _publish(out, files)
    except OSError as exc:
        fail(f"cannot write the report to {out}: {exc.strerror or exc}; nothing was written", 1)
    if compared is not None:
        console.print(f"wrote {out / 'report-compared.json'} and {out / 'comparison.json'}")
    console.print(f"wrote {out / 'report.json'}")
    if sample is not None:
        console.print(f"wrote {len(sample.written)} documents under {out / 'documents'}")
    if chart is None:
        console.print("portfolio.png skipped: install the 'report' extra for charts")
    else:
        console.print(f"wrote {out / 'portfolio.png'}")


_OUTPUTS = ("report.json", "report-compared.json", "comparison.json", "portfolio.png")
"""Every file a run writes to --out: what this run does not write, an earlier run's, goes."""


def _json(value: dict[str, Any]) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


def _chart(report: dict[str, Any], compared: dict[str, Any] | None) -> bytes | None:
    """The portfolio chart as PNG bytes; None without the ``report`` extra."""
    png = io.BytesIO()
    try:
        from loc_entrypoints.simulation.chart import draw_portfolio  # noqa: PLC0415 - optional

        draw_portfolio(report, png, other=compared)  # imports matplotlib
    except ModuleNotFoundError:
        return None
    return png.getvalue()


def _publish(out: Path, files: dict[str, bytes]) -> None:
    """Write `files` into `out`, each whole or not at all, and drop an earlier run's others.

    Each file is written beside its final name and renamed over it once all are written,
    so a failure (a full disk, an interruption) leaves the folder as it was: never a
    truncated report, nor a new report beside an old chart. A run that writes no
    comparison (or no chart) removes the ones an earlier run left, which would otherwise
    pass for this run's.

    Raises:
        OSError: a file could not be written; nothing was replaced.
    """
    out.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, content in files.items():
            temporary = out / f".{name}.{uuid.uuid4().hex}.tmp"
            staged.append((temporary, out / name))
            _write(temporary, content)
        for temporary, final in staged:
            temporary.replace(final)
    finally:
        for temporary, _ in staged:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
    for name in _OUTPUTS:
        if name not in files:
            (out / name).unlink(missing_ok=True)


def _write(path: Path, content: bytes) -> None:
    """Create `path` (it must not exist) with `content`, flushed to the disk."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(descriptor, view) :]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _scenario(path: Path | None, option: str) -> Scenario:
    """The default scenario, or the one in `path`; a bad file is the option's error.

    `Scenario.load` checks every value, so a bad one ends the command here (exit 2, the
    file and the key named) before anything runs or is written.
    """
    try:
        return Scenario() if path is None else Scenario.load(path)
    except InvalidConfiguration as exc:
        raise click.BadParameter(str(exc), param_hint=option) from exc


def _resized(
    scenario: Scenario, borrowers: int | None, days: int | None, seed: int | None
) -> Scenario:
    """`scenario` with the command's size and seed; days past its last day: --days's error."""
    try:
        return scenario.resized(borrowers=borrowers, days=days, seed=seed)
    except InvalidConfiguration as exc:
        raise click.BadParameter(str(exc), param_hint="--days") from exc


def _run(
    scenario: Scenario,
    console: Console,
    *,
    workers: int | None,
    cluster: str | None,
    sample: DocumentSample | None = None,
) -> dict[str, Any]:
    """Run `scenario` under a progress bar (on `workers` processes or a Dask `cluster`).

    An invariant violation or a partition that keeps failing ends the command (exit 1).
    """
    columns = (
        *Progress.get_default_columns()[:1],
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(
                f"simulating {scenario.borrowers:,} borrowers ({scenario.name})",
                total=scenario.borrower_days,
            )
            return run_simulation(
                scenario,
                progress=lambda done: bar.update(task, completed=done),
                workers=workers,
                cluster=cluster,
                documents=sample,
            )
    except InvariantBroken as exc:
        fail(
            f"invariant violated on {exc.day}, borrower {exc.user_id}: {exc.invariant}: "
            f"{exc.detail}",
            1,
        )
    except (PartitionFailed, ClusterUnreachable) as exc:
        fail(f"run failed: {exc}", 1)
    except ClusterUnavailable as exc:
        raise click.UsageError(str(exc)) from exc


def _cluster(address: str) -> str:
    """The --cluster value checked before anything runs."""
    try:
        return cluster_address(address)
    except ClusterUnavailable as exc:
        raise click.BadParameter(str(exc), param_hint="'--cluster'") from exc


def _timing(console: Console, report: dict[str, Any]) -> None:
    timing = report["timing"]
    console.print(
        f"{report['scenario']['name']}: {report['borrower_days']:,} borrower-days in "
        f"{timing['wall_seconds']:.1f} s ({timing['borrower_days_per_second']:,}/s); invariant "
        f"violations: {report['invariant_violations']}; ledger digest "
        f"{report['ledger_digest'][:16]}…"
    )


def _cell(key: str, value: int, *, signed: bool = False) -> str:
    if key in _MONEY:
        text = format_cents(abs(value) if signed else value)
        return ("-" if value < 0 else "+") + text if signed and value else text
    return f"{value:+,}" if signed and value else f"{value:,}"


def _side_by_side(comparison: Comparison, product: str, title: str) -> Table:
    base, other = comparison.base, comparison.other
    table = Table(
        title=f"{title}: {base['scenario']['name']!r} against {other['scenario']['name']!r}"
    )
    table.add_column("figure")
    table.add_column(f"base: {base['scenario']['name']}", justify="right")
    table.add_column(f"compared: {other['scenario']['name']}", justify="right")
    table.add_column("difference", justify="right")
    shown = {key for key, _ in _ROWS}
    rest = [(key, key.replace("_", " ")) for key in comparison.figures if key not in shown]
    for key, label in (*_ROWS, *rest):  # every figure, so no difference goes unseen
        delta = comparison.difference(product, key)
        table.add_row(
            label,
            _cell(key, base["summary"][product].get(key, 0)),
            _cell(key, other["summary"][product].get(key, 0)),
            _cell(key, delta, signed=True) if delta else "-",
        )
    if product not in comparison.differences:
        table.caption = "no difference: both policies give this product the same figures"
    return table


def _settings_note(base: Scenario, other: Scenario) -> str:
    """What the compared scenario sets unlike the base, said before either runs.

    A compared file is a whole scenario: what it leaves out takes the default, not the
    base's value, so every setting that differs is named, lest it pass for the policy's.
    """
    changed = changed_settings(base.to_dict(), other.to_dict())
    if not changed:
        return f"{other.name!r} sets every value as {base.name!r} does: the two runs must agree"
    shown = ", ".join(
        f"{name} {_setting(was)} -> {_setting(now)}" for name, (was, now) in changed.items()
    )
    return f"{other.name!r} sets, unlike {base.name!r}: {shown}"


def _setting(value: object) -> str:
    """A scenario value as the TOML file would give it (a list as [low, high])."""
    return f"[{value[0]}, {value[1]}]" if isinstance(value, list) else str(value)


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
main.add_command(adopt)
main.add_command(autopay)
main.add_command(transfers)
main.add_command(disputes)
main.add_command(loans)
main.add_command(lines)
