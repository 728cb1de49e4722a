"""The bootstrap's logs, tracer, metrics and end-of-work flush, from settings."""

import datetime as dt
import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from loc_adapters.logs import LogTracer
from loc_adapters.memory import ManualClock
from loc_core.errors import InvalidConfiguration
from loc_core.ports import Alert, Alerter, Clock, Metrics, PaymentRails, Severity, Tracer, Users
from loc_core.services.messagebus import NoMetrics
from loc_entrypoints.bootstrap import Settings, bootstrap, configure_observability, finish

pytest.importorskip("httpx", reason="the outside extras are not installed")
pytest.importorskip("aws_lambda_powertools", reason="the lambda extra is not installed")

import httpx

from loc_adapters.emf import EmfMetrics
from loc_adapters.payengine import PayEngineRails
from loc_adapters.people import HttpUsers
from loc_adapters.slack import SlackAlerter

CLOCK = ManualClock(dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC))


def test_the_bus_traces_to_the_logs_and_counts_nothing_by_default() -> None:
    bus = bootstrap(Settings.from_env({}), overrides={Clock: CLOCK})
    assert isinstance(bus.get(Tracer), LogTracer)
    assert isinstance(bus.get(Metrics), NoMetrics)


def test_a_metrics_namespace_makes_emf_metrics_for_the_service() -> None:
    settings = Settings.from_env(
        {"LOC_METRICS_NAMESPACE": "Loc/Prod", "LOC_SERVICE_NAME": "loc-collections"}
    )
    metrics = bootstrap(settings, overrides={Clock: CLOCK}).get(Metrics)
    assert isinstance(metrics, EmfMetrics)
    assert (metrics.namespace, metrics.service) == ("Loc/Prod", "loc-collections")


def test_the_people_services_get_their_keys_as_bearer_headers_and_payengine_their_tokens() -> None:
    settings = Settings.from_env(
        {
            "LOC_USERS_BASE_URL": "http://users.internal",
            "LOC_USERS_API_KEY": "users-key-1a2b3c",
            "LOC_UNDERWRITING_BASE_URL": "http://underwriting.internal",
            "LOC_UNDERWRITING_API_KEY": "uw-key-4d5e6f",
            "LOC_PAYENGINE_BASE_URL": "http://127.0.0.1:1",
            "LOC_PAYENGINE_API_KEY": "pe-key-7a8b9c",
            "LOC_PAYENGINE_WEBHOOK_SECRET": "pe-whsec-0d1e2f",
        }
    )
    bus = bootstrap(settings, overrides={Clock: CLOCK})
    users = bus.get(Users)
    assert isinstance(users, HttpUsers)
    assert users.client.headers["Authorization"] == "Bearer users-key-1a2b3c"
    rails = bus.get(PaymentRails)
    assert isinstance(rails, PayEngineRails)
    assert rails.accounts is users  # each transfer names the borrower's account token
    for secret in ("users-key-1a2b3c", "uw-key-4d5e6f", "pe-key-7a8b9c", "pe-whsec-0d1e2f"):
        assert secret in settings.secrets()
        assert secret not in repr(settings)


def test_without_the_user_service_payengine_uses_the_account_on_file() -> None:
    settings = Settings.from_env(
        {
            "LOC_PAYENGINE_BASE_URL": "http://127.0.0.1:1",
            "LOC_PAYENGINE_API_KEY": "pe-key-7a8b9c",
            "LOC_PAYENGINE_WEBHOOK_SECRET": "pe-whsec-0d1e2f",
        }
    )
    rails = bootstrap(settings, overrides={Clock: CLOCK}).get(PaymentRails)
    assert isinstance(rails, PayEngineRails)
    assert rails.accounts is None


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"LOC_USERS_API_KEY": "users-key-1a2b3c"}, "LOC_USERS_BASE_URL"),
        ({"LOC_UNDERWRITING_API_KEY": "uw-key-4d5e6f"}, "LOC_UNDERWRITING_BASE_URL"),
        ({"LOC_LOG_LEVEL": "LOUD"}, "LOC_LOG_LEVEL"),
    ],
)
def test_a_key_without_its_service_or_an_unknown_level_is_refused(
    environ: dict[str, str], named: str
) -> None:
    with pytest.raises(InvalidConfiguration, match=named) as raised:
        Settings.from_env(environ)
    for value in environ.values():
        if "key" in value:
            assert value not in str(raised.value)


@pytest.fixture
def restored_logging() -> Iterator[None]:
    saved, root = structlog.get_config(), logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.contextvars.clear_contextvars()


def test_configured_observability_writes_json_at_the_level_and_hides_the_secrets(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    del restored_logging
    settings = Settings(log_level="WARNING", iterable_api_key="it-key-3c4d5e6f", service_name="svc")
    configure_observability(settings)
    log = structlog.get_logger("loc.test")
    log.info("quiet")
    log.warning("Iterable refused it-key-3c4d5e6f")
    (line,) = [json.loads(text) for text in capsys.readouterr().err.splitlines()]
    assert line["event"] == "Iterable refused [redacted]"
    assert (line["level"], line["service"]) == ("warning", "svc")


def test_finish_posts_held_alerts_and_writes_buffered_metrics() -> None:
    posted: list[object] = []

    def slack(request: httpx.Request) -> httpx.Response:
        posted.append(json.loads(request.content))
        return httpx.Response(200, text="ok")

    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        CLOCK.advance(dt.timedelta(seconds=seconds))

    client = httpx.Client(transport=httpx.MockTransport(slack))
    alerter = SlackAlerter(client, "https://hooks.slack.test/x", CLOCK, sleep=sleep)
    stream = io.StringIO()
    metrics = EmfMetrics("Loc/Test", stream=stream)
    bus = bootstrap(overrides={Clock: CLOCK, Alerter: alerter, Metrics: metrics})
    alerter.alert(Alert(Severity.WARNING, "first", {}))
    alerter.alert(Alert(Severity.CRITICAL, "held by the rate limit", {}))
    metrics.increment("loc.test")
    finish(bus)
    assert len(posted) == 2
    assert alerter.held == 0
    assert slept == [1.0]
    assert json.loads(stream.getvalue())["loc.test"] == [1.0]
