"""The portfolio chart: receivables, collections, delinquency and defaults over the run.

Needs the ``report`` extra (matplotlib); it draws with the Agg backend, so no display is
needed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

__all__ = ["draw_portfolio"]

_WEEK = 7


def draw_portfolio(report: dict[str, Any], path: Path) -> None:
    """Write a PNG of the report's daily series to `path`.

    Raises:
        ModuleNotFoundError: when matplotlib (the ``report`` extra) is not installed.
    """
    import matplotlib as mpl  # noqa: PLC0415 - optional extra, imported only when charting

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 - after choosing the backend

    daily = report["daily"]
    days = [dt.date.fromisoformat(row["date"]) for row in daily]
    figure, axes = plt.subplots(2, 2, figsize=(13, 8), sharex=True)
    figure.suptitle(
        f"Portfolio: {report['borrowers']:,} borrowers, {report['days']} days, "
        f"scenario {report['scenario']['name']!r}, seed {report['seed']}"
    )
    receivables, collected, delinquent, defaults = axes.flat
    for product, label in (("installment", "installment loans"), ("creditline", "lines of credit")):
        receivables.plot(days, [row["receivables"][product] / 100 for row in daily], label=label)
        weekly = _rolling([row["collected"][product] / 100 for row in daily])
        collected.plot(days, weekly, label=label)
        defaults.plot(days, [row["defaults"][product] for row in daily], label=label)
    receivables.set_title("Receivables ($)")
    collected.set_title("Collected per day, 7-day average ($)")
    defaults.set_title("Defaults (cumulative)")
    buckets = list(daily[0]["delinquent"])
    delinquent.stackplot(
        days,
        [[row["delinquent"][bucket] for row in daily] for bucket in buckets],
        labels=[f"{bucket} days" for bucket in buckets],
    )
    delinquent.set_title("Delinquent loans and lines by days past due")
    for axis in axes.flat:
        axis.legend(loc="upper left", fontsize="small")
        axis.grid(visible=True, alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _rolling(values: list[float]) -> list[float]:
    out: list[float] = []
    for index in range(len(values)):
        window = values[max(0, index - _WEEK + 1) : index + 1]
        out.append(sum(window) / len(window))
    return out
