"""What a simulated book of borrowers does: named, documented parameters and one seed.

A scenario is plain data. `Scenario()` is the default book: mostly good payers with the
ordinary share of insufficient funds, returns and chargebacks of small-dollar lending.
`Scenario.load(path)` reads a TOML file whose keys are the field names below (any field
left out keeps its default), so a lending team can describe a policy change in a file and
compare runs.

Probabilities are behaviour, not money: they are plain floats in [0, 1]. Amounts are
integer cents.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from loc_core.errors import InvalidConfiguration

__all__ = ["HARSH", "PERFECT", "Scenario"]


def _probability(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidConfiguration(
            f"{attribute.name} must be a probability in [0, 1], got {value!r}"
        )


def _positive(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or value <= 0:
        raise InvalidConfiguration(
            f"{attribute.name} must be a positive whole number, got {value!r}"
        )


def _cents_range(
    _instance: object, attribute: attrs.Attribute[tuple[int, int]], value: tuple[int, int]
) -> None:
    low, high = value
    if type(low) is not int or type(high) is not int or not 0 < low <= high:
        raise InvalidConfiguration(
            f"{attribute.name} must be [low, high] cents with 0 < low <= high, got {value!r}"
        )


def _days_range(
    _instance: object, attribute: attrs.Attribute[tuple[int, int]], value: tuple[int, int]
) -> None:
    low, high = value
    if type(low) is not int or type(high) is not int or not 0 <= low <= high:
        raise InvalidConfiguration(
            f"{attribute.name} must be [low, high] days with 0 <= low <= high, got {value!r}"
        )


def _pair(value: object) -> tuple[int, int]:
    if isinstance(value, list | tuple) and len(value) == 2:  # noqa: PLR2004 - a [low, high] pair
        return (value[0], value[1])
    raise InvalidConfiguration(f"expected a [low, high] pair, got {value!r}")


def _chance(default: float) -> float:
    """A probability field: validated to lie in [0, 1]."""
    return attrs.field(default=default, validator=_probability)


def _range(
    default: tuple[int, int],
    validator: Callable[[object, attrs.Attribute[tuple[int, int]], tuple[int, int]], None],
) -> tuple[int, int]:
    """A ``[low, high]`` field read from a list or tuple, checked by `validator`."""
    return attrs.field(default=default, converter=_pair, validator=validator)


@attrs.frozen(kw_only=True)
class Scenario:
    """A book of borrowers and how they behave; every field has a sensible default."""

    name: str = "default"
    borrowers: int = attrs.field(default=10_000, validator=_positive)
    """How many borrowers the book has."""
    days: int = attrs.field(default=365, validator=_positive)
    """How many days to simulate."""
    start: dt.date = dt.date(2026, 1, 1)
    """The first simulated day."""
    seed: int = 0
    """The seed of every random draw: same scenario and seed, same report."""

    # --- who borrows what
    line_share: float = _chance(0.4)
    """Share of borrowers who want a line of credit; the others want installment loans."""
    arrival_days: tuple[int, int] = _range((0, 120), _days_range)
    """Day range (from the start) on which each borrower first applies."""
    inactive_user_probability: float = _chance(0.01)
    """Share of borrowers whose account is inactive (they fail the pre-check)."""
    loan_request: tuple[int, int] = _range((10_000, 50_000), _cents_range)
    """Range of installment-loan amounts asked for, in cents (drawn in $25 steps)."""
    accept_offer_probability: float = _chance(0.85)
    """Share of approved offers accepted within the TTL; the rest expire (ABANDONED)."""
    reborrow_probability: float = _chance(0.6)
    """Chance a borrower whose loan closed applies again."""
    reborrow_delay_days: tuple[int, int] = _range((3, 30), _days_range)
    """Days between a payoff and the next application."""

    # --- how installment borrowers pay
    autopay_off_probability: float = _chance(0.05)
    """Chance a borrower turns autopay off when the loan starts (then pays by hand)."""
    manual_pay_probability: float = _chance(0.7)
    """Chance a borrower without autopay pays an installment by hand near its due date."""
    prepay_probability: float = _chance(0.05)
    """Chance a borrower pays the whole loan off early, mid-schedule."""
    distressed_probability: float = _chance(0.06)
    """Share of borrowers who fall into hardship: autopay off and no payments."""

    # --- how line borrowers draw and pay
    draws_per_month: float = _chance(0.8)
    """Chance, each month, that a line borrower draws."""
    draw_share: tuple[int, int] = _range((20, 80), _days_range)
    """Percent range of the available credit a draw takes."""
    pay_full_probability: float = _chance(0.3)
    """Chance a line borrower pays the whole balance after a statement."""
    pay_minimum_probability: float = _chance(0.6)
    """Chance a line borrower pays exactly the minimum (if not in full).

    Otherwise the due job collects the minimum on the due date."""

    # --- the rails
    debit_card_probability: float = _chance(0.6)
    """Share of borrowers with a debit card that takes pinless transfers; the others are
    paid and collected by ACH (which is where returns come from)."""
    decline_probability: float = _chance(0.02)
    """A transfer refused at submission."""
    nsf_return_probability: float = _chance(0.04)
    """An ACH debit returned for insufficient funds within 2 business days of settling."""
    unauthorized_return_probability: float = _chance(0.002)
    """An ACH debit returned as unauthorized, up to 60 days after settling."""
    chargeback_probability: float = _chance(0.005)
    """A pinless debit charged back, up to 60 days after it completed."""

    # --- process deaths
    crash_probability: float = _chance(0.0)
    """Chance the process moving money dies after a rail accepted a transfer and before
    the booking commit (`crashes.CrashingRails`); the recovery job books the money."""

    # --- underwriting
    loan_approval_probability: float = _chance(0.8)
    line_approval_probability: float = _chance(0.7)
    origination_fee_percent: Decimal = attrs.field(default=Decimal(5), converter=Decimal)
    """Origination fee of approved loans, percent of the amount."""
    line_apr: Decimal = attrs.field(default=Decimal("29.99"), converter=Decimal)
    line_minimum_payment_percent: Decimal = attrs.field(default=Decimal(3), converter=Decimal)

    @property
    def borrower_days(self) -> int:
        """The size of the run: borrowers times days."""
        return self.borrowers * self.days

    def resized(
        self, *, borrowers: int | None = None, days: int | None = None, seed: int | None = None
    ) -> Scenario:
        """This scenario with another size or seed (None keeps the current value)."""
        return attrs.evolve(
            self,
            borrowers=self.borrowers if borrowers is None else borrowers,
            days=self.days if days is None else days,
            seed=self.seed if seed is None else seed,
        )

    @classmethod
    def load(cls, path: Path) -> Scenario:
        """Read a scenario from a TOML file; a key left out keeps its default.

        A file without a ``name`` names the scenario after itself (``cheaper-fee.toml``:
        ``cheaper-fee``), so a report, a comparison's table and its chart tell two files
        apart.

        Raises:
            InvalidConfiguration: for an unknown key or a value out of range.
        """
        with path.open("rb") as handle:
            values = tomllib.load(handle)
        known = {field.name for field in attrs.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidConfiguration(f"{path}: unknown scenario keys {', '.join(unknown)}")
        if isinstance(values.get("start"), str):
            values["start"] = dt.date.fromisoformat(values["start"])
        if any(
            isinstance(values.get(k), float)
            for k in ("origination_fee_percent", "line_apr", "line_minimum_payment_percent")
        ):
            raise InvalidConfiguration(
                f'{path}: write rates as strings, such as line_apr = "29.99"'
            )
        values.setdefault("name", path.stem)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain JSON-ready values, for the report."""
        out: dict[str, Any] = {}
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[field.name] = value
        return out


PERFECT = Scenario(
    name="perfect",
    inactive_user_probability=0,
    autopay_off_probability=0,
    distressed_probability=0,
    decline_probability=0,
    nsf_return_probability=0,
    unauthorized_return_probability=0,
    chargeback_probability=0,
    pay_full_probability=0.5,
    pay_minimum_probability=1,
)
"""Everyone pays on time and no transfer fails: no late fees, returns or defaults."""

HARSH = Scenario(
    name="harsh",
    distressed_probability=0.3,
    autopay_off_probability=0.2,
    manual_pay_probability=0.3,
    decline_probability=0.1,
    nsf_return_probability=0.2,
    unauthorized_return_probability=0.02,
    chargeback_probability=0.05,
    pay_minimum_probability=0.3,
)
"""A downturn: many borrowers in hardship and many failed debits."""
