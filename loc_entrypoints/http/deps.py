"""What route handlers receive by name from the app: the bus, the caller, the replays."""

from __future__ import annotations

from typing import TypeAlias

from litestar.di import NamedDependency

from loc_core.services.messagebus import MessageBus
from loc_entrypoints.http.auth import Caller
from loc_entrypoints.http.idempotency import Replays

__all__ = ["Bus", "Once", "Who"]

Bus: TypeAlias = NamedDependency[MessageBus]
"""The deployment's message bus."""
Who: TypeAlias = NamedDependency[Caller]
"""The verified caller."""
Once: TypeAlias = NamedDependency[Replays]
"""Runs a POST once per idempotency key."""
