"""`loc simulate --compare` as a lending analyst relies on it: the same draws, every setting
that differs said, every figure shown, two runs told apart on the chart."""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
from click.testing import CliRunner

from loc_core.money import format_cents
from loc_entrypoints.cli import main
from loc_entrypoints.simulation import Scenario, Simulation
from loc_entrypoints.simulation.chart import legend_marks
from loc_entrypoints.simulation.compare import changed_settings
from loc_entrypoints.simulation.partition import borrower_digests

BOOK = ["--borrowers", "30", "--days", "30", "--seed", "5"]


def _lived(scenario: Scenario) -> tuple[dict[str, str], Simulation]:
    """Each borrower's journal digest after the run, and the run."""
    simulation = Simulation.build(scenario)
    simulation.run()
    lines = borrower_digests(simulation.world.database.ledger, simulation.book.products)
    return dict(line.split() for line in lines), simulation


def _compare(tmp_path: Path, policy: str, *base: str) -> tuple[str, dict[str, Any]]:
    other = tmp_path / "other.toml"
    other.write_text(policy)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["simulate", *BOOK, *base, "--compare", str(other), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split()), json.loads((out / "comparison.json").read_text())


def test_a_dearer_line_leaves_every_loan_borrower_and_every_draw_as_it_was() -> None:
    """Common random numbers: the APR reaches line borrowers' balances, nothing else.

    Loan borrowers' journals are the same entry for entry, and every borrower, line
    borrowers too, ends the run having drawn the same random numbers (their dice end in
    the same state): a changed balance never shifts what a borrower draws next.
    """
    base = Scenario(borrowers=40, days=60, seed=2)
    before, run_before = _lived(base)
    after, run_after = _lived(attrs.evolve(base, line_apr=Decimal("19.99")))

    changed = {user for user in before.keys() | after.keys() if before.get(user) != after.get(user)}
    wants_line = {user: b.wants_line for user, b in run_before.book.borrowers.items()}
    assert changed  # the policy did something ...
    assert all(wants_line[user] for user in changed)  # ... to line borrowers only
    for user, borrower in run_before.book.borrowers.items():
        assert borrower.draw._state == run_after.book.borrowers[user].draw._state, user


def test_a_file_spelling_out_the_defaults_compares_to_no_difference(tmp_path: Path) -> None:
    """Rates written another way ("29.990", 5) are the same setting: nothing is said to differ."""
    output, comparison = _compare(
        tmp_path,
        'name = "spelled"\nline_apr = "29.990"\norigination_fee_percent = 5\n'
        'line_minimum_payment_percent = "3.00"\ncrash_probability = 0\nline_share = 0.40\n',
    )

    assert comparison["changed"] == {}
    assert comparison["differences"] == {}
    assert comparison["base"]["ledger_digest"] == comparison["other"]["ledger_digest"]
    assert "'spelled' sets every value as 'default' does" in output


def test_the_comparison_names_every_setting_and_shows_every_figure(tmp_path: Path) -> None:
    """A compared file is a whole scenario: what it leaves out is the default, not the base's.

    With a harsher base, the compared run also has the default's returns; the command says
    so before the tables, and comparison.json lists it, so it does not pass for the policy's
    effect. And every figure comparison.json has is a row of the table (offers abandoned,
    principal originated), so no difference goes unseen.
    """
    harsh = tmp_path / "harsh.toml"
    harsh.write_text('name = "harsh"\nnsf_return_probability = 0.2\n')

    output, comparison = _compare(
        tmp_path, 'name = "eager"\naccept_offer_probability = 0.5\n', "--scenario", str(harsh)
    )

    assert comparison["changed"] == {
        "accept_offer_probability": [0.85, 0.5],
        "nsf_return_probability": [0.2, 0.04],
    }
    assert (
        "'eager' sets, unlike 'harsh': accept_offer_probability 0.85 -> 0.5, "
        "nsf_return_probability 0.2 -> 0.04" in output
    )
    loans = comparison["differences"]["installment"]
    abandoned, principal = loans["offers_abandoned"], loans["principal_originated"]
    assert abandoned > 0 > principal
    before, after = (r["summary"]["installment"]["offers_abandoned"] for r in _reports(tmp_path))
    assert f"offers abandoned │ {before} │ {after} │ +{abandoned} │" in output
    assert f"-{format_cents(-principal)} │" in output.split("principal originated")[1]


def _reports(tmp_path: Path) -> list[dict[str, Any]]:
    out = tmp_path / "out"
    return [
        json.loads((out / name).read_text()) for name in ("report.json", "report-compared.json")
    ]


def test_the_legend_tells_two_runs_of_one_name_apart() -> None:
    """A compared file may name itself as the base does (or start with `_`, which the
    chart's legend would drop): the legend says which run is which, as the table does."""
    report = {"scenario": {"name": "default"}}

    base, other = legend_marks(report, report)

    assert base != other
    assert (base, other) == ("base: default", "compared: default")


def test_a_rate_is_compared_by_value_and_a_range_by_its_bounds() -> None:
    base = Scenario().to_dict()
    assert changed_settings(base, {**base, "line_apr": "29.990"}) == {}
    assert changed_settings(base, {**base, "draw_share": [20, 90]}) == {
        "draw_share": [[20, 80], [20, 90]]
    }


def test_a_command_more_on_one_day_renumbers_no_key_of_any_other_day_or_kind() -> None:
    """A transfer's rail draw keys on its command's key: one command more (a policy made a
    borrower pay twice on day 3) must leave every other day's and kind's keys alone."""
    book = Simulation.build(Scenario(borrowers=1, days=10, seed=2)).book
    [borrower] = book.borrowers.values()

    def keys(extra_on: int | None) -> list[str]:
        borrower.keyed_on, borrower.keyed = -1, {}
        made = []
        for day in range(5):
            book.day = day
            made += [book._key(borrower, "pay"), book._key(borrower, "draw")]
            if day == extra_on:
                made.append(book._key(borrower, "pay"))
        return made

    plain, with_extra = keys(None), keys(3)
    assert with_extra == [*plain[:8], "pay-3-2", *plain[8:]]
    assert plain[:4] == ["pay-0-1", "draw-0-1", "pay-1-1", "draw-1-1"]
