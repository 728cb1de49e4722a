"""PayEngine webhooks: verified (HMAC-SHA256, constant-time, replay window), then settled.

A webhook becomes a `SettlementEvent` only after its signature over
``<timestamp>.<raw body>`` matches the shared secret and its timestamp is within the
tolerance window; anything else is a `WebhookRejected` and never an event.
"""

from __future__ import annotations

import collections
import datetime as dt
import hmac
import json
from collections.abc import Mapping
from typing import Any

import attrs

from loc_adapters.logs import describe_unreadable, get_logger, problem_of
from loc_adapters.payengine import contract
from loc_core.errors import InvalidConfiguration, InvalidRequest, WebhookRejected
from loc_core.ports import Alert, Alerter, Clock, SettlementEvent, Severity, Tracer
from loc_core.services.commands import Settled, SettleTransfer
from loc_core.services.messagebus import MessageBus

__all__ = ["DEFAULT_TOLERANCE", "WebhookVerifier", "settle_webhook"]

DEFAULT_TOLERANCE = dt.timedelta(minutes=5)
"""How far a webhook's timestamp may be from now before it is refused as a replay."""

_log = get_logger(__name__)


def _a_secret(_verifier: object, _attribute: object, secret: bytes) -> None:
    """Refuse an empty secret: an HMAC under it is one anybody can compute."""
    if not secret:
        raise InvalidConfiguration(
            "the PayEngine webhook secret is empty: anybody could sign a webhook",
            key="LOC_PAYENGINE_WEBHOOK_SECRET",
        )


def _one_of_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose names are unique; a name given twice is refused.

    A signed body must mean one thing: with a name twice, a reader that keeps the first
    (the receiving endpoint choosing the stream's partition) and this one, which would
    keep the last, would each act on another transfer under the same signature.
    """
    parsed = dict(pairs)
    if len(parsed) != len(pairs):
        counted = collections.Counter(
            name for name, _ in pairs
        )  # linear: a signed body may be large
        twice = sorted(name for name, count in counted.items() if count > 1)
        raise ValueError(f"a name given twice in one object: {', '.join(twice)}")
    return parsed


@attrs.frozen
class WebhookVerifier:
    """Checks a webhook's signature and age with the shared secret, then parses it."""

    secret: bytes = attrs.field(repr=False, validator=_a_secret)
    clock: Clock
    tolerance: dt.timedelta = DEFAULT_TOLERANCE

    def verify(self, headers: Mapping[str, str], body: bytes) -> SettlementEvent:
        """The settlement event a genuine, fresh webhook reports.

        `headers` are matched without regard to case; `body` is the raw bytes received.

        Raises:
            WebhookRejected: a missing or wrong signature (``key="signature"``), a
                timestamp outside the window (``"timestamp"``), a body not of the
                contract's shape, a name given twice in one object included
                (``"body"``), or a genuine event whose type moves money the other way
                than the transfer its key names (``"direction"``).
        """
        lowered = {name.lower(): value for name, value in headers.items()}
        timestamp = lowered.get(contract.HEADER_TIMESTAMP.lower(), "")
        signature = lowered.get(contract.HEADER_SIGNATURE.lower(), "")
        try:
            sent_at = dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise WebhookRejected("webhook without a valid timestamp", key="timestamp") from exc
        _, expected = contract.sign(self.secret, sent_at, body)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            raise WebhookRejected("webhook signature does not match", key="signature")
        if abs(self.clock.now() - sent_at) > self.tolerance:
            raise WebhookRejected("webhook timestamp outside the tolerance", key="timestamp")
        try:
            parsed = json.loads(body, object_pairs_hook=_one_of_each)
            return contract.event_from(parsed)
        except contract.DirectionMismatch as exc:
            raise WebhookRejected(
                f"genuine webhook about another direction: {exc}", key="direction"
            ) from exc
        except (
            KeyError,
            TypeError,
            ValueError,
            InvalidRequest,
            OverflowError,
            RecursionError,
        ) as exc:
            # OverflowError: an instant no UTC date holds (9999-12-31T23:59:59-14:00);
            # RecursionError: JSON nested deeper than the parser goes. The reason is
            # logged and alerted: what was wrong, the body's size and SHA-256, never a
            # value of it (a genuine body may still carry account details).
            raise WebhookRejected(
                describe_unreadable(
                    "webhook body not of the contract's shape", body, problem_of(exc)
                ),
                key="body",
            ) from None


def settle_webhook(
    bus: MessageBus, verifier: WebhookVerifier, headers: Mapping[str, str], body: bytes
) -> Settled:
    """Verify a webhook and hand its event to the bus as `SettleTransfer`.

    A refused webhook is alerted (WARNING, with the failed check; CRITICAL for a genuine
    event whose direction disagrees with its transfer), logged without its
    signature, and re-raised, so the receiving endpoint answers 4xx; nothing is applied.
    An accepted one is handled in a span whose correlation id is the event's id.

    Raises:
        WebhookRejected: the webhook failed verification.
    """
    try:
        event = verifier.verify(headers, body)
    except WebhookRejected as exc:
        _log.warning("payengine webhook refused", check=exc.key or "", reason=str(exc))
        # A genuine event about money moving the wrong way may mean money moved that
        # nothing records: operations must look now, not just note a bad request.
        severity = Severity.CRITICAL if exc.key == "direction" else Severity.WARNING
        bus.get(Alerter).alert(
            Alert(
                severity,
                "PayEngine webhook refused",
                {"check": exc.key or "", "reason": str(exc)},
            )
        )
        raise
    with bus.get(Tracer).span(
        "webhook", event.outcome.value, user_id=None, correlation_id=event.event_id
    ):
        return bus.handle(SettleTransfer(event))
