"""Use cases: the original service's jobs, workers and handlers, reached through one bus.

Each use case is a function taking a command (a frozen attrs value subclassing
`Command`) and the ports it needs as keyword-only arguments; `handlers.HANDLERS` lists
them, and the `MessageBus` injects the ports, so callers only build commands:
``bus.handle(MakePayment(...))``. Each use case loads aggregates through a unit of work,
calls the core, commits, and only then publishes what the commit produced.
"""

from loc_core.services.messagebus import Command, MessageBus, NoMetrics, NoTracer, Publisher

__all__ = ["Command", "MessageBus", "NoMetrics", "NoTracer", "Publisher"]
