"""The core takes time and configuration as arguments; it never reads them itself.

import-linter (run by the test command) forbids I/O modules; this test catches the calls
an import contract cannot see.
"""

import ast
from pathlib import Path

import loc_core

FORBIDDEN_CALLS = {"now", "today", "utcnow", "time", "getenv", "monotonic", "perf_counter"}


def test_core_never_reads_the_clock_or_the_environment() -> None:
    root = Path(loc_core.__file__).parent
    offences = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in FORBIDDEN_CALLS
            ):
                offences.append(f"{path.relative_to(root)}:{node.lineno} .{node.func.attr}()")
            if isinstance(node, ast.Attribute) and node.attr == "environ":
                offences.append(f"{path.relative_to(root)}:{node.lineno} .environ")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "float"
            ):
                offences.append(f"{path.relative_to(root)}:{node.lineno} float()")
    assert offences == []
