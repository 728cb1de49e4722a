"""Structured logs: JSON lines with the request's context, and never a secret in them."""

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from structlog.testing import capture_logs

from loc_adapters.logs import LogTracer, Redact, SecretFilter, configure_logging, get_logger
from loc_core.errors import ExternalServiceError, Overpayment
from loc_core.ports import Tracer

API_KEY = "sk_live_abcdefghijklmnop"


@pytest.fixture
def configured() -> Iterator[io.StringIO]:
    """This process's logs configured into a buffer; the suite's own configuration after."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(level="DEBUG", stream=stream, secrets=[API_KEY])
    yield stream
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.contextvars.clear_contextvars()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_line_is_json_with_level_time_and_the_bound_context(configured: io.StringIO) -> None:
    structlog.contextvars.bind_contextvars(request_id="req-1")
    get_logger("loc.test").info("payment taken", amount_cents=5_000)
    (line,) = lines(configured)
    assert line["event"] == "payment taken"
    assert (line["level"], line["request_id"], line["amount_cents"]) == ("info", "req-1", 5_000)
    assert str(line["timestamp"]).endswith("Z")


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("api_key", API_KEY, "[redacted]"),
        ("account_token", "tok_123456", "[redacted]"),
        ("webhook_url", "https://hooks.slack.com/services/T/B/x", "[redacted]"),
        ("signature", "v1=deadbeef", "[redacted]"),
        ("Authorization", "Bearer abc", "[redacted]"),
        ("payengine_secret", "whsec", "[redacted]"),
        ("account_number", "000123456789", "...6789"),
        ("routing_number", "021000021", "...0021"),
    ],
)
def test_a_sensitive_field_never_shows_its_value(
    configured: io.StringIO, field: str, value: str, shown: str
) -> None:
    get_logger("loc.test").warning("careless", **{field: value})
    (line,) = lines(configured)
    assert line[field] == shown
    assert value not in configured.getvalue()


def test_secrets_and_account_numbers_inside_text_are_masked(configured: io.StringIO) -> None:
    get_logger("loc.test").error(
        f"PayEngine said: key {API_KEY} refused for account 4111111111111111",
        detail={"nested": [f"Bearer {API_KEY}x", "routing 021000021"]},
        amount_cents=123456789012,
    )
    text = configured.getvalue()
    assert API_KEY not in text
    assert "4111111111111111" not in text
    assert "021000021" not in text
    (line,) = lines(configured)
    assert "...1111" in str(line["event"])
    assert line["amount_cents"] == 123456789012  # numbers are data, not text


def test_standard_library_logs_go_through_the_same_redaction(configured: io.StringIO) -> None:
    logging.getLogger("botocore").warning("retrying with key %s", API_KEY)
    (line,) = lines(configured)
    assert line["logger"] == "botocore"
    assert API_KEY not in configured.getvalue()


def test_a_new_redactor_ignores_short_or_empty_secrets() -> None:
    redact = Redact()
    redact.add("", "abc", "long-enough-secret")
    assert redact.secrets == {"long-enough-secret"}
    assert redact(None, "info", {"event": "abc long-enough-secret"}) == {"event": "abc [redacted]"}


@pytest.mark.parametrize(
    "order", [pytest.param(o, id=i) for i, o in (("short-first", 1), ("long-first", -1))]
)
def test_a_secret_that_begins_another_leaves_no_tail_of_the_longer(order: int) -> None:
    """Two registered keys, one the start of the other: the longer is hidden whole."""
    keys = ["it-key-3c4d5e", "it-key-3c4d5e6f"][::order]
    redact = Redact()
    redact.add(*keys)
    line = redact(None, "warning", {"event": "refused it-key-3c4d5e6f, then it-key-3c4d5e"})
    assert line == {"event": "refused [redacted], then [redacted]"}
    record = logging.LogRecord(
        "sdk", logging.WARNING, __file__, 1, "GET ?key=%s", ("it-key-3c4d5e6f",), None
    )
    SecretFilter(*keys).filter(record)
    assert record.getMessage() == "GET ?key=[redacted]"


def spans_of(captured: list[dict[str, object]]) -> list[dict[str, object]]:
    return [line for line in captured if "outcome" in line]


def test_a_span_logs_its_outcome_with_one_correlation_id_for_everything_inside() -> None:
    tracer: Tracer = LogTracer(new_id=lambda: "corr-1")
    with (
        capture_logs(processors=[structlog.contextvars.merge_contextvars]) as captured,
        tracer.span("command", "MakePayment", user_id="user-7"),
    ):
        get_logger("loc.test").info("inside")
        with tracer.span("event", "PaymentMade", user_id="user-7"):
            pass
    inside, event, command = captured
    assert inside["correlation_id"] == event["correlation_id"] == command["correlation_id"]
    assert command["correlation_id"] == "corr-1"
    assert (command["command"], command["user_id"], command["outcome"]) == (
        "MakePayment",
        "user-7",
        "ok",
    )
    assert event["event"] == "event handled"
    assert isinstance(command["duration_ms"], float)
    assert structlog.contextvars.get_contextvars() == {}  # nothing leaks to the next request


def test_a_span_given_an_id_keeps_it_and_an_inner_one_records_its_own() -> None:
    tracer = LogTracer()
    with (
        capture_logs(processors=[structlog.contextvars.merge_contextvars]) as captured,
        tracer.span("message", "collect_installment", correlation_id="msg-9"),
        tracer.span("webhook", "completed", correlation_id="evt-1"),
    ):
        pass
    inner, outer = captured
    assert outer["correlation_id"] == inner["correlation_id"] == "msg-9"
    assert inner["webhook_id"] == "evt-1"


@pytest.mark.parametrize(
    ("error", "outcome", "level"),
    [
        (Overpayment("more than is owed"), "refused", "warning"),
        (ExternalServiceError("PayEngine timed out"), "failed", "error"),
        (RuntimeError("bug"), "failed", "error"),
    ],
)
def test_a_span_that_raises_logs_the_outcome_and_re_raises(
    error: Exception, outcome: str, level: str
) -> None:
    tracer = LogTracer()
    merged = [structlog.contextvars.merge_contextvars]
    with (
        capture_logs(merged) as captured,
        pytest.raises(type(error)),
        tracer.span("command", "Pay"),
    ):
        raise error
    (line,) = captured
    assert (line["outcome"], line["log_level"], line["error"]) == (
        outcome,
        level,
        type(error).__name__,
    )
    assert (line["command"], line["reason"]) == ("Pay", str(error))


def test_a_library_that_sets_its_own_logger_to_info_writes_nothing_below_the_level(
    configured: io.StringIO,
) -> None:
    """Dask sets `distributed` to INFO at import: `loc simulate --cluster local` (WARNING)
    wrote 24 info lines of it to standard error."""
    configure_logging(level="WARNING", stream=configured)
    chatty = logging.getLogger("distributed.scheduler")
    chatty.setLevel(logging.INFO)
    try:
        chatty.info("State start")
        chatty.warning("worker lost")
    finally:
        chatty.setLevel(logging.NOTSET)
    assert [line["event"] for line in lines(configured)] == ["worker lost"]
