"""`FeatureFlags` through the ``growthbook`` SDK, evaluated locally from a features payload.

The payload comes from a features dict, a local JSON file (the SDK payload,
``{"features": {...}}``, or the bare features mapping), or the GrowthBook API
(``GET {api_host}/api/features/{client_key}``, fetched and cached by the SDK's feature
repository). Each evaluation sets the attribute ``id`` to the user id, so rules and
percentage rollouts keyed on ``id`` split by borrower. Whatever goes wrong (a flag the
payload does not define, an API that cannot be reached, a payload the SDK cannot read)
gives the caller's `default`: a flag never stops a command.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from growthbook import GrowthBook, feature_repo

__all__ = ["API_CACHE_SECONDS", "GrowthBookFlags"]

API_CACHE_SECONDS = 60
"""How long a payload fetched from the GrowthBook API is reused before it is fetched again."""

Features = Mapping[str, Any]
"""GrowthBook feature definitions by flag name (``{"flag": {"defaultValue": true}}``)."""


def _features(payload: Mapping[str, Any] | None) -> Features:
    """The feature definitions of an SDK payload or of a bare features mapping."""
    if payload is None:
        return {}
    features = payload.get("features", payload)
    return features if isinstance(features, Mapping) else {}


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
            json.JSONDecodeError: it is not JSON.
        """
        return cls.of(json.loads(pathlib.Path(path).read_text(encoding="utf-8")))

    @classmethod
    def from_api(
        cls, api_host: str, client_key: str, *, cache_seconds: int = API_CACHE_SECONDS
    ) -> GrowthBookFlags:
        """Flags from the GrowthBook API, fetched on first use and cached `cache_seconds`.

        Nothing is fetched here; an unreachable API makes every flag its default.
        """

        def load() -> Features:
            return _features(feature_repo.load_features(api_host, client_key, ttl=cache_seconds))

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
