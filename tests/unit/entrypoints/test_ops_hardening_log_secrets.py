"""The GrowthBook client key never reaches a log line, whoever configured logging and when.

The SDK (and urllib3 under it) may log the features URL, ``{host}/api/features/{key}``.
The settings register their secrets with the redactor as they are checked, so the CLI,
which configures logging before any command reads its settings, redacts it too; and the
adapter scrubs the key at the SDK's own loggers, for a library nobody configured logging for.
"""

from __future__ import annotations

import io
import logging

import pytest

from loc_adapters.growthbook import GrowthBookFlags
from loc_adapters.logs import configure_logging
from loc_entrypoints.bootstrap import Settings

HOST = "https://cdn.growthbook.example"


def test_logging_configured_before_the_settings_still_redacts_the_client_key() -> None:
    key = "sdk-cli0rder7Key"
    lines = io.StringIO()
    configure_logging(level="WARNING", stream=lines)  # what `loc` does before any command
    # Reading the settings is enough: nothing is built yet (no adapter filter in play).
    Settings.from_env({"LOC_GROWTHBOOK_API_HOST": HOST, "LOC_GROWTHBOOK_CLIENT_KEY": key})
    logging.getLogger("growthbook").error(
        "HTTP request failed: %s/api/features/%s timed out", HOST, key
    )
    written = lines.getvalue()
    assert "HTTP request failed" in written
    assert key not in written
    assert "[redacted]" in written


def test_a_library_that_never_configured_logging_gets_no_client_key_either(
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = "sdk-unconf1guredKey"
    GrowthBookFlags.from_api(HOST, key)
    with caplog.at_level(logging.WARNING):
        logging.getLogger("growthbook").warning(
            "Fetching features from %s/api/features/%s", HOST, key
        )
        logging.getLogger("urllib3.connectionpool").warning(
            "Retrying after connection broken: /api/features/%s", key
        )
    assert len(caplog.records) == 2
    assert key not in caplog.text
    assert caplog.text.count("[redacted]") == 2
