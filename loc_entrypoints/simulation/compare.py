"""Policy comparison: the same book, the same draws, under two scenarios.

`loc simulate --compare other.toml` runs the base scenario and then `paired(base,
other)`: the other scenario's policy with the base's book (borrowers, days, start and
seed). Every random draw derives from the seed and the borrower, so the two runs see the
same borrowers making the same choices until the policy makes them differ, and what
separates the two reports is the policy, not the noise of the draws.
"""

from __future__ import annotations

import decimal
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from loc_entrypoints.simulation.scenario import Scenario

__all__ = ["BOOK_FIELDS", "Comparison", "changed_settings", "ignored_book", "paired"]

BOOK_FIELDS = ("borrowers", "days", "start", "seed")
"""What makes the book: the compared scenario takes these from the base."""

PRODUCTS = ("installment", "creditline")


def paired(base: Scenario, other: Scenario) -> Scenario:
    """`other`'s policy on `base`'s book (its borrowers, days, start and seed)."""
    return attrs.evolve(other, **{name: getattr(base, name) for name in BOOK_FIELDS})


def changed_settings(base: dict[str, Any], other: dict[str, Any]) -> dict[str, list[Any]]:
    """Every scenario setting (``Scenario.to_dict`` values) the two set apart: ``[base, other]``.

    The name is a label, not a setting, and is left out. A compared file is a whole
    scenario, not a change to the base's: a key it leaves out takes the default, which is
    a difference too when the base (``--scenario``) sets it otherwise, so the comparison
    names them all rather than let that pass for the policy's effect.
    """
    return {
        name: [base.get(name), other.get(name)]
        for name in sorted(base.keys() | other.keys())
        if name != "name" and not _same(base.get(name), other.get(name))
    }


def _same(one: object, other: object) -> bool:
    """Equal settings; a rate by value (``"29.990"`` is ``"29.99"``, ``"5"`` is ``5``)."""
    if one == other:
        return True
    try:
        return Decimal(str(one)) == Decimal(str(other))
    except decimal.InvalidOperation:
        return False


def ignored_book(base: Scenario, other: Scenario, path: Path) -> list[str]:
    """The book fields that `path`, the file `other` was loaded from, sets unlike `base`.

    A comparison ignores them (it runs `base`'s book); the CLI says so, so that a file
    written for another book is never silently run on this one.
    """
    with path.open("rb") as handle:
        given = tomllib.load(handle)
    return [
        f"{name} = {getattr(other, name)}"
        for name in BOOK_FIELDS
        if name in given and getattr(other, name) != getattr(base, name)
    ]


@attrs.frozen
class Comparison:
    """Two reports of the same book and their differences, figure by figure."""

    base: dict[str, Any]
    other: dict[str, Any]

    @property
    def changed(self) -> dict[str, list[Any]]:
        """The settings the two scenarios set apart (`changed_settings`)."""
        return changed_settings(self.base["scenario"], self.other["scenario"])

    @property
    def figures(self) -> tuple[str, ...]:
        """Every summary figure either report has, sorted."""
        names: set[str] = set()
        for report in (self.base, self.other):
            for product in PRODUCTS:
                names.update(report["summary"][product])
        return tuple(sorted(names))

    def difference(self, product: str, figure: str) -> int:
        """The other report's figure minus the base's (0 when both lack it)."""
        return int(self.other["summary"][product].get(figure, 0)) - int(
            self.base["summary"][product].get(figure, 0)
        )

    @property
    def differences(self) -> dict[str, dict[str, int]]:
        """Per product, every figure that differs, other minus base; empty when none does."""
        out: dict[str, dict[str, int]] = {}
        for product in PRODUCTS:
            changed = {
                figure: delta
                for figure in self.figures
                if (delta := self.difference(product, figure)) != 0
            }
            if changed:
                out[product] = changed
        return out

    def to_dict(self) -> dict[str, Any]:
        """``comparison.json``: scenarios, digests, `changed` settings and the differences."""
        return {
            "base": {
                "scenario": self.base["scenario"],
                "ledger_digest": self.base["ledger_digest"],
            },
            "other": {
                "scenario": self.other["scenario"],
                "ledger_digest": self.other["ledger_digest"],
            },
            "changed": self.changed,
            "differences": self.differences,
        }
