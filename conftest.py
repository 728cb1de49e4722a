"""Log lines of the tests and the doctests (README, docs/) go into the null device.

The bootstrap's bus logs every command (`LogTracer`). Rendered as JSON into the null
device here, the lines are still produced, so a processor that breaks is still caught,
and `structlog.testing.capture_logs` sees every level; a test that checks the rendered
output configures its own stream. Whatever a test configures (the CLI configures logging
when it runs in-process), the next test starts from this configuration again.
"""

import atexit
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

_NULL = Path(os.devnull).open("w")  # noqa: SIM115 - open for the whole session
atexit.register(_NULL.close)

structlog.configure(
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.processors.format_exc_info,
        structlog.processors.JSONRenderer(),
    ],
    wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
    logger_factory=structlog.PrintLoggerFactory(_NULL),
    cache_logger_on_first_use=False,
)


@pytest.fixture(autouse=True)
def _logging_as_configured_here() -> Iterator[None]:
    """Restore this file's log configuration, and an empty context, after every test."""
    saved = structlog.get_config()
    processors = list(saved["processors"])
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.configure(**{**saved, "processors": processors})
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.contextvars.clear_contextvars()
