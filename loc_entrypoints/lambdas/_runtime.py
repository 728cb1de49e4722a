"""What every Lambda handler shares: one bus per container, logs, metrics, the flush.

A handler module makes one `Runtime` at import (which costs nothing: no settings are
read and no client is built) and, inside ``handler(event, context)``, opens
``with RUNTIME.invocation(context) as run:``. On the container's first invocation the
runtime reads the ``LOC_*`` settings, configures the JSON logs and builds the bus through
the bootstrap; later invocations reuse it. Each invocation:

- binds the Lambda request id (``request_id``) and the function (``function``) to every
  log line written during it, and clears them after;
- counts what the handler reports on `Invocation` (``processed``, ``failed``,
  ``skipped``) and times the invocation, as metrics ``loc.lambda.<name>`` tagged with the
  function, written with the rest when the invocation ends;
- ends with `finish(bus)`: held alerts are posted and buffered metrics written before
  the container is frozen.

A cold start that fails (settings that cannot be read, an adapter the bootstrap cannot
build, the HTTP app refusing its settings) writes one JSON line, ``cold start failed``
at ERROR, with the ``function``, the ``error`` class, its ``reason`` and the ``setting``
at fault (the ``LOC_*`` variable, when the error names one), on the JSON logs even when
the settings never configured them (their secret values redacted all the same); then
the error is raised, so the invocation fails and Lambda reports it too. The next
invocation tries the cold start again.

Tests give the runtime a bus of their own with `Runtime.use`.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import structlog

if TYPE_CHECKING:
    from loc_core.services.messagebus import MessageBus

__all__ = ["Invocation", "LambdaContext", "Runtime", "setting_at_fault"]

_log = structlog.get_logger(__name__)


class LambdaContext(Protocol):
    """The part of Lambda's context object the handlers read."""

    @property
    def aws_request_id(self) -> str:
        """The invocation's request id."""
        ...

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before Lambda stops the invocation."""
        ...


@attrs.define
class Invocation:
    """What one invocation did, for its metrics and its last log line."""

    bus: MessageBus
    context: LambdaContext | None
    processed: int = 0
    failed: int = 0
    skipped: int = 0

    def remaining_ms(self) -> int:
        """Milliseconds left in this invocation (a generous 15 minutes without a context)."""
        if self.context is None:
            return 15 * 60 * 1000
        return self.context.get_remaining_time_in_millis()


@attrs.define
class Runtime:
    """One Lambda function's container-wide state: its bus, built on first use."""

    name: str
    """The function's short name (``collections_worker``): the metric and log tag."""
    environ: Mapping[str, str] | None = attrs.field(default=None, repr=False)
    """Where settings are read from; `os.environ` when None (tests pass their own)."""
    _bus: MessageBus | None = attrs.field(default=None, init=False, repr=False)
    _logs_configured: bool = attrs.field(default=False, init=False, repr=False)
    _starting: int = attrs.field(default=0, init=False, repr=False)

    def bus(self) -> MessageBus:
        """The container's bus, built from the settings on the first call.

        Raises:
            Exception: whatever stopped the cold start (logged first, see the module).
        """
        if self._bus is None:
            with self.cold_start():
                from loc_entrypoints.bootstrap import (  # noqa: PLC0415 - not at import: cold starts stay cheap
                    Settings,
                    bootstrap,
                    configure_observability,
                )

                settings = Settings.from_env(self.env())
                configure_observability(settings)
                self._logs_configured = True
                self._bus = bootstrap(settings)
        return self._bus

    def env(self) -> Mapping[str, str]:
        """Where the settings are read from."""
        return self.environ if self.environ is not None else os.environ

    def use(self, bus: MessageBus) -> None:
        """Run on `bus` instead of one built from settings (tests, the CLI).

        Its logging is the caller's: a failed cold start does not configure it.
        """
        self._bus = bus
        self._logs_configured = True

    @contextlib.contextmanager
    def cold_start(self) -> Iterator[None]:
        """Around what the container builds once: a failure is one JSON line, then raised.

        Nested (the HTTP app builds the bus inside its own), only the outermost logs.
        """
        self._starting += 1
        try:
            yield
        except Exception as exc:
            if self._starting == 1:
                self._log_cold_start_failure(exc)
            raise
        finally:
            self._starting -= 1

    def _log_cold_start_failure(self, exc: Exception) -> None:
        """The ``cold start failed`` line, on JSON logs configured now if need be."""
        environ = self.env()
        if not self._logs_configured:
            from loc_adapters.logs import configure_logging  # noqa: PLC0415 - only on a failed cold start

            configure_logging(
                level="INFO",
                secrets=_secret_values(environ),
                fields={"service": str(environ.get("LOC_SERVICE_NAME", "")).strip() or "loc"},
            )
            self._logs_configured = True
        _log.error(
            "cold start failed",
            function=self.name,
            error=type(exc).__name__,
            reason=str(exc),
            setting=setting_at_fault(exc),
        )

    @contextlib.contextmanager
    def invocation(self, context: LambdaContext | Any | None) -> Iterator[Invocation]:  # noqa: ANN401 - Lambda passes its own context class
        """The scope of one invocation (see the module)."""
        from loc_core.ports import Metrics  # noqa: PLC0415 - same

        bus = self.bus()
        request_id = getattr(context, "aws_request_id", None) or "local"
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id, function=self.name)
        run = Invocation(bus, context)
        started = time.perf_counter()
        outcome = "ok"
        try:
            yield run
        except Exception:
            outcome = "error"
            raise
        finally:
            elapsed = round((time.perf_counter() - started) * 1000, 3)
            metrics = bus.get(Metrics)
            tags = (f"function:{self.name}",)
            for what in ("processed", "failed", "skipped"):
                metrics.increment(f"loc.lambda.{what}", getattr(run, what), tags=tags)
            metrics.timing("loc.lambda.duration", elapsed, tags=tags)
            _log.info(
                "invocation finished",
                outcome=outcome,
                processed=run.processed,
                failed=run.failed,
                skipped=run.skipped,
                duration_ms=elapsed,
            )
            from loc_entrypoints.bootstrap import finish  # noqa: PLC0415 - same

            finish(bus)
            structlog.contextvars.reset_contextvars(**tokens)


_VARIABLE = re.compile(r"\bLOC_[A-Z0-9_]+\b")
"""A ``LOC_*`` variable's name in an error's message."""


def setting_at_fault(exc: BaseException) -> str | None:
    """The ``LOC_*`` variable a configuration error is about, or None.

    The error's `key` when it is one, else the first variable its message names (every
    settings refusal names its variable; a `ServiceNotConfigured` names the one to set).
    """
    from loc_core.errors import InvalidConfiguration, ServiceNotConfigured  # noqa: PLC0415 - same

    if not isinstance(exc, InvalidConfiguration | ServiceNotConfigured):
        return None
    key = getattr(exc, "key", None)
    if isinstance(key, str) and _VARIABLE.fullmatch(key):
        return key
    named = _VARIABLE.search(str(exc))
    return named.group(0) if named else None


def _secret_values(environ: Mapping[str, str]) -> list[str]:
    """The values of the secret settings in `environ`, for the redactor.

    The settings' own list (the fields kept out of repr), whatever else failed; names
    that read like a secret besides.
    """
    try:
        from loc_entrypoints.bootstrap import Settings  # noqa: PLC0415 - same
    except ImportError:  # the cold start failed importing it: the names alone then
        secret: set[str] = set()
    else:
        secret = {f"LOC_{field.name.upper()}" for field in attrs.fields(Settings) if not field.repr}
    looks_secret = re.compile(r"(SECRET|PASSWORD|TOKEN|_KEY|WEBHOOK_URL)")
    return [
        value
        for name, value in environ.items()
        if isinstance(name, str)
        and isinstance(value, str)
        and name.startswith("LOC_")
        and (name in secret or looks_secret.search(name))
    ]
