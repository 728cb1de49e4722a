"""Request bodies are read strictly: JSON objects of exactly the declared fields and types.

A route with a body (``data``) takes it only as ``application/json`` (anything else
answers 415), and only as one JSON object whose fields are the model's, each of its
declared type: an amount is a JSON integer, not ``"100"`` or ``100.0``; a flag is
``true`` or ``false``, not ``1`` or ``"false"``; a field named twice, a field the model
does not have, ``NaN`` or ``Infinity``, an escaped lone UTF-16 surrogate and nesting
deeper than Python's parser goes all answer 400 with the field at fault. A body over
`MAX_BODY_BYTES` (64 KiB) answers 413 having read no more than that, and a client that
leaves before its body arrived answers 400 (`refusing_early_disconnect`), not a 500. A
money API must not guess: a mistyped ``"autopay_enable": false`` silently ignored would
leave autopay on.

The check is a guard, so it runs after the caller is verified (401 first) and before the
route's parameters are read; the route then decodes the same bytes as before. A route
that takes a body needs one: ``{}`` takes its defaults, and a request without a body is a
400 naming the field it lacks.

>>> import attrs
>>> @attrs.frozen
... class Pay:
...     amount: int
>>> read_body(b'{"amount": 500}', Pay)
Pay(amount=500)
>>> read_body(b'{"amount": "500"}', Pay)
Traceback (most recent call last):
...
loc_core.errors.InvalidRequest: amount: Expected `int`, got `str`
>>> read_body(b'{"amount": 1, "amount": 200}', Pay)
Traceback (most recent call last):
...
loc_core.errors.InvalidRequest: the body is not valid JSON: the field 'amount' is given twice
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar, cast

import attrs
import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler
from litestar.types import Receive, ReceiveMessage

from loc_core.errors import InvalidRequest

__all__ = [
    "JSON_MEDIA_TYPE",
    "MAX_BODY_BYTES",
    "UnsupportedMediaType",
    "read_body",
    "refusing_early_disconnect",
    "strict_body",
]

JSON_MEDIA_TYPE = "application/json"
"""The one media type a request body is read as."""
MAX_BODY_BYTES = 64 * 1024
"""The largest body the API reads (64 KiB; a valid body of any route is a few KiB at most).

A larger one answers 413: refused unread when its ``Content-Length`` says so, else as
soon as more than this has arrived, so a hostile client never has the API hold or parse
more than this per request."""
_SHOWN_NAME = 60
"""The longest field name an error echoes (an unknown name may be as long as the body)."""
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
"""The start of a JSON escape of half a UTF-16 pair (valid only as a pair)."""

T = TypeVar("T")


class UnsupportedMediaType(HTTPException):
    """A body sent as anything but ``application/json`` (415)."""

    status_code = 415


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"the field {key!r} is given twice")
        found[key] = value
    return found


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows")


def read_body(body: bytes, model: type[T]) -> T:
    """`body` as an instance of the attrs class `model`, read strictly (module docstring).

    Raises:
        InvalidRequest: the body is not JSON, not an object, names a field twice or one
            `model` does not have, or gives a field a value not of its declared type.
    """
    try:
        value = json.loads(body, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except RecursionError:
        raise InvalidRequest("the body nests too deeply to be read", key="body") from None
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise InvalidRequest(f"the body is not valid JSON: {error}", key="body") from None
    if _SURROGATE_ESCAPE.search(body) and not _encodable(value):
        raise InvalidRequest(
            "the body is not valid JSON: it escapes half a UTF-16 surrogate pair, which is"
            " no character",
            key="body",
        )
    if not isinstance(value, dict):
        raise InvalidRequest("the body must be a JSON object", key="body")
    declared = [field.name for field in attrs.fields(cast("type[attrs.AttrsInstance]", model))]
    unknown = sorted(set(value) - set(declared))
    if unknown:
        fields = ", ".join(declared) or "none"
        name = unknown[0][:_SHOWN_NAME]
        shown = repr(name) if name == unknown[0] else f"{name!r}... ({len(unknown[0])} characters)"
        raise InvalidRequest(f"no field {shown} in this body; its fields are: {fields}", key=name)
    try:
        return msgspec.convert(value, model, strict=True)
    except msgspec.ValidationError as error:
        message = str(error)
        field = message.rpartition("at `$.")[2].rstrip("`") if "at `$." in message else "body"
        detail = message.partition(" - at ")[0]
        raise InvalidRequest(f"{field}: {detail}", key=field) from None


def _encodable(value: object) -> bool:
    """Whether every string of a parsed body is text UTF-8 can carry (no lone surrogate).

    Python's parser turns an escaped half pair (an escape of U+D800 to U+DFFF alone) into
    a string no encoder takes: it reached an error message or msgspec, which raised while
    answering (a 500).
    """
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


def _absent(model: type) -> InvalidRequest:
    """The error for a request without the body `model` needs (``{}`` takes its defaults)."""
    fields = attrs.fields(cast("type[attrs.AttrsInstance]", model))
    required = [field.name for field in fields if field.default is attrs.NOTHING]
    if required:
        return InvalidRequest(
            f"the body is required: a JSON object with {', '.join(required)}", key=required[0]
        )
    return InvalidRequest("the body is required: a JSON object ({} takes the defaults)", key="body")


async def strict_body(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard: a route's body is JSON of exactly its model (module docstring).

    Raises:
        UnsupportedMediaType: a body sent as another media type (415).
        InvalidRequest: a body that does not read strictly as the model (400).
    """
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return
    request = cast("Request[Any, Any, Any]", connection)
    body = await request.body()
    if not body:
        raise _absent(data.annotation)
    media_type = request.headers.get("Content-Type", "").partition(";")[0].strip().lower()
    if media_type != JSON_MEDIA_TYPE:
        raise UnsupportedMediaType(
            f"the body must be sent as {JSON_MEDIA_TYPE}, not {media_type or 'no media type'}"
        )
    read_body(body, data.annotation)


def refusing_early_disconnect(receive: Receive) -> Receive:
    """`receive`, raising `InvalidRequest` (``body``) if the client leaves mid-body.

    The framework answers a disconnect before the body's last chunk with a server error,
    which is logged as a defect; a client closing its connection is none. Nothing has
    run yet when the body is read, so nothing changes; the answer goes nowhere.
    """
    whole = False

    async def receiving() -> ReceiveMessage:
        nonlocal whole
        message = await receive()
        if message["type"] == "http.request":
            whole = whole or not message.get("more_body", False)
        elif message["type"] == "http.disconnect" and not whole:
            raise InvalidRequest(
                "the client closed the connection before its body arrived", key="body"
            )
        return message

    return receiving
