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

Tests give the runtime a bus of their own with `Runtime.use`.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import structlog

if TYPE_CHECKING:
    from loc_core.services.messagebus import MessageBus

__all__ = ["Invocation", "LambdaContext", "Runtime"]

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

    def bus(self) -> MessageBus:
        """The container's bus, built from the settings on the first call."""
        if self._bus is None:
            from loc_entrypoints.bootstrap import (  # noqa: PLC0415 - not at import: cold starts stay cheap
                Settings,
                bootstrap,
                configure_observability,
            )

            settings = Settings.from_env(self.environ if self.environ is not None else os.environ)
            configure_observability(settings)
            self._bus = bootstrap(settings)
        return self._bus

    def use(self, bus: MessageBus) -> None:
        """Run on `bus` instead of one built from settings (tests, the CLI)."""
        self._bus = bus

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
