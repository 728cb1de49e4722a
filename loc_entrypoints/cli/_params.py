"""Arguments checked as they are parsed, so a bad one is a usage error (exit 2) everywhere."""

from __future__ import annotations

import click

from loc_core.errors import InvalidRequest
from loc_core.validation import require_id

__all__ = ["user_id"]


def user_id(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback: `value` as a user id (`require_id`), or None when not given.

    Raises:
        click.BadParameter: not an id the library would take.
    """
    if value is None:
        return None
    try:
        return require_id(value, "user_id")
    except InvalidRequest as exc:
        raise click.BadParameter(str(exc), param=param) from exc
