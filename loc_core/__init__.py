"""The pure core of `loc`: loans, lines of credit and their ledger, with no I/O.

Nothing here reads a clock, the environment, a network or a disk; services receive those
through the ports in `loc_core.ports`. The import-linter contract in pyproject.toml keeps
it that way.
"""
