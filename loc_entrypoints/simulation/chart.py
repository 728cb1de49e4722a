"""The portfolio chart: receivables, collections, delinquency and defaults over the run.

Needs the ``report`` extra (matplotlib); it draws with the Agg backend, so no display is
needed. Given a second report (`loc simulate --compare`), it overlays both: the base
scenario in solid lines, the compared one dashed, in the same colour per product.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import IO, Any

__all__ = ["draw_portfolio", "legend_marks"]

_WEEK = 7
_PRODUCTS = (("installment", "installment loans", "C0"), ("creditline", "lines of credit", "C1"))


def draw_portfolio(
    report: dict[str, Any], path: Path | IO[bytes], *, other: dict[str, Any] | None = None
) -> None:
    """Write a PNG of the report's daily series to `path`, with `other`'s overlaid if given.

    `path` may be a binary stream: ``loc simulate`` draws into memory, then writes the
    chart with the reports, all or none.

    Raises:
        ModuleNotFoundError: when matplotlib (the ``report`` extra) is not installed.
    """
    import matplotlib as mpl  # noqa: PLC0415 - optional extra, imported only when charting

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 - after choosing the backend

    figure, axes = plt.subplots(2, 2, figsize=(13, 8), sharex=True)
    title = (
        f"Portfolio: {report['borrowers']:,} borrowers, {report['days']} days, "
        f"scenario {report['scenario']['name']!r}, seed {report['seed']}"
    )
    if other is not None:
        title += f" (solid) against {other['scenario']['name']!r} (dashed)"
    figure.suptitle(title)
    receivables, collected, delinquent, defaults = axes.flat
    runs = [(report, "-", "")]
    if other is not None:
        base_mark, other_mark = legend_marks(report, other)
        runs = [(report, "-", base_mark), (other, "--", other_mark)]
    for run, style, mark in runs:
        daily = run["daily"]
        days = [dt.date.fromisoformat(row["date"]) for row in daily]
        for product, label, colour in _PRODUCTS:
            line = {
                "color": colour,
                "linestyle": style,
                "label": f"{label} ({mark})" if mark else label,
            }
            receivables.plot(days, [row["receivables"][product] / 100 for row in daily], **line)
            weekly = _rolling([row["collected"][product] / 100 for row in daily])
            collected.plot(days, weekly, **line)
            defaults.plot(days, [row["defaults"][product] for row in daily], **line)
        if other is None:
            buckets = list(daily[0]["delinquent"])
            delinquent.stackplot(
                days,
                [[row["delinquent"][bucket] for row in daily] for bucket in buckets],
                labels=[f"{bucket} days" for bucket in buckets],
            )
        else:
            delinquent.plot(
                days,
                [sum(row["delinquent"].values()) for row in daily],
                color="C3",
                linestyle=style,
                label=mark,
            )
    receivables.set_title("Receivables ($)")
    collected.set_title("Collected per day, 7-day average ($)")
    defaults.set_title("Defaults (cumulative)")
    delinquent.set_title(
        "Delinquent loans and lines by days past due"
        if other is None
        else "Delinquent loans and lines (any days past due)"
    )
    for axis in axes.flat:
        axis.legend(loc="upper left", fontsize="small")
        axis.grid(visible=True, alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, dpi=100, format="png")
    plt.close(figure)


def legend_marks(report: dict[str, Any], other: dict[str, Any]) -> tuple[str, str]:
    """How the legend tells the base run from the compared one, as the table does.

    ``base: <name>`` and ``compared: <name>``: two scenarios of the same name (a file
    naming itself ``default``) still read apart, and not by the line style alone.
    """
    return f"base: {report['scenario']['name']}", f"compared: {other['scenario']['name']}"


def _rolling(values: list[float]) -> list[float]:
    out: list[float] = []
    for index in range(len(values)):
        window = values[max(0, index - _WEEK + 1) : index + 1]
        out.append(sum(window) / len(window))
    return out
