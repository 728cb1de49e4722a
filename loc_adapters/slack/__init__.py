"""The Slack adapter: `SlackAlerter`, operations alerts on an incoming webhook.

Needs the ``slack`` extra (httpx). The message format is in `contract`.
"""

from loc_adapters.slack.alerter import SlackAlerter

__all__ = ["SlackAlerter"]
