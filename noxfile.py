"""Tasks: `nox` runs them all (tests, lint, typing); `nox -s NAME` runs one."""

from __future__ import annotations

import nox

nox.needs_version = ">=2025.2"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "typing"]
nox.options.reuse_existing_virtualenvs = True

PYPROJECT = nox.project.load_toml("pyproject.toml")
EXTRAS = (
    ".[testing,aws,cli,report,payengine,iterable,slack,people,flags,lambda,http,documents,cluster]"
)
"""The library with every extra, as the tests and the type checker need it."""
PARALLEL = ("--numprocesses", "auto", "--dist", "worksteal")
"""pytest-xdist: a worker per core; each starts on its share and takes tests from the other
when it runs out, so a slow test at the end of one share does not hold the run.

Not ``loadfile`` or ``loadscope``: those group items by node id, and schemathesis gives
every operation of a test function the same node id, so all but one would be dropped.
``nox -s tests -- -n 0`` runs everything in one process.
"""


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite, then prove the core's import boundaries."""
    session.install("-e", EXTRAS, *nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("pytest", *PARALLEL, *session.posargs)
    session.run("lint-imports")


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff: lint and formatting."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict over the library, the tests and this file."""
    session.install("-e", EXTRAS, *nox.project.dependency_groups(PYPROJECT, "typing"))
    session.install("nox")
    session.run("mypy", "--strict")
