"""Arguments checked as they are parsed, so a bad one is a usage error (exit 2) everywhere."""

from __future__ import annotations

from collections.abc import Callable

import click

from loc_core.errors import InvalidRequest
from loc_core.validation import MAX_TEXT_LENGTH, require_id

__all__ = ["entity_id", "operator_reason", "user_id"]

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


def operator_reason(operator: str, *, blank: str) -> Callback:
    """Click callback: the operator's reason as the record keeps it, ``<operator>: <reason>``.

    One line, neither blank (`blank` says what to give) nor longer than a recorded text
    once marked.

    Raises:
        click.BadParameter: blank, or too long once marked.
    """
    longest = MAX_TEXT_LENGTH - len(f"{operator}: ")

    def check(_ctx: click.Context, param: click.Parameter, value: str) -> str:
        text = " ".join(value.split())
        if not text:
            raise click.BadParameter(blank, param=param)
        if len(text) > longest:
            raise click.BadParameter(f"at most {longest} characters, got {len(text)}", param=param)
        return f"{operator}: {text}"

    return check
