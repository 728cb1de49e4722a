"""Every value of a scenario file is checked when the file is read, before anything runs.

A bad value (wrong type or out of range) ends ``loc simulate --scenario F`` or
``--compare F`` with exit 2 and one line naming the file and the key; no report is
written and the run never starts.
"""

from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from loc_core.errors import InvalidConfiguration
from loc_entrypoints.cli import main
from loc_entrypoints.simulation import Scenario

_PROBABILITIES = [
    field.name for field in attrs.fields(Scenario) if field.name.endswith("_probability")
] + ["line_share", "draws_per_month"]
_RANGES = ["arrival_days", "loan_request", "reborrow_delay_days", "draw_share"]
_RATES = ["origination_fee_percent", "line_apr", "line_minimum_payment_percent"]

BAD_TYPE: dict[str, list[str]] = {
    "name": ["5", "true", "[1, 2]"],
    "borrowers": ['"10"', "true", "1.5"],
    "days": ['"30"', "true", "30.0"],
    "start": ["2026-01-01T10:00:00", "2026-01-01T10:00:00Z", "10:00:00", '"tomorrow"', "1"],
    "seed": ['"7"', "true", "0.5"],
    **{name: ['"0.5"', "true", "[0.5]"] for name in _PROBABILITIES},
    **{name: ["5", "[1, 2, 3]", '["a", "b"]', "[true, true]"] for name in _RANGES},
    **{name: ['"abc"', "3.5", "true", '""', "[3]"] for name in _RATES},
}
"""Per scenario key, TOML values of the wrong type."""
BAD_TYPE["loan_request"] += ["[2500.0, 5000.0]"]
BAD_TYPE["arrival_days"] += ["[0.5, 1.0]"]

BAD_RANGE: dict[str, list[str]] = {
    "name": ['""', '"   "'],
    "borrowers": ["0", "-5"],
    "days": ["0", "-1", "4000000"],
    "start": ["0001-01-01", "1899-12-31", "9999-06-01"],
    **{name: ["1.5", "-0.1", "nan", "inf", "2"] for name in _PROBABILITIES},
    "arrival_days": ["[5, 1]", "[-1, 3]"],
    "reborrow_delay_days": ["[30, 3]", "[-1, 0]"],
    "loan_request": ["[100, 500]", "[0, 2500]", "[5000, 2500]", "[10000, 50001]"],
    "draw_share": ["[20, 120]", "[-5, 10]", "[80, 20]"],
    "origination_fee_percent": ['"-1"', '"100.01"', '"NaN"', '"Infinity"', "-1"],
    "line_apr": ['"-5"', '"36.01"', '"NaN"', '"-Infinity"', "40"],
    "line_minimum_payment_percent": ['"0.5"', '"5.5"', '"0"', '"sNaN"'],
}
"""Per scenario key, TOML values of the right type outside what the simulation can run."""

NO_RANGE = {"seed": "any whole number seeds the draws"}
"""Keys without a range to break, and why."""


def _cases(table: dict[str, list[str]]) -> list[object]:
    return [
        pytest.param(key, value, id=f"{key}={value}")
        for key, values in table.items()
        for value in values
    ]


def test_every_scenario_key_has_bad_values_under_test() -> None:
    keys = {field.name for field in attrs.fields(Scenario)}
    assert set(BAD_TYPE) == keys
    assert set(BAD_RANGE) | set(NO_RANGE) == keys


def simulate(tmp_path: Path, *arguments: str) -> tuple[int, list[str], Path]:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["simulate", *arguments, "--out", str(out)])
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    return result.exit_code, errors, out


@pytest.mark.parametrize(("key", "value"), _cases(BAD_TYPE) + _cases(BAD_RANGE))
def test_a_bad_scenario_value_is_refused_naming_the_key_and_the_file(
    tmp_path: Path, key: str, value: str
) -> None:
    scenario = tmp_path / "policy.toml"
    scenario.write_text(f"{key} = {value}\n")
    code, errors, out = simulate(tmp_path, "--scenario", str(scenario), "--borrowers", "50")
    assert code == 2
    [error] = errors
    assert "--scenario" in error
    assert str(scenario) in error
    assert key in error
    assert not out.exists()  # refused before the run: nothing written
    with pytest.raises(InvalidConfiguration) as refused:
        Scenario.load(scenario)
    assert refused.value.key == key


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("origination_fee_percent", '"abc"'),
        ("start", "2026-01-01T10:00:00"),
        ("line_apr", '"-5"'),
        ("line_apr", '"NaN"'),
        ("line_share", "true"),
    ],
)
def test_a_bad_value_in_the_compared_file_is_refused_before_either_run(
    tmp_path: Path, key: str, value: str
) -> None:
    other = tmp_path / "dearer.toml"
    other.write_text(f'name = "dearer"\n{key} = {value}\n')
    code, errors, out = simulate(tmp_path, "--compare", str(other), "--borrowers", "50")
    assert code == 2
    [error] = errors
    assert "--compare" in error
    assert str(other) in error
    assert key in error
    assert not out.exists()


def test_days_from_the_command_line_past_the_calendar_are_refused(tmp_path: Path) -> None:
    scenario = tmp_path / "late.toml"
    scenario.write_text("start = 9998-01-01\n")
    code, errors, out = simulate(tmp_path, "--scenario", str(scenario), "--days", "400")
    assert code == 2
    [error] = errors
    assert "--days" in error
    assert "start + days" in error
    assert not out.exists()


def test_a_file_that_is_not_toml_is_refused_naming_it(tmp_path: Path) -> None:
    scenario = tmp_path / "notes.toml"
    scenario.write_text("line_apr: 29.99\n")
    code, errors, out = simulate(tmp_path, "--scenario", str(scenario))
    assert code == 2
    [error] = errors
    assert str(scenario) in error
    assert "not a TOML file" in error
    assert not out.exists()


def test_values_at_the_edges_of_every_range_are_accepted(tmp_path: Path) -> None:
    edges = tmp_path / "edges.toml"
    probabilities = "".join(f"{name} = {index % 2}\n" for index, name in enumerate(_PROBABILITIES))
    edges.write_text(
        'name = "edges"\nborrowers = 1\ndays = 1\nstart = "1900-01-01"\nseed = -3\n'
        "arrival_days = [0, 0]\nreborrow_delay_days = [0, 0]\n"
        "loan_request = [2500, 2500]\ndraw_share = [0, 100]\n"
        'origination_fee_percent = "100"\nline_apr = 0\nline_minimum_payment_percent = "5"\n'
        + probabilities
    )
    scenario = Scenario.load(edges)
    assert (scenario.start.isoformat(), str(scenario.line_apr), scenario.draw_share) == (
        "1900-01-01",
        "0",
        (0, 100),
    )
    last = Scenario(start="9998-12-31", days=1, origination_fee_percent="0", line_apr="36")
    assert str(last.line_apr) == "36"
