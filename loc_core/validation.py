"""Validation at the boundary: the bounds every command and settlement event is built in.

Commands (`loc_core.services.commands`) and `SettlementEvent` check their fields when they
are built, with the attrs validators below, so a value out of bounds never reaches a
rail, a lock or the store. A violation raises `InvalidRequest` whose `key` names the
field. The bounds are policy, kept here in one place:

- ids: non-empty `str` of at most `MAX_ID_LENGTH` characters from `SAFE_CHARACTERS`
  (ASCII letters, digits and ``-_.:@``; never ``#``, the store's key separator);
- idempotency keys: required, at most `MAX_KEY_LENGTH` characters, same characters;
- transfer keys (the rail's idempotency key a settlement event names, built by this
  library from validated parts): at most `MAX_TRANSFER_KEY_LENGTH` characters, the same
  characters and ``%`` (`key_part`'s escape);
- amounts: `int` (not `bool`) cents from `MIN_AMOUNT` to `MAX_AMOUNT`;
- timestamps: timezone-aware UTC `datetime`; dates: a `date` that is not a `datetime`;
- outcomes, rails and other choices: members of their enum, never their string values.

Keys built from ids (`key_part`, `from_key_part`) escape the one safe character that is
also a key field separator, ``:``, so a user id such as ``us-east-1:4f9a`` can be parsed
back out of a transfer key; an id without ``:`` is written unchanged.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import attrs

from loc_core.errors import InvalidRequest

__all__ = [
    "MAX_AMOUNT",
    "MAX_ID_LENGTH",
    "MAX_KEY_LENGTH",
    "MAX_TEXT_LENGTH",
    "MAX_TRANSFER_KEY_LENGTH",
    "MIN_AMOUNT",
    "SAFE_CHARACTERS",
    "Cents",
    "Day",
    "Flag",
    "Id",
    "Key",
    "NonBlankText",
    "Text",
    "TransferKey",
    "UtcTime",
    "Validator",
    "from_key_part",
    "instance_of",
    "key_part",
    "member_of",
    "require_amount",
    "require_id",
    "require_key",
    "require_transfer_key",
    "valid_amount",
    "valid_count",
    "valid_date",
    "valid_flag",
    "valid_id",
    "valid_key",
    "valid_not_blank",
    "valid_text",
    "valid_transfer_key",
    "valid_utc",
    "validated",
]

MAX_ID_LENGTH = 128
"""Longest id (user, loan, line, application, payment, event) *(policy)*."""
MAX_KEY_LENGTH = 255
"""Longest idempotency key *(policy)*; a DynamoDB sort key holding it stays far below 1 KB."""
MAX_TRANSFER_KEY_LENGTH = 1024
"""Longest transfer key a settlement event may name: DynamoDB's sort key limit in bytes."""
MAX_TEXT_LENGTH = 500
"""Longest free text (a reason, a confirmation id, a return code) *(policy)*."""
MIN_AMOUNT = 1
"""Smallest amount a command may name: one cent."""
MAX_AMOUNT = 100_000_000
"""Largest amount a command may name: $1,000,000.00 *(policy; no product configures a
larger one, and each product's own rules may refuse less)*."""
SAFE_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:@"
"""The characters of ids and idempotency keys; ``#`` (the store's separator) is not one."""

_SAFE = re.compile("[" + re.escape(SAFE_CHARACTERS) + "]+")
_SEPARATOR = ":"
_ESCAPED_SEPARATOR = "%3A"
"""``%`` is not a safe character, so no valid id contains the escape by itself."""
_TRANSFER_SAFE = re.compile("[" + re.escape(SAFE_CHARACTERS) + "%]+")

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]
"""What attrs calls with (instance, attribute, value) when a class is built."""


def _refuse(field: str, expected: str, value: object) -> InvalidRequest:
    shown = repr(value)
    if len(shown) > 60:  # noqa: PLR2004 - keep the message short for huge values
        shown = shown[:57] + "..."
    return InvalidRequest(
        f"{field} must be {expected}, got {type(value).__name__} {shown}", key=field
    )


def _require_safe(
    value: object, field: str, *, longest: int, what: str, safe: re.Pattern[str] = _SAFE
) -> str:
    if type(value) is not str or not value:
        raise _refuse(field, f"a non-empty {what} string", value)
    if len(value) > longest:
        raise _refuse(field, f"at most {longest} characters", value)
    if safe.fullmatch(value) is None:
        extra = "%" if safe is _TRANSFER_SAFE else ""
        raise _refuse(field, f"letters, digits and -_.:@{extra} only", value)
    return value


def require_id(value: object, field: str = "id") -> str:
    """Return `value` if it is a valid id.

    Raises:
        InvalidRequest: naming `field`, for anything but a non-empty str of at most
            `MAX_ID_LENGTH` safe characters.
    """
    return _require_safe(value, field, longest=MAX_ID_LENGTH, what="id")


def require_key(value: object, field: str = "idempotency_key") -> str:
    """Return `value` if it is a valid idempotency key.

    Raises:
        InvalidRequest: naming `field`, for a missing, empty, too long or unsafe key.
    """
    return _require_safe(value, field, longest=MAX_KEY_LENGTH, what="key")


def require_transfer_key(value: object, field: str = "idempotency_key") -> str:
    """Return `value` if it is a transfer key this library could have built.

    Raises:
        InvalidRequest: naming `field`, for a missing, empty, too long or unsafe key.
    """
    return _require_safe(
        value, field, longest=MAX_TRANSFER_KEY_LENGTH, what="transfer key", safe=_TRANSFER_SAFE
    )


def require_amount(value: object, field: str = "amount") -> int:
    """Return `value` if it is whole cents from `MIN_AMOUNT` to `MAX_AMOUNT`.

    Raises:
        InvalidRequest: naming `field`, for a float, bool, str, Decimal or an int out of
            bounds.
    """
    if type(value) is not int:
        raise _refuse(field, "integer cents", value)
    if not MIN_AMOUNT <= value <= MAX_AMOUNT:
        raise _refuse(field, f"from {MIN_AMOUNT} to {MAX_AMOUNT} cents", value)
    return value


def valid_id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: the field is an id (`require_id`)."""
    require_id(value, attribute.name)


def valid_key(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: the field is an idempotency key (`require_key`)."""
    require_key(value, attribute.name)


def valid_transfer_key(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: the field is a transfer key (`require_transfer_key`)."""
    require_transfer_key(value, attribute.name)


def valid_amount(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: the field is an amount of cents within bounds (`require_amount`)."""
    require_amount(value, attribute.name)


def valid_utc(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: the field is a timezone-aware UTC `datetime`."""
    if not isinstance(value, dt.datetime):
        raise _refuse(attribute.name, "a UTC datetime", value)
    if value.utcoffset() != dt.timedelta(0):
        raise _refuse(attribute.name, "a timezone-aware UTC datetime", value)


def valid_date(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: the field is a calendar `date` (a `datetime` is not one)."""
    if type(value) is not dt.date:
        raise _refuse(attribute.name, "a date", value)


def valid_flag(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: the field is a `bool` (not a truthy string or number)."""
    if type(value) is not bool:
        raise _refuse(attribute.name, "True or False", value)


def valid_text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: the field is a `str` of at most `MAX_TEXT_LENGTH` characters."""
    if type(value) is not str or len(value) > MAX_TEXT_LENGTH:
        raise _refuse(attribute.name, f"a str of at most {MAX_TEXT_LENGTH} characters", value)


def valid_not_blank(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: a `str` field holds more than whitespace (after `valid_text`)."""
    if isinstance(value, str) and not value.strip():
        raise InvalidRequest(f"{attribute.name} must not be blank", key=attribute.name)


def valid_count(*, minimum: int, maximum: int, optional: bool = False) -> Validator:
    """Attrs validator: the field is an `int` (not `bool`) from `minimum` to `maximum`.

    With `optional`, None is accepted too (the product's rule applies).
    """

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        if type(value) is not int or not minimum <= value <= maximum:
            raise _refuse(attribute.name, f"an int from {minimum} to {maximum}", value)

    return check


def member_of(choices: type[enum.Enum]) -> Validator:
    """Attrs validator: the field is a member of `choices` (its string value is not)."""

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, choices):
            raise _refuse(attribute.name, f"a {choices.__name__} member", value)

    return check


def instance_of(kind: type, *, optional: bool = False) -> Validator:
    """Attrs validator: the field is a `kind` (or None, with `optional`)."""

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, kind):
            raise _refuse(attribute.name, f"a {kind.__name__}", value)

    return check


def key_part(validated_id: str) -> str:
    """`validated_id` as one field of a ``:``-separated key; unchanged unless it has ``:``.

    >>> key_part("user-1"), key_part("us-east-1:4f9a")
    ('user-1', 'us-east-1%3A4f9a')
    """
    return validated_id.replace(_SEPARATOR, _ESCAPED_SEPARATOR)


def from_key_part(part: str) -> str:
    """The id one field of a key (`key_part`) stands for.

    >>> from_key_part("us-east-1%3A4f9a")
    'us-east-1:4f9a'
    """
    return part.replace(_ESCAPED_SEPARATOR, _SEPARATOR)


Id = Annotated[str, valid_id]
"""An id field: checked by `require_id` when the value is built."""
Key = Annotated[str, valid_key]
"""A client's idempotency key: checked by `require_key`."""
TransferKey = Annotated[str, valid_transfer_key]
"""A key the library built for a transfer: checked by `require_transfer_key`."""
Cents = Annotated[int, valid_amount]
"""An amount of cents within the bounds: checked by `require_amount`."""
UtcTime = Annotated[dt.datetime, valid_utc]
"""A timezone-aware UTC instant."""
Day = Annotated[dt.date, valid_date]
"""A calendar date (a `datetime` is refused)."""
Flag = Annotated[bool, valid_flag]
"""A real `bool`."""
Text = Annotated[str, valid_text]
"""Free text of at most `MAX_TEXT_LENGTH` characters."""
NonBlankText = Annotated[str, valid_text, valid_not_blank]
"""Free text of at most `MAX_TEXT_LENGTH` characters, not blank (an operator's reason)."""


def validated(cls: type, fields: list[attrs.Attribute[Any]]) -> list[attrs.Attribute[Any]]:
    """Attrs field transformer: every field checks its value against its annotation.

    Use it as ``@attrs.frozen(field_transformer=validated)``. A field annotated with one
    of the rule types above (``amount: Cents``) gets that rule; a field annotated with a
    class (an enum such as `Rail`, an entity such as `SettlementEvent`, optionally
    ``| None``) gets an instance check, so a string where an enum member belongs is
    refused. A value that breaks its rule is refused when the command is built
    (`InvalidRequest` naming the field). Fields with a validator of their own keep it.
    """
    hints = typing.get_type_hints(cls, include_extras=True)
    checked = []
    for field in fields:
        rule = _rule_for(hints.get(field.name))
        if rule is not None and field.validator is None:
            checked.append(field.evolve(validator=rule))
        else:
            checked.append(field)
    return checked


def _rule_for(hint: object) -> Validator | None:
    """The validator a field's annotation stands for, if it names one."""
    rules: list[Validator] = [rule for rule in getattr(hint, "__metadata__", ()) if callable(rule)]
    if len(rules) == 1:
        # The rule itself: `and_` would wrap it in an object whose Python `__call__`, entered
        # from C (a second evaluation loop), every command's check would go through.
        return rules[0]
    if rules:
        return attrs.validators.and_(*rules)
    arguments = typing.get_args(hint)
    optional = type(None) in arguments
    kinds = [kind for kind in arguments if kind is not type(None)] if arguments else [hint]
    if optional and len(kinds) == 1 and hasattr(kinds[0], "__metadata__"):
        rule = _rule_for(kinds[0])  # ``Day | None``: the rule type's rule, or None
        return None if rule is None else attrs.validators.optional(rule)
    if len(kinds) != 1 or not isinstance(kinds[0], type) or kinds[0] in _BUILTIN_SCALARS:
        return None
    kind = kinds[0]
    return (
        member_of(kind)
        if issubclass(kind, enum.Enum) and not optional
        else (instance_of(kind, optional=optional))
    )


_BUILTIN_SCALARS = frozenset({str, int, bool, float, bytes})
"""Scalars are checked by a rule type (`Id`, `Cents`, `Flag`, ...), not by their class."""


def utf8_length(texts: Sequence[str]) -> int:
    """The bytes `texts` take together in UTF-8, what a stored item's size counts.

    Counted without encoding when every text is ASCII (one byte a character; the usual
    case, told in constant time per text), so the memory store can weigh every commit's
    growing items cheaply.

    >>> utf8_length(["pay-1", "é"])
    7
    """
    if all(map(str.isascii, texts)):
        return sum(map(len, texts))
    return sum(len(text.encode()) for text in texts)
