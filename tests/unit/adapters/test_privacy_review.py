"""Privacy review: a borrower's personal data reaches no log line, Slack alert or error
text it need not (docs/configuration.md, *Personal data*).

The library holds little of it (a user id, the name documents print, the bank account's
last four digits); these tests follow each piece to where a careless line could copy it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from typing import Any

import pytest

from loc_adapters.logs import configure_logging
from loc_core.errors import ExternalServiceError
from loc_core.events import AuditValue
from loc_core.ports import Alert, Severity

ACCOUNT_NUMBER = "000123456789"
EMAIL = "jane.doe@example.com"


@pytest.fixture
def logged() -> io.StringIO:
    """The process's logs, at INFO as production writes them, into a buffer (the root
    conftest restores the suite's configuration after the test)."""
    stream = io.StringIO()
    configure_logging(level="INFO", stream=stream)
    return stream


def shown(stream: io.StringIO) -> str:
    """Every line's text as a reader of the logs sees it (JSON escapes decoded)."""
    return "\n".join(
        json.dumps(json.loads(line), ensure_ascii=False) for line in stream.getvalue().splitlines()
    )


def test_a_document_for_a_name_its_font_lacks_logs_no_letter_of_the_name(
    logged: io.StringIO,
) -> None:
    """fpdf2 names each glyph its font lacks in a warning: a CJK name, letter by letter."""
    pytest.importorskip("fpdf", reason="the documents extra is not installed")
    from loc_adapters.documents import PdfRenderer  # noqa: PLC0415 - after the skip
    from loc_adapters.documents.samples import sample_loan_disclosure  # noqa: PLC0415 - same

    PdfRenderer().agreement(sample_loan_disclosure(), borrower_name="山田 太郎")

    text = shown(logged)
    assert not any(letter in text for letter in "山田太郎"), text
    assert "5c71" not in text  # nor its escape
    (warning,) = [line for line in text.splitlines() if "glyph" in line]
    assert "4 glyphs" in warning  # operations still learn the document lacks some


def test_rendering_a_document_at_info_writes_no_font_subsetting_lines(
    logged: io.StringIO,
) -> None:
    """fontTools lists the document's glyphs at INFO: dozens of lines of its letters."""
    pytest.importorskip("fpdf", reason="the documents extra is not installed")
    from loc_adapters.documents import PdfRenderer  # noqa: PLC0415 - after the skip
    from loc_adapters.documents.samples import sample_loan_disclosure  # noqa: PLC0415 - same

    PdfRenderer().agreement(sample_loan_disclosure(), borrower_name="Jane Doe")

    assert "fontTools" not in logged.getvalue()
    assert "Glyph names" not in logged.getvalue()


def test_debug_logs_show_no_item_the_store_answered() -> None:
    """``LOC_LOG_LEVEL=DEBUG`` shows the library's own lines, not botocore's wire dump.

    botocore logs every answer's body at DEBUG (``botocore.parsers``: "Response body"),
    so a DynamoDB read would print the items, a borrower's bank digits among them.
    """
    stream = io.StringIO()
    configure_logging(level="DEBUG", stream=stream)
    answer = b'{"Item": {"PK": {"S": "LOAN#l-1"}, "loc_account_last_four": {"S": "4321"}}}'
    logging.getLogger("botocore.parsers").debug("Response body:\n%r", answer)
    logging.getLogger("urllib3.connectionpool").debug("https://dynamodb:443 POST / 200 %r", answer)
    logging.getLogger("loc.privacy").debug("the library's own debug line")

    assert "4321" not in stream.getvalue()
    assert "the library's own debug line" in stream.getvalue()


@pytest.mark.parametrize(
    "last_four",
    [
        pytest.param(ACCOUNT_NUMBER, id="a-whole-account-number"),
        pytest.param("12345678", id="eight-digits"),
        pytest.param("12a4", id="not-digits"),
    ],
)
def test_a_user_service_answer_with_more_than_the_last_four_is_refused_without_echoing_it(
    last_four: str,
) -> None:
    from loc_adapters.people import contract  # noqa: PLC0415 - the people extra's module

    body = {"user_id": "u-1", "active": True, "account_last_four": last_four}
    with pytest.raises(ExternalServiceError, match="account_last_four") as raised:
        contract.user(body)
    assert last_four not in str(raised.value)


def test_a_user_service_answer_of_the_last_four_or_none_is_read() -> None:
    from loc_adapters.people import contract  # noqa: PLC0415 - same

    read = contract.user({"user_id": "u-1", "active": True, "account_last_four": "6789"})
    assert read.account_last_four == "6789"
    assert contract.user({"user_id": "u-2", "active": True}).account_last_four == ""


def test_a_mistyped_last_four_is_refused_without_echoing_it() -> None:
    from loc_adapters.people import contract  # noqa: PLC0415 - same

    body: dict[str, Any] = {"user_id": "u-1", "active": True, "account_last_four": 123456789012}
    with pytest.raises(ExternalServiceError, match="account_last_four") as raised:
        contract.user(body)
    assert "123456789012" not in str(raised.value)


def test_a_slack_alert_shows_no_account_number_or_email_an_error_text_carried() -> None:
    """An outside service's own words (a decline, a refusal) reach an alert's details."""
    httpx = pytest.importorskip("httpx", reason="the slack extra is not installed")
    from loc_adapters.memory import ManualClock  # noqa: PLC0415 - same
    from loc_adapters.slack import SlackAlerter  # noqa: PLC0415 - after the skip

    posted: list[str] = []

    def webhook(request: Any) -> Any:
        posted.append(request.content.decode())
        return httpx.Response(200, text="ok")

    clock = ManualClock(dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC))
    alerter = SlackAlerter(
        httpx.Client(transport=httpx.MockTransport(webhook)),
        "https://hooks.slack.test/services/T0/B0/privacy",
        clock,
    )
    error = f"RailDeclined: account {ACCOUNT_NUMBER} closed; owner {EMAIL}"
    details: dict[str, AuditValue] = {
        "user_id": "u-1",
        "loan_id": "l-1",
        "amount": 5_000,
        "error": error,
    }
    alerter.alert(Alert(Severity.CRITICAL, f"refund to {EMAIL} failed", details))

    (body,) = posted
    assert ACCOUNT_NUMBER not in body
    assert EMAIL not in body
    assert "...6789" in body  # the last four still tell operations which account
    message = json.loads(body)
    assert "u-1" in message["text"]
    assert "l-1" in message["text"]
    assert "5000" in message["text"]


def test_a_log_line_shows_no_email_an_error_text_carried() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", stream=stream)
    logging.getLogger("outside").warning("Iterable refused: no profile for %s", EMAIL)
    assert EMAIL not in stream.getvalue()
    assert "Iterable refused" in stream.getvalue()
