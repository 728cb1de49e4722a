"""The message bus: the one door every caller uses to reach the use cases.

A caller (the simulation, a Lambda handler, the HTTP API, an operator's command) builds a
command, a frozen attrs value subclassing `Command`, and hands it to `MessageBus.handle`.
The bus finds the command's one handler in its table and calls it with the ports the
handler declares as keyword-only parameters, resolved by their annotated type from the
dependencies the bootstrap registered. Nobody passes ports by hand.

What every command shares happens here, once:
- wiring: each handler's ports are resolved when the bus is built, so a missing port is
  an `InvalidConfiguration` at start-up, not a surprise in the middle of a payment;
- start-up checks: each runs once when the bus is built, with its ports resolved like a
  handler's, and refuses a configuration that could fail a booking after money moved;
- metrics: every command is counted (``loc.command.<Name>`` with ``outcome:ok|error``)
  on the registered `Metrics`, a no-op one when none is registered;
- tracing: every command, queue message and published event runs in a span of the
  registered `Tracer` (structured logs with a correlation id, the user id, the name and
  the outcome in production; none by default), the events of a command in its span;
- publishing after commit: handlers receive the bus's `Publisher` and pass it the events
  a commit returned; each event goes to its event handlers (by default, telling the
  borrower and alerting operations when that fails), never before the commit;
- translation: a queue message (`handle_message`) or a rail's settlement event becomes
  its command through the same tables.

The bus never swallows an error from a command handler: around money, a failure must
reach the caller (and its retry), not disappear in a log line.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
import typing
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar, cast

import attrs

from loc_core.errors import ExternalServiceError, InvalidConfiguration
from loc_core.events import DomainEvent
from loc_core.ports import EventOutbox, Metrics, QueueMessage, Tracer, UnitOfWork

__all__ = [
    "Command",
    "MessageBus",
    "NoMetrics",
    "NoTracer",
    "Publisher",
    "StartupCheck",
]

R_co = TypeVar("R_co", covariant=True)
T = TypeVar("T")

Handler = Callable[..., Any]
"""A use case: ``handler(command, *, port: PortType, ...)``."""
EventHandler = Callable[..., None]
"""Reacts to a committed domain event: ``handler(event, *, port: PortType, ...)``."""
StartupCheck = Callable[..., None]
"""Checks the configuration once at build: ``check(*, port: PortType, ...)``; raises
`InvalidConfiguration` to refuse it."""


_MISSING = object()
"""What `MessageBus._provide` answers for a type nothing registered."""

_Wanted = tuple[tuple[str, object, bool], ...]
_wanted_by_handler: weakref.WeakKeyDictionary[Callable[..., Any], _Wanted] = (
    weakref.WeakKeyDictionary()
)
"""Each handler's keyword-only parameters, read once per process (`_wanted_ports`); a
handler that is dropped (a test's closure) is forgotten with it."""


def _wanted_ports(handler: Callable[..., Any]) -> _Wanted:
    """`handler`'s keyword-only parameters: name, declared type, and whether it has no default.

    Reading them evaluates the handler's annotations (strings, under ``from __future__
    import annotations``), which compiles each one; a handler's signature never changes,
    so every bus built in the process (a simulation builds one per partition, a Lambda
    one per cold start) reads it once.
    """
    try:
        known = _wanted_by_handler.get(handler)
    except TypeError:  # a callable object that cannot be weakly referenced: read it each time
        return _read_wanted(handler)
    if known is None:
        known = _wanted_by_handler[handler] = _read_wanted(handler)
    return known


def _read_wanted(handler: Callable[..., Any]) -> _Wanted:
    hints = typing.get_type_hints(handler)
    return tuple(
        (parameter.name, hints.get(parameter.name), parameter.default is parameter.empty)
        for parameter in inspect.signature(handler).parameters.values()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    )


class Command(Generic[R_co]):
    """Base of every command: a request for one use case, answered with an `R_co`.

    Subclasses are frozen attrs classes; the type parameter names what the handler
    returns, so ``bus.handle(MakePayment(...))`` is typed as a `PaymentReceipt`.
    """

    __slots__ = ()


class Publisher(Protocol):
    """Sends committed domain events to their event handlers; returns how many went out."""

    def __call__(self, events: Iterable[DomainEvent]) -> int:
        """Publish `events`, which a commit has just returned."""
        ...


@attrs.frozen
class NoMetrics:
    """A `Metrics` that records nothing: registered when a deployment has no metrics."""

    def increment(self, name: str, value: int = 1, *, tags: Sequence[str] = ()) -> None:
        """Do nothing."""

    def gauge(self, name: str, value: int, *, tags: Sequence[str] = ()) -> None:
        """Do nothing."""

    def timing(self, name: str, milliseconds: float, *, tags: Sequence[str] = ()) -> None:
        """Do nothing."""


@attrs.frozen
class NoTracer:
    """A `Tracer` that records nothing: registered when a deployment logs nothing."""

    def span(
        self,
        kind: str,
        name: str,
        *,
        user_id: str | None = None,
        correlation_id: str | None = None,
    ) -> contextlib.AbstractContextManager[None]:
        """An empty context."""
        del kind, name, user_id, correlation_id  # nothing is recorded
        return contextlib.nullcontext()


def _user_of(value: object) -> str | None:
    """The ``user_id`` a command or event carries, if it carries one."""
    user_id = getattr(value, "user_id", None)
    return user_id if isinstance(user_id, str) else None


class MessageBus:
    """Routes commands, queue messages and domain events to their handlers.

    Args:
        dependencies: each port's adapter, keyed by the port's type (``{Clock: clock}``);
            anything else a handler declares by type (a product configuration) too. A
            handler may also declare an attrs class whose fields are all registered
            types: the bus builds it once from them (a service object bundling ports).
        handlers: exactly one handler per command type.
        event_handlers: for each event class, the handlers a committed event goes to,
            in order.
        messages: for each queue message `kind`, how to turn a message into its command.
        startup_checks: run once, in order, when the bus is built (and when `replacing`
            builds another); their ports are resolved as handlers' are.

    Raises:
        InvalidConfiguration: a handler or a check declares a dependency nobody
            registered, or a check refused the configuration.
    """

    def __init__(
        self,
        *,
        dependencies: Mapping[type, object],
        handlers: Mapping[type[Command[Any]], Handler],
        event_handlers: Mapping[type[DomainEvent], Sequence[EventHandler]],
        messages: Mapping[str, Callable[[QueueMessage], Command[Any]]],
        startup_checks: Sequence[StartupCheck] = (),
    ) -> None:
        registered: dict[type, object] = {
            Metrics: NoMetrics(),
            Tracer: NoTracer(),
            **dependencies,
        }
        registered[Publisher] = self.publish
        registered[MessageBus] = self
        self._dependencies = registered
        self._built: set[type] = set()
        self._metrics = cast("Metrics", registered[Metrics])
        self._tracer = cast("Tracer", registered[Tracer])
        self._outbox = cast("EventOutbox | None", registered.get(EventOutbox))
        self._handlers = {
            command: (handler, self._resolve(handler), f"loc.command.{command.__name__}")
            for command, handler in handlers.items()
        }
        self._event_handlers = {
            event: [(handler, self._resolve(handler)) for handler in chain]
            for event, chain in event_handlers.items()
        }
        self._messages = dict(messages)
        self._tables = (handlers, event_handlers, messages, startup_checks)
        # One command at a time: every handler shares the one registered unit of work,
        # whose pending writes two threads would otherwise mix (re-entrant: an event
        # handler may hand the bus a command of its own).
        self._serial = threading.RLock()
        for check in startup_checks:
            check(**self._resolve(check))

    def replacing(self, overrides: Mapping[type, object]) -> MessageBus:
        """A bus with the same tables and adapters, but `overrides` under their ports.

        For tests and tools that need one adapter swapped (a unit of work that fails at
        commit, a rail that times out) while sharing everything else. A bus that keeps this
        one's unit of work also keeps its one-command-at-a-time lock: two buses over one
        unit of work are one bus to a threaded caller (its pending writes are shared).
        """
        handlers, event_handlers, messages, startup_checks = self._tables
        kept = {
            port: adapter
            for port, adapter in self._dependencies.items()
            if port not in {Publisher, MessageBus, *self._built}
        }
        replaced = MessageBus(
            dependencies={**kept, **overrides},
            handlers=handlers,
            event_handlers=event_handlers,
            messages=messages,
            startup_checks=startup_checks,
        )
        own = self._dependencies.get(UnitOfWork)
        if own is not None and replaced._dependencies.get(UnitOfWork) is own:
            replaced._serial = self._serial
        return replaced

    def get(self, port: type[T]) -> T:
        """The adapter registered for `port`.

        Raises:
            InvalidConfiguration: nothing is registered for it.
        """
        try:
            return cast("T", self._dependencies[port])
        except KeyError:
            raise InvalidConfiguration(f"no adapter is registered for {port.__name__}") from None

    def handle(self, command: Command[T]) -> T:
        """Run the command's handler with its ports and return its answer.

        Raises:
            InvalidConfiguration: no handler is registered for the command's type.
            LocError: whatever the handler raised, unchanged.
        """
        kind = type(command)
        try:
            handler, ports, name = self._handlers[kind]
        except KeyError:
            raise InvalidConfiguration(f"no handler is registered for {kind.__name__}") from None
        with (
            self._serial,
            self._tracer.span("command", kind.__name__, user_id=_user_of(command)),
        ):
            try:
                result = handler(command, **ports)
            except Exception:
                self._metrics.increment(name, tags=("outcome:error",))
                raise
            self._metrics.increment(name, tags=("outcome:ok",))
            return cast("T", result)

    def command_for(self, message: QueueMessage) -> Command[Any]:
        """The command a queue message asks for.

        Raises:
            InvalidConfiguration: no command is registered for the message's kind.
        """
        try:
            translate = self._messages[message.kind]
        except KeyError:
            raise InvalidConfiguration(
                f"no command is registered for queue messages of kind {message.kind!r}"
            ) from None
        return translate(message)

    def handle_message(self, message: QueueMessage) -> object:
        """Turn a queue message into its command and handle it.

        The span's correlation id is the message's deduplication id.
        """
        with self._tracer.span("message", message.kind, correlation_id=message.deduplication_id):
            return self.handle(self.command_for(message))

    def publish(self, events: Iterable[DomainEvent]) -> int:
        """Send each committed event to its event handlers, in order; returns the count.

        Called by handlers only after a successful commit. An event handler decides what
        a failure means (the borrower notifier alerts operations and never raises). Once
        an event's handlers ran, the `EventOutbox` (when one is registered) stops keeping
        it, before the next event is sent; an event whose handler raised stays kept for
        the recovery job with every event after it, and so do events the outbox failed to
        clear (an outage: counted as ``loc.outbox.not_cleared``, never raised, since the
        events did go out).
        """
        with self._serial:
            return self._publish(events)

    def _publish(self, events: Iterable[DomainEvent]) -> int:
        published = 0
        for event in events:
            chain = self._event_handlers.get(type(event), ())
            if chain:
                with self._tracer.span("event", type(event).__name__, user_id=_user_of(event)):
                    for handler, ports in chain:
                        handler(event, **ports)
            published += 1
            # Cleared as soon as its own handlers ran, not after the batch: a process that
            # dies on a later event leaves only the events not yet sent for the recovery job,
            # so an operations alert (Slack keeps no event id) is never posted twice.
            self._delivered(event)
        return published

    def _delivered(self, event: DomainEvent) -> None:
        if self._outbox is None:
            return
        try:
            self._outbox.delivered([event])
        except ExternalServiceError:
            # The event went out; only the record of it failed. The command stays a
            # success: the recovery job publishes it once more, and its handlers drop the
            # repeat by event id.
            self._metrics.increment("loc.outbox.not_cleared")

    def _resolve(self, handler: Callable[..., Any]) -> dict[str, object]:
        """The keyword-only parameters of `handler`, each bound to its registered adapter."""
        ports: dict[str, object] = {}
        for name, wanted, required in _wanted_ports(handler):
            provided = self._provide(wanted)
            if provided is not _MISSING:
                ports[name] = provided
            elif required:
                raise InvalidConfiguration(
                    f"{handler.__qualname__} needs {name}: {wanted!r}, which nothing registered"
                )
        return ports

    def _provide(self, wanted: object) -> object:
        """The adapter registered for `wanted`, or a service object built from them.

        A service object is an attrs class whose every field is a registered port (for
        example the ports every command on a line shares); it is built once per bus.
        """
        if wanted in self._dependencies:
            return self._dependencies[wanted]
        if not (isinstance(wanted, type) and attrs.has(wanted)):
            return _MISSING
        fields = attrs.fields(attrs.resolve_types(wanted))
        values = {field.name: self._provide(field.type) for field in fields}
        if _MISSING in values.values():
            return _MISSING
        built = wanted(**values)
        self._dependencies[wanted] = built
        self._built.add(wanted)
        return built
