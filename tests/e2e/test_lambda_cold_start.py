"""A cold start that fails on its configuration is one JSON log line, then Lambda's error.

Each handler runs in a fresh interpreter, as a new container would, with a broken
environment: the line names the function, the error's class, its message and the
setting at fault, and never a secret's value; the invocation still fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from loc_entrypoints.lambdas.catalog import CATALOG

pytest.importorskip("aws_lambda_powertools", reason="the lambda extra is not installed")

SECRET = "jwt-secret-that-must-never-be-logged-7f3a"  # noqa: S105 - a made-up value to look for


def run(script: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """`script` in a new interpreter with only `settings` as the ``LOC_*`` environment."""
    environ = {name: value for name, value in os.environ.items() if not name.startswith("LOC_")}
    return subprocess.run(  # noqa: S603 - this interpreter, a script of this test
        [sys.executable, "-c", textwrap.dedent(script)],
        env={**environ, **settings},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def json_lines(done: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    """The JSON objects among the lines of both streams (a traceback is not one)."""
    found = []
    for line in (done.stdout + done.stderr).splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            found.append(parsed)
    return found


def test_every_handler_logs_one_json_line_naming_a_bad_setting_and_fails() -> None:
    done = run(
        """
        import importlib
        from loc_entrypoints.lambdas.catalog import CATALOG

        for function in CATALOG:
            handler = importlib.import_module(function.import_path).handler
            try:
                handler({}, None)
            except Exception as exc:
                print("raised", function.module, type(exc).__name__)
            else:
                print("did not fail", function.module)
        """,
        LOC_BACKEND="nosql",
        LOC_JWT_SECRET=SECRET,
    )
    assert done.returncode == 0, done.stderr
    raised = {
        tuple(line.split()[1:]) for line in done.stdout.splitlines() if line.startswith("raised")
    }
    assert raised == {(function.module, "InvalidConfiguration") for function in CATALOG}
    lines = json_lines(done)
    assert sorted(line["function"] for line in lines) == sorted(f.module for f in CATALOG)
    for line in lines:
        assert line["event"] == "cold start failed"
        assert line["level"] == "error"
        assert line["error"] == "InvalidConfiguration"
        assert line["setting"] == "LOC_BACKEND"
        assert "LOC_BACKEND must be one of" in line["reason"]
        assert line["service"] == "loc"
    assert SECRET not in done.stdout + done.stderr


def test_a_cold_start_failing_after_the_settings_were_read_still_fails_the_invocation() -> None:
    done = run(
        """
        from loc_entrypoints.lambdas import collections_worker

        collections_worker.handler({"Records": []}, None)
        """,
        LOC_GROWTHBOOK_FEATURES_FILE="/nonexistent/features.json",
        LOC_JWT_SECRET=SECRET,
        LOC_LOG_LEVEL="WARNING",
    )
    assert done.returncode == 1  # Lambda reports the error: the traceback is its own line
    assert "InvalidConfiguration" in done.stderr.splitlines()[-1]
    (line,) = json_lines(done)
    assert line["event"] == "cold start failed"
    assert line["function"] == "collections_worker"
    assert line["error"] == "InvalidConfiguration"
    assert line["setting"] == "LOC_GROWTHBOOK_FEATURES_FILE"
    assert "/nonexistent/features.json cannot be read" in line["reason"]
    assert SECRET not in done.stdout + done.stderr
