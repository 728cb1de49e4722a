"""The Iterable adapter: `IterableNotifier`, borrower notifications as tracked events.

Needs the ``iterable`` extra (httpx, stamina). The wire contract is in `contract`, so a
deployment whose Iterable project speaks differently changes one module.
"""

from loc_adapters.iterable.notifier import IterableNotifier

__all__ = ["IterableNotifier"]
