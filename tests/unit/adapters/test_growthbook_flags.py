"""`GrowthBookFlags` passes the flags contract and evaluates per user; never the network."""

import json
import pathlib
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any

import pytest
from contracts.flags import FeatureFlagsContract, MakeFlags

from loc_adapters.growthbook import GrowthBookFlags
from loc_adapters.growthbook.flags import API_RETRY_AFTER_SECONDS
from loc_adapters.memory import StaticFeatureFlags
from loc_core.ports import FeatureFlags


def _payload(flags: Mapping[str, bool]) -> dict[str, Any]:
    return {"features": {name: {"defaultValue": on} for name, on in flags.items()}}


class TestStaticFeatureFlags(FeatureFlagsContract):
    @pytest.fixture
    def make_flags(self) -> MakeFlags:
        return lambda flags: StaticFeatureFlags(dict(flags))


class TestGrowthBookFlags(FeatureFlagsContract):
    @pytest.fixture
    def make_flags(self) -> MakeFlags:
        return lambda flags: GrowthBookFlags.of(_payload(flags))


class TestGrowthBookFlagsFromAFile(FeatureFlagsContract):
    @pytest.fixture
    def make_flags(self, tmp_path: pathlib.Path) -> MakeFlags:
        def make(flags: Mapping[str, bool]) -> FeatureFlags:
            path = tmp_path / "features.json"
            path.write_text(json.dumps(_payload(flags)), encoding="utf-8")
            return GrowthBookFlags.from_file(path)

        return make


def test_a_rule_on_the_user_id_turns_a_flag_on_for_that_user_only() -> None:
    flags = GrowthBookFlags.of(
        {
            "beta": {
                "defaultValue": False,
                "rules": [{"condition": {"id": "user-7"}, "force": True}],
            }
        }
    )
    assert flags.is_enabled("beta", default=False, user_id="user-7") is True
    assert flags.is_enabled("beta", default=False, user_id="user-8") is False
    assert flags.is_enabled("beta", default=False) is False


def test_a_bare_features_mapping_is_read_like_a_payload() -> None:
    flags = GrowthBookFlags.of({"beta": {"defaultValue": True}})
    assert flags.is_enabled("beta", default=False) is True


def test_a_flag_without_a_value_is_the_default() -> None:
    flags = GrowthBookFlags.of({"features": {"beta": {}}})
    assert flags.is_enabled("beta", default=True) is True
    assert flags.is_enabled("beta", default=False) is False


def test_a_failing_source_gives_the_default() -> None:
    def broken() -> Mapping[str, Any]:
        raise ConnectionError("growthbook is down")

    flags = GrowthBookFlags(broken)
    assert flags.is_enabled("beta", default=True) is True
    assert flags.is_enabled("beta", default=False, user_id="user-1") is False


def test_an_unreachable_api_gives_the_default_without_leaving_this_machine() -> None:
    flags = GrowthBookFlags.from_api("http://127.0.0.1:9", "sdk-test-key")
    started = time.monotonic()
    assert flags.is_enabled("beta", default=True, user_id="user-1") is True
    assert flags.is_enabled("beta", default=False) is False
    assert time.monotonic() - started < 10


def test_an_api_that_never_answers_gives_the_default_instead_of_holding_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A host that takes the connection and says nothing: the read times out, once.

    The SDK's client retried three times, and asked again on every evaluation, so each
    command waited four timeouts while the API hung. One fetch is tried; then flags take
    their defaults without asking for `API_RETRY_AFTER_SECONDS`.
    """
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        held: list[socket.socket] = []

        def hold() -> None:
            held.extend(server.accept()[0] for _ in range(8))  # each as it is accepted

        threading.Thread(target=hold, daemon=True).start()
        flags = GrowthBookFlags.from_api(
            f"http://127.0.0.1:{server.getsockname()[1]}", "sdk-test-key", timeout_seconds=0.25
        )

        def ask() -> list[bool]:
            answers: list[bool] = []
            asking = threading.Thread(
                target=lambda: answers.append(flags.is_enabled("rtp", default=True)), daemon=True
            )
            asking.start()
            asking.join(60)  # liveness, not speed: without a read timeout it never returns
            return answers

        assert ask() == [True]
        assert ask() == [True]
        assert len(held) == 1  # one connection: no retry, and no second fetch at once
        later = time.monotonic() + API_RETRY_AFTER_SECONDS + 1
        monkeypatch.setattr("time.monotonic", lambda: later)  # the pause read by the adapter
        assert ask() == [True]
        assert len(held) == 2  # asked again once the pause is over
        for connection in held:
            connection.close()
