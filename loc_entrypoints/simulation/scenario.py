"""What a simulated book of borrowers does: named, documented parameters and one seed.

A scenario is plain data. `Scenario()` is the default book: mostly good payers with the
ordinary share of insufficient funds, returns and chargebacks of small-dollar lending.
`Scenario.load(path)` reads a TOML file whose keys are the field names below (any field
left out keeps its default), so a lending team can describe a policy change in a file and
compare runs.

Every value is checked when the scenario is built, so a bad one is refused with
`InvalidConfiguration` naming its key before anything runs. Probabilities are behaviour,
not money: plain numbers in [0, 1]. Amounts are integer cents. Rates are exact (strings,
whole numbers or `Decimal`) and lie within the bounds the simulated products accept.
"""

from __future__ import annotations

import datetime as dt
import decimal
import tomllib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from loc_core.creditline import CreditLineProduct
from loc_core.errors import InvalidConfiguration, InvalidRate
from loc_core.installment import OriginationFee
from loc_core.money import rate

__all__ = ["FIRST_DAY", "HARSH", "LAST_DAY", "LOAN_STEP", "MAX_BORROWERS", "PERFECT", "Scenario"]

FIRST_DAY = dt.date(1900, 1, 1)
"""The earliest `start`: an earlier one is a typo, not a book."""
LAST_DAY = dt.date(9998, 12, 31)
"""The latest simulated day: a year short of the calendar's end, for what runs past the
last day (schedules, late returns, the last recovery run)."""
MAX_BORROWERS = 9_999_999
"""The largest book: a borrower's id has seven digits (``user-0000042``), and ids must sort
in borrower order (the ledger digest is taken in that order) and loan numbers stay unique,
so a book of more borrowers is refused rather than run with ids that break both."""
LOAN_STEP = 2_500
"""Loan requests are drawn in $25 steps, so `loan_request`'s bounds are multiples of it."""
_LINE_PRODUCT = CreditLineProduct()
"""The credit-line product the simulation runs (the bootstrap's default)."""


def _refused(name: str, rule: str, value: object) -> InvalidConfiguration:
    """The error of a scenario value: its key, the rule it breaks, and what was given."""
    shown = value.isoformat() if isinstance(value, dt.date | dt.time) else repr(value)
    return InvalidConfiguration(f"{name} must be {rule}, got {shown}", key=name)


def _name(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise _refused(attribute.name, "a non-blank string", value)


def _whole(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int:
        raise _refused(attribute.name, "a whole number", value)


def _positive(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or value <= 0:
        raise _refused(attribute.name, "a positive whole number", value)


def _book_size(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or not 0 < value <= MAX_BORROWERS:
        raise _refused(attribute.name, f"a whole number from 1 to {MAX_BORROWERS:,}", value)


def _as_date(value: object) -> dt.date:
    """An ISO date string as a date; anything else as given, for `_date` to judge."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    return value  # type: ignore[return-value]  # not a date: `_date` refuses it by name


def _date(_instance: object, attribute: attrs.Attribute[dt.date], value: dt.date) -> None:
    # A datetime is a date subclass, but a day-by-day run compares days with days.
    if type(value) is not dt.date or not FIRST_DAY <= value <= LAST_DAY:
        rule = f"a date such as 2026-01-01 (no time of day) from {FIRST_DAY} to {LAST_DAY}"
        raise _refused(attribute.name, rule, value)


def _probability(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    # NaN and infinities fail the comparison; a bool is not a probability.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise _refused(attribute.name, "a probability in [0, 1]", value)


def _pair(value: object) -> tuple[int, int]:
    """A two-item list or tuple as a tuple; anything else as given, for the validator."""
    if isinstance(value, list | tuple) and len(value) == 2:  # noqa: PLR2004 - a [low, high] pair
        return (value[0], value[1])
    return value  # type: ignore[return-value]  # not a pair: the field's validator refuses it


def _bounded_pair(
    unit: str, *, least: int, most: int | None = None, step: int = 1
) -> Callable[[object, attrs.Attribute[tuple[int, int]], tuple[int, int]], None]:
    """A validator of ``[low, high]`` whole `unit` with ``least <= low <= high (<= most)``."""
    rule = f"[low, high] {unit} with {least} <= low <= high"
    rule += "" if most is None else f" <= {most}"
    rule += "" if step == 1 else f", multiples of {step}"

    def check(
        _instance: object, attribute: attrs.Attribute[tuple[int, int]], value: tuple[int, int]
    ) -> None:
        if not isinstance(value, tuple):  # `_pair` passed it on: not a [low, high] pair
            raise _refused(attribute.name, rule, value)
        low, high = value
        whole = type(low) is int and type(high) is int
        if not whole or not least <= low <= high or (most is not None and high > most):
            raise _refused(attribute.name, rule, list(value))
        if low % step or high % step:
            raise _refused(attribute.name, rule, list(value))

    return check


def _as_decimal(value: object) -> Decimal:
    """An exact finite rate (a string or a whole number) as a Decimal.

    Anything else is passed on as given, for the field's validator to refuse by name.
    """
    if isinstance(value, str | int) and not isinstance(value, bool):
        try:
            parsed = Decimal(value)
        except decimal.InvalidOperation:
            return value  # type: ignore[return-value]  # not a number: refused by name
        if parsed.is_finite():
            return parsed
    return value  # type: ignore[return-value]  # a float, NaN, ...: refused by name


def _rate(
    product: str, within: Callable[[Decimal], object]
) -> Callable[[object, attrs.Attribute[Decimal], object], None]:
    """A validator of a rate that `within`, the `product`'s own check, must accept."""

    def check(_instance: object, attribute: attrs.Attribute[Decimal], value: object) -> None:
        name = attribute.name
        if isinstance(value, float):
            rule = 'an exact string such as "29.99" (write rates as strings: a float is not exact)'
            raise _refused(name, rule, value)
        try:
            parsed = rate(value, field=name)
        except InvalidRate as exc:
            raise InvalidConfiguration(str(exc), key=name) from exc
        try:
            within(parsed)
        except InvalidRate as exc:
            raise InvalidConfiguration(
                f"{name} is outside the {product}'s bounds: {exc}", key=name
            ) from exc

    return check


def _chance(default: float) -> float:
    """A probability field: validated to lie in [0, 1]."""
    return attrs.field(default=default, validator=_probability)


def _range(
    default: tuple[int, int],
    validator: Callable[[object, attrs.Attribute[tuple[int, int]], tuple[int, int]], None],
) -> tuple[int, int]:
    """A ``[low, high]`` field read from a list or tuple, checked by `validator`."""
    return attrs.field(default=default, converter=_pair, validator=validator)


_DAYS = _bounded_pair("days", least=0)


@attrs.frozen(kw_only=True)
class Scenario:
    """A book of borrowers and how they behave; every field has a sensible default."""

    name: str = attrs.field(default="default", validator=_name)
    """A label for the report, the comparison's table and the chart."""
    borrowers: int = attrs.field(default=10_000, validator=_book_size)
    """How many borrowers the book has."""
    days: int = attrs.field(default=365, validator=_positive)
    """How many days to simulate."""
    start: dt.date = attrs.field(default=dt.date(2026, 1, 1), converter=_as_date, validator=_date)
    """The first simulated day (an ISO string is read as a date)."""
    seed: int = attrs.field(default=0, validator=_whole)
    """The seed of every random draw: same scenario and seed, same report."""

    # --- who borrows what
    line_share: float = _chance(0.4)
    """Share of borrowers who want a line of credit; the others want installment loans."""
    arrival_days: tuple[int, int] = _range((0, 120), _DAYS)
    """Day range (from the start) on which each borrower first applies."""
    inactive_user_probability: float = _chance(0.01)
    """Share of borrowers whose account is inactive (they fail the pre-check)."""
    loan_request: tuple[int, int] = _range(
        (10_000, 50_000), _bounded_pair("cents", least=LOAN_STEP, step=LOAN_STEP)
    )
    """Range of installment-loan amounts asked for, in cents (drawn in $25 steps)."""
    accept_offer_probability: float = _chance(0.85)
    """Share of approved offers accepted within the TTL; the rest expire (ABANDONED)."""
    reborrow_probability: float = _chance(0.6)
    """Chance a borrower whose loan closed applies again."""
    reborrow_delay_days: tuple[int, int] = _range((3, 30), _DAYS)
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
    draw_share: tuple[int, int] = _range((20, 80), _bounded_pair("percent", least=0, most=100))
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
    credit_return_probability: float = _chance(0.0)
    """A credit the borrower's bank sends back 1-2 business days after it completed (no
    such account): the loan it disbursed is cancelled, the draw it sent reversed."""

    # --- process deaths
    crash_probability: float = _chance(0.0)
    """Chance the process moving money dies after a rail accepted a transfer and before
    the booking commit (`crashes.CrashingRails`); the recovery job books the money."""

    # --- underwriting
    loan_approval_probability: float = _chance(0.8)
    """Share of loan requests underwriting approves."""
    line_approval_probability: float = _chance(0.7)
    """Share of line requests underwriting approves."""
    origination_fee_percent: Decimal = attrs.field(
        default=Decimal(5),
        converter=_as_decimal,
        validator=_rate("installment product", OriginationFee.percentage),
    )
    """Origination fee of approved loans, percent of the amount (0 to 100)."""
    line_apr: Decimal = attrs.field(
        default=Decimal("29.99"),
        converter=_as_decimal,
        validator=_rate("credit-line product", _LINE_PRODUCT.check_apr),
    )
    """APR of approved lines, within the credit-line product's APR bounds."""
    line_minimum_payment_percent: Decimal = attrs.field(
        default=Decimal(3),
        converter=_as_decimal,
        validator=_rate("credit-line product", _LINE_PRODUCT.check_minimum_payment_percent),
    )
    """Minimum-payment percent of approved lines, within the product's bounds."""

    def __attrs_post_init__(self) -> None:
        # The fields are valid one by one; together the run must end on a calendar day.
        if self.days > (LAST_DAY - self.start).days + 1:
            raise InvalidConfiguration(
                f"start + days must end the run by {LAST_DAY}, got start = {self.start} and "
                f"days = {self.days}",
                key="days",
            )

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
            InvalidConfiguration: naming the file, for a file that is not TOML, an
                unknown key, or a value of the wrong type or out of range (its `key` is
                the scenario key); nothing has run.
        """
        try:
            with path.open("rb") as handle:
                values = tomllib.load(handle)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InvalidConfiguration(f"{path}: not a TOML file ({exc})") from exc
        known = {field.name for field in attrs.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidConfiguration(f"{path}: unknown scenario keys {', '.join(unknown)}")
        values.setdefault("name", path.stem)
        try:
            return cls(**values)
        except InvalidConfiguration as exc:
            raise InvalidConfiguration(f"{path}: {exc}", key=exc.key) from exc

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
