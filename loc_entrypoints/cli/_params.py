"""Arguments checked as they are parsed, so a bad one is a usage error (exit 2) everywhere."""

from __future__ import annotations

from collections.abc import Callable

import click

from loc_core.errors import InvalidRequest
from loc_core.validation import require_id

__all__ = ["entity_id", "user_id"]

Callback = Callable[[click.Context, click.Parameter, str], str]


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


def entity_id(field: str) -> Callback:
    """Click callback: `value` as the id named `field` (`require_id`): a loan's or a line's.

    Raises:
        click.BadParameter: not an id the library would take.
    """

    def check(_ctx: click.Context, param: click.Parameter, value: str) -> str:
        try:
            return require_id(value, field)
        except InvalidRequest as exc:
            raise click.BadParameter(str(exc), param=param) from exc

    return check
