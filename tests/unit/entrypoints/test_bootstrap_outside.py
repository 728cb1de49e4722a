"""The bootstrap builds PayEngine, Iterable and Slack from their settings (none is called)."""

import datetime as dt

import pytest

from loc_adapters.iterable import IterableNotifier
from loc_adapters.iterable.contract import DEFAULT_BASE_URL
from loc_adapters.memory import ManualClock, RecordingAlerter, RecordingNotifier, SimulatedRails
from loc_adapters.payengine import PayEngineRails, WebhookVerifier
from loc_adapters.slack import SlackAlerter
from loc_core.errors import InvalidConfiguration
from loc_core.ports import Alerter, Clock, Notifier, PaymentRails
from loc_entrypoints.bootstrap import ITERABLE_BASE_URL, Settings, bootstrap

SECRETS = {
    "LOC_PAYENGINE_API_KEY": "pe-key-5f1e2d",
    "LOC_PAYENGINE_WEBHOOK_SECRET": "pe-whsec-9a8b7c",
    "LOC_ITERABLE_API_KEY": "it-key-3c4d5e",
    "LOC_SLACK_WEBHOOK_URL": "https://hooks.slack.test/services/T0/B0/sl-secret-1a2b",
}
EVERYTHING = {
    **SECRETS,
    "LOC_PAYENGINE_BASE_URL": "http://127.0.0.1:1",
    "LOC_PAYENGINE_TIMEOUT": "8",
    "LOC_ITERABLE_BASE_URL": "https://api.eu.iterable.com",
    "LOC_ITERABLE_TIMEOUT_SECONDS": "7",
    "LOC_SLACK_INTERVAL_SECONDS": "2",
}
CLOCK = ManualClock(dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC))


def test_unset_outside_services_keep_their_in_memory_stand_ins() -> None:
    bus = bootstrap(Settings.from_env({}), overrides={Clock: CLOCK})
    assert Settings().outside_services() == frozenset()
    assert isinstance(bus.get(PaymentRails), SimulatedRails)
    assert isinstance(bus.get(Notifier), RecordingNotifier)
    assert isinstance(bus.get(Alerter), RecordingAlerter)


def test_every_outside_setting_builds_its_real_adapter_under_its_port() -> None:
    settings = Settings.from_env(EVERYTHING)
    bus = bootstrap(settings, overrides={Clock: CLOCK})

    rails = bus.get(PaymentRails)
    assert isinstance(rails, PayEngineRails)
    assert rails.timeout == dt.timedelta(seconds=8)
    assert str(rails.client.base_url) == "http://127.0.0.1:1"
    assert rails.client.headers["Authorization"] == "Bearer pe-key-5f1e2d"
    verifier = bus.get(WebhookVerifier)
    assert verifier.secret == b"pe-whsec-9a8b7c"
    assert verifier.clock is CLOCK

    notifier = bus.get(Notifier)
    assert isinstance(notifier, IterableNotifier)
    assert notifier.timeout == dt.timedelta(seconds=7)
    assert str(notifier.client.base_url) == "https://api.eu.iterable.com"
    assert notifier.client.headers["Api-Key"] == "it-key-3c4d5e"

    alerter = bus.get(Alerter)
    assert isinstance(alerter, SlackAlerter)
    assert alerter.webhook_url == SECRETS["LOC_SLACK_WEBHOOK_URL"]
    assert alerter.interval == dt.timedelta(seconds=2)
    assert alerter.clock is CLOCK


def test_each_service_is_wired_on_its_own() -> None:
    bus = bootstrap(Settings.from_env({"LOC_ITERABLE_API_KEY": "k"}), overrides={Clock: CLOCK})
    assert isinstance(bus.get(Notifier), IterableNotifier)
    assert isinstance(bus.get(PaymentRails), SimulatedRails)
    assert isinstance(bus.get(Alerter), RecordingAlerter)
    notifier = bus.get(Notifier)
    assert isinstance(notifier, IterableNotifier)
    assert str(notifier.client.base_url) == ITERABLE_BASE_URL == DEFAULT_BASE_URL


def test_an_override_wins_over_the_settings() -> None:
    alerter = RecordingAlerter()
    bus = bootstrap(Settings.from_env(EVERYTHING), overrides={Clock: CLOCK, Alerter: alerter})
    assert bus.get(Alerter) is alerter


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"LOC_PAYENGINE_BASE_URL": "http://127.0.0.1:1"},
            "LOC_PAYENGINE_API_KEY is required with LOC_PAYENGINE_BASE_URL",
        ),
        (
            {"LOC_PAYENGINE_BASE_URL": "http://x", "LOC_PAYENGINE_API_KEY": "k"},
            "LOC_PAYENGINE_WEBHOOK_SECRET is required with LOC_PAYENGINE_BASE_URL",
        ),
        (
            {"LOC_PAYENGINE_API_KEY": "k", "LOC_PAYENGINE_WEBHOOK_SECRET": "s"},
            "LOC_PAYENGINE_BASE_URL is required with LOC_PAYENGINE_API_KEY",
        ),
        (
            {"LOC_PAYENGINE_TIMEOUT": "5"},
            "LOC_PAYENGINE_BASE_URL is required with LOC_PAYENGINE_TIMEOUT",
        ),
        ({"LOC_PAYENGINE_TIMEOUT": "0"}, r"LOC_PAYENGINE_TIMEOUT \(payengine_timeout\) must be"),
        (
            {"LOC_ITERABLE_BASE_URL": "https://api.eu.iterable.com"},
            "LOC_ITERABLE_API_KEY is required with LOC_ITERABLE_BASE_URL",
        ),
        (
            {"LOC_SLACK_INTERVAL_SECONDS": "5"},
            "LOC_SLACK_WEBHOOK_URL is required with LOC_SLACK_INTERVAL_SECONDS",
        ),
        ({"LOC_SLACK_WEBHOOK_URL": "hooks.slack.test/x"}, "LOC_SLACK_WEBHOOK_URL must be an http"),
        ({"LOC_SLACK_WEBHOOK": "https://x"}, "unknown setting LOC_SLACK_WEBHOOK"),
    ],
)
def test_a_half_configured_service_is_refused_naming_the_variable(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidConfiguration, match=message):
        Settings.from_env(environ)


def test_the_bootstrap_refuses_half_settings_built_in_code() -> None:
    with pytest.raises(InvalidConfiguration, match="LOC_PAYENGINE_API_KEY is required"):
        bootstrap(Settings(payengine_base_url="http://127.0.0.1:1"))


def test_no_secret_is_in_the_repr_of_the_settings_or_an_error() -> None:
    settings = Settings.from_env(EVERYTHING)
    messages = [repr(settings), str(settings)]
    for name, value in SECRETS.items():
        half = {name: value}  # each refused: a missing partner or a bad URL
        if name == "LOC_SLACK_WEBHOOK_URL":
            half = {name: "ftp://" + value.removeprefix("https://")}
        if name == "LOC_ITERABLE_API_KEY":
            half["LOC_ITERABLE_BASE_URL"] = "api.iterable.com"
        with pytest.raises(InvalidConfiguration) as refused:
            Settings.from_env(half)
        messages.append(str(refused.value))
    for value in SECRETS.values():
        assert all(value not in message for message in messages)
    assert "127.0.0.1:1" in repr(settings)  # what is not secret stays visible
