"""Entrypoints: Lambda handlers, the HTTP API, the CLI and the portfolio simulation."""
