"""`FeatureFlags` through the ``growthbook`` SDK, evaluated locally from a features payload.

The payload comes from a features dict, a local JSON file (the SDK payload,
``{"features": {...}}``, or the bare features mapping), or the GrowthBook API
(``GET {api_host}/api/features/{client_key}``, fetched and cached by the SDK's feature
repository). Each evaluation sets the attribute ``id`` to the user id, so rules and
percentage rollouts keyed on ``id`` split by borrower. Whatever goes wrong at evaluation
(a flag the payload does not define, an API that cannot be reached, a payload the SDK
cannot read) gives the caller's `default`: a flag never stops a command. A local file is
the exception, as it is read once when a deployment starts: one whose shape is not a
features payload is refused then, instead of leaving every flag at its default.
"""

from __future__ import annotations

import json
import logging
import pathlib
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from growthbook import GrowthBook, feature_repo
from urllib3 import PoolManager, Timeout

from loc_adapters.logs import SecretFilter
from loc_core.errors import InvalidConfiguration

__all__ = ["API_CACHE_SECONDS", "API_RETRY_AFTER_SECONDS", "API_TIMEOUT_SECONDS", "GrowthBookFlags"]

API_CACHE_SECONDS = 60
"""How long a payload fetched from the GrowthBook API is reused before it is fetched again."""
API_TIMEOUT_SECONDS = 2
"""How long the GrowthBook API may take to connect, and to send each part of its answer."""
API_RETRY_AFTER_SECONDS = 30
"""After a fetch that failed, how long flags take their defaults without asking again: a
hanging API costs one command one timeout, not every command its own."""

_URL_LOGGERS = (
    "growthbook",
    "growthbook.core",
    "growthbook.growthbook_client",
    "urllib3.connectionpool",
)
"""The loggers that may print the features URL (a record is filtered by its own logger
only, not by the parents it propagates to)."""
_SCRUB = SecretFilter()
"""The filter on those loggers: every client key `GrowthBookFlags.from_api` was given."""

Features = Mapping[str, Any]
"""GrowthBook feature definitions by flag name (``{"flag": {"defaultValue": true}}``)."""


def _features(payload: Mapping[str, Any] | None) -> Features:
    """The feature definitions of an SDK payload or of a bare features mapping."""
    if payload is None:
        return {}
    features = payload.get("features", payload)
    return features if isinstance(features, Mapping) else {}


def _shaped(payload: object) -> Features:
    """The feature definitions of a file's payload, checked to have the SDK's shape.

    An object; its ``features`` (when it has them: the SDK payload) or itself (the bare
    mapping) maps each flag to an object whose ``rules``, when given, are objects with
    an object ``condition`` when they have one.

    Raises:
        InvalidConfiguration: naming where in the payload the shape breaks.
    """
    if not isinstance(payload, dict):
        raise InvalidConfiguration(f"the payload must be a JSON object, got {_kind(payload)}")
    where, features = ("features", payload["features"]) if "features" in payload else ("", payload)
    if not isinstance(features, dict):
        raise InvalidConfiguration(f"{where} must be an object of flags, got {_kind(features)}")
    for flag, feature in features.items():
        at = f"{where}.{flag}".lstrip(".")
        if not isinstance(feature, dict):
            raise InvalidConfiguration(f"{at} must be a feature object, got {_kind(feature)}")
        rules = feature.get("rules", [])
        if not isinstance(rules, list):
            raise InvalidConfiguration(f"{at}.rules must be a list, got {_kind(rules)}")
        for number, rule in enumerate(rules):
            if not isinstance(rule, dict):
                raise InvalidConfiguration(
                    f"{at}.rules[{number}] must be a rule object, got {_kind(rule)}"
                )
            if not isinstance(rule.get("condition", {}), dict):
                raise InvalidConfiguration(
                    f"{at}.rules[{number}].condition must be an object,"
                    f" got {_kind(rule['condition'])}"
                )
    return features


def _kind(value: object) -> str:
    """How JSON names the kind of `value`."""
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    return kinds.get(type(value), "null" if value is None else "a number")


@attrs.frozen
class GrowthBookFlags:
    """`FeatureFlags` evaluated by the GrowthBook SDK; unknown or unreachable: the default."""

    load: Callable[[], Features] = attrs.field(repr=False)
    """Returns the current feature definitions (read once per evaluation)."""

    @classmethod
    def of(cls, features: Features) -> GrowthBookFlags:
        """Flags from a fixed features mapping or SDK payload (tests, a baked-in file)."""
        fixed = _features(features)
        return cls(lambda: fixed)

    @classmethod
    def from_file(cls, path: str | pathlib.Path) -> GrowthBookFlags:
        """Flags from a local JSON features file, read once now.

        Raises:
            OSError: the file cannot be read.
            ValueError: it is not UTF-8 JSON (`json.JSONDecodeError`, `UnicodeDecodeError`).
            InvalidConfiguration: it is JSON but not a features payload (an array, a flag
                that is not an object, ...), naming where.
        """
        features = _shaped(json.loads(pathlib.Path(path).read_text(encoding="utf-8")))
        return cls(lambda: features)

    @classmethod
    def from_api(
        cls,
        api_host: str,
        client_key: str,
        *,
        cache_seconds: int = API_CACHE_SECONDS,
        timeout_seconds: float = API_TIMEOUT_SECONDS,
    ) -> GrowthBookFlags:
        """Flags from the GrowthBook API, fetched on first use and cached `cache_seconds`.

        Nothing is fetched here; an unreachable API makes every flag its default. The SDK's
        shared client waits at most `timeout_seconds` to connect and for each read (it
        sets none of its own: an API that never answered held a draw for good).
        """
        # The SDK's shared repository fetches through `http`, a pool it builds once with the
        # timeout it first had; ours waits `timeout_seconds` once (urllib3's default three
        # retries made every fetch wait four times as long).
        feature_repo.http = PoolManager(
            timeout=Timeout(connect=timeout_seconds, read=timeout_seconds), retries=False
        )
        # The SDK and urllib3 log the features URL, which carries the client key: scrubbed
        # at the loggers themselves, so it holds whoever configured logging, or nobody.
        _SCRUB.add(client_key)
        for name in _URL_LOGGERS:
            logging.getLogger(name).addFilter(_SCRUB)  # once: the same filter is not added twice
        failed_at: list[float] = []

        def load() -> Features:
            if failed_at and time.monotonic() - failed_at[-1] < API_RETRY_AFTER_SECONDS:
                return {}  # the API failed a moment ago: every flag its default, no wait
            payload = feature_repo.load_features(api_host, client_key, ttl=cache_seconds)
            if payload is None:  # the SDK's answer to an API it could not read
                failed_at[:] = [time.monotonic()]
            return _features(payload)

        return cls(load)

    def is_enabled(self, flag: str, *, default: bool, user_id: str | None = None) -> bool:
        """Whether `flag` is on for `user_id`; `default` when unknown or unavailable."""
        try:
            features = dict(self.load())
            if flag not in features:
                return default
            attributes = {} if user_id is None else {"id": user_id}
            book = GrowthBook(features=features, attributes=attributes)
            try:
                result = book.eval_feature(flag)
            finally:
                book.destroy()
        except Exception:  # noqa: BLE001 - a flag failure of any kind falls back to the default
            return default
        if result.source == "unknownFeature" or result.value is None:
            return default
        return bool(result.on)
