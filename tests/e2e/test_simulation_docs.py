from pathlib import Path

import attrs

from loc_entrypoints.simulation import Scenario

DOCS = Path(__file__).parents[2] / "docs" / "simulation.md"


def test_every_scenario_parameter_is_documented() -> None:
    text = DOCS.read_text()
    missing = [f.name for f in attrs.fields(Scenario) if f"| `{f.name}` |" not in text]
    assert missing == []
