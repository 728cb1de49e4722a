"""Use cases: the original service's jobs, workers and handlers as functions over ports.

Each use case takes a command (a frozen attrs value) and the ports it needs as
keyword-only arguments, loads aggregates through a unit of work, calls the core, commits,
and only then publishes what the commit produced. Lambda handlers, the HTTP API, the CLI
and the simulation all drive these same functions.
"""
