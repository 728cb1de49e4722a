"""The user and underwriting services over HTTP: `HttpUsers`, `HttpUnderwriting`.

Needs the ``people`` extra (httpx, stamina). The wire contract is in `contract`, so a
deployment whose services speak differently changes one module.
"""

from loc_adapters.people.clients import HttpUnderwriting, HttpUsers

__all__ = ["HttpUnderwriting", "HttpUsers"]
