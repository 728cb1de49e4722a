"""In-memory implementations of every port, with the semantics of the real adapters.

They are for tests, for the simulation, and for anyone who wants to run `loc` without
AWS: version conditions, atomic commits, lease expiry and queue redelivery behave as they
do in DynamoDB and SQS, by the injected clock.
"""

from loc_adapters.memory.clock import ManualClock
from loc_adapters.memory.database import InMemoryDatabase
from loc_adapters.memory.documents import InMemoryDocumentStore, RenderingFailed, TextRenderer
from loc_adapters.memory.idempotency import InMemoryIdempotencyStore
from loc_adapters.memory.ids import OwnerIds, SequentialIds
from loc_adapters.memory.lock import InMemoryLock
from loc_adapters.memory.observers import (
    InMemoryMetrics,
    RecordingAlerter,
    RecordingNotifier,
    StaticFeatureFlags,
)
from loc_adapters.memory.people import InMemoryUsers, SimulatedUnderwriting
from loc_adapters.memory.queue import InMemoryQueue
from loc_adapters.memory.rails import RailBehaviour, SimulatedRails
from loc_adapters.memory.uow import InMemoryUnitOfWork

__all__ = [
    "InMemoryDatabase",
    "InMemoryDocumentStore",
    "InMemoryIdempotencyStore",
    "InMemoryLock",
    "InMemoryMetrics",
    "InMemoryQueue",
    "InMemoryUnitOfWork",
    "InMemoryUsers",
    "ManualClock",
    "OwnerIds",
    "RailBehaviour",
    "RecordingAlerter",
    "RecordingNotifier",
    "RenderingFailed",
    "SequentialIds",
    "SimulatedRails",
    "SimulatedUnderwriting",
    "StaticFeatureFlags",
    "TextRenderer",
]
