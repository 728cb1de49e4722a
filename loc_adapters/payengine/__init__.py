"""The PayEngine adapter: `PayEngineRails` (httpx), webhook verification, and a sandbox.

Needs the ``payengine`` extra (httpx, stamina). The wire contract is in `contract`, so a
deployment whose PayEngine speaks differently changes one module (``docs/payengine.md``).
"""

from loc_adapters.payengine.client import DEFAULT_TIMEOUT, AccountTokens, PayEngineRails
from loc_adapters.payengine.webhooks import DEFAULT_TOLERANCE, WebhookVerifier, settle_webhook

__all__ = [
    "DEFAULT_TIMEOUT",
    "DEFAULT_TOLERANCE",
    "AccountTokens",
    "PayEngineRails",
    "WebhookVerifier",
    "settle_webhook",
]
