"""The core takes time and configuration as arguments; it never reads them itself.

import-linter (run by the test command) forbids I/O modules; this test catches the calls
an import contract cannot see: the clock read through `datetime`/`date`/`time`, the
environment, and floats. A `Clock` port's `now()` is fine: it is injected.
"""

import ast
from pathlib import Path

import loc_core

CLOCK_READS = {"now", "today", "utcnow", "time", "monotonic", "perf_counter", "time_ns"}
CLOCK_OWNERS = {"datetime", "date", "time", "dt"}


def _owner(node: ast.expr) -> str:
    """The last name of the expression a method is called on: `dt.datetime` -> datetime."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def offences_in(source: str, name: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in CLOCK_READS and _owner(node.func.value) in CLOCK_OWNERS:
                found.append(f"{name}:{node.lineno} {_owner(node.func.value)}.{node.func.attr}()")
            if node.func.attr == "getenv":
                found.append(f"{name}:{node.lineno} getenv()")
        if isinstance(node, ast.Attribute) and node.attr == "environ":
            found.append(f"{name}:{node.lineno} .environ")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "float"
        ):
            found.append(f"{name}:{node.lineno} float()")
    return found


def test_the_check_catches_clock_environment_and_float_reads() -> None:
    source = (
        "import datetime as dt\nimport os\n"
        "a = dt.datetime.now()\nb = dt.date.today()\nc = os.environ\nd = float('1')\n"
        "e = clock.now()\n"
    )
    assert [o.split(" ")[1] for o in offences_in(source, "x.py")] == [
        "datetime.now()",
        "date.today()",
        ".environ",
        "float()",
    ]


def test_core_never_reads_the_clock_or_the_environment() -> None:
    root = Path(loc_core.__file__).parent
    offences = []
    for path in sorted(root.rglob("*.py")):
        offences += offences_in(path.read_text(), str(path.relative_to(root)))
    assert offences == []
