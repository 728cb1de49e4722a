"""Domain values to DynamoDB attribute values and back, with cattrs.

DynamoDB hands every number back as a `Decimal`; the domain wants `int` cents and refuses
floats. Timestamps are stored RFC3339 in UTC (``2026-01-05T15:00:00Z``, microseconds only
when there are some), dates ``YYYY-MM-DD``, enums by value, `Decimal` rates as numbers
and durations as seconds. Reading is strict about types (a fractional number for cents is
an error, not a rounding) and lenient about formats the original Go service wrote (an
RFC3339 timestamp where a date is expected is read as its UTC date) and about how its
``attributevalue.MarshalMap`` writes an unset Go field (`Shape.decode`): a NULL (a nil
slice, map or pointer), an empty string, Go's zero time (``GO_ZERO_TIME``).

What was read is written back as it was read unless its meaning changed (`as_written`):
a save keeps the Go service's ``…T07:30:00-05:00`` rather than rewrite it as this
library would have written it.

`Shape` maps the fields of an attrs class onto the attributes of one item: every field is
stored, under ``loc_<field name>`` unless the seed documents another name, so a field
added to a domain class is stored without anyone touching this module.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

from loc_core.errors import InvariantViolation, LocError
from loc_core.events import AuditValue
from loc_core.installment import PaymentApplication
from loc_core.money import exact_context

__all__ = [
    "ABSENT",
    "GO_ZERO_TIME",
    "Item",
    "Shape",
    "as_written",
    "converter",
    "format_fixed_timestamp",
    "format_timestamp",
    "parse_date",
    "parse_timestamp",
    "timestamp_date",
]

Item = dict[str, Any]
"""One DynamoDB item as Python values (what boto3's type (de)serializers work with)."""

_MICROSECOND = dt.timedelta(microseconds=1)
_EXACT = exact_context(60)
"""Seconds are scaled in the library's own context, never the host's `decimal` one."""


class _Absent:
    """The marker of an attribute (or map key, or list element) that is not there."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()
"""No value: the attribute, map key or list element is not in the item."""

GO_ZERO_TIME = "0001-01-01T00:00:00Z"
"""How the Go service's ``MarshalMap`` writes a zero ``time.Time``: no moment at all.

``omitempty`` does not drop it (a struct is never empty to ``MarshalMap``), so an unset
Go date or timestamp field is stored as this text; an optional date or timestamp field
reads it as None. This library never writes a moment in year 1.
"""


def as_written(stored: object, read: object, written: object) -> Any:  # noqa: ANN401 - any attribute value
    """What to store: `written`, except where its meaning is what was `read` from `stored`.

    `stored` is a value as DynamoDB gave it back; `read` is how this library writes the
    value it decoded from it, and `written` how it writes the value now (all three as
    DynamoDB gives values back: numbers `Decimal`, lists, maps; `ABSENT` when missing).
    Where `read` equals `written`, the command did not change the meaning, and the value
    stays exactly as stored (its text, its number or string type, a NULL, an empty
    string); what the library derived and the item lacks (`stored` absent) is added; map
    keys and list elements are decided the same way, one by one, so a key nobody here
    knows survives and a derived key is added to a map kept as written. Only what the
    command changed is written in this library's format.
    """
    if stored is ABSENT:
        return written
    if isinstance(stored, dict) and isinstance(read, dict) and isinstance(written, dict):
        names = [*stored, *(key for key in written if key not in stored)]
        merged = {
            key: as_written(
                stored.get(key, ABSENT), read.get(key, ABSENT), written.get(key, ABSENT)
            )
            for key in names
        }
        return {key: value for key, value in merged.items() if value is not ABSENT}
    if (
        isinstance(stored, list)
        and isinstance(read, list)
        and isinstance(written, list)
        and len(stored) == len(read)
    ):
        return [
            as_written(
                stored[index] if index < len(stored) else ABSENT,
                read[index] if index < len(read) else ABSENT,
                value,
            )
            for index, value in enumerate(written)
        ]
    return stored if read == written else written


def format_timestamp(moment: dt.datetime) -> str:
    """RFC3339 in UTC with a ``Z``; fractional seconds only when there are some.

    Whole seconds look exactly like the Go service's ``time.RFC3339`` output.
    """
    utc = _require_aware(moment).astimezone(dt.UTC).replace(tzinfo=None)
    spec = "microseconds" if utc.microsecond else "seconds"
    return utc.isoformat(timespec=spec) + "Z"


def format_fixed_timestamp(moment: dt.datetime) -> str:
    """RFC3339 in UTC, always with six fractional digits.

    Every value has the same width, so conditions can compare them as strings
    (``loc_expires_at <= :now``) and get the order of time.
    """
    utc = _require_aware(moment).astimezone(dt.UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


def timestamp_date(day: dt.date) -> str:
    """A date as the RFC3339 timestamp of its midnight UTC, for seed fields typed RFC3339."""
    return f"{day.isoformat()}T00:00:00Z"


def parse_timestamp(value: object) -> dt.datetime:
    """An RFC3339 string as an aware UTC datetime; an offset other than Z is converted."""
    if not isinstance(value, str):
        raise TypeError(f"a timestamp must be a string, got {value!r}")
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no offset; RFC3339 requires one")
    return moment.astimezone(dt.UTC)


def parse_date(value: object) -> dt.date:
    """``YYYY-MM-DD``, or the UTC date of an RFC3339 timestamp."""
    if not isinstance(value, str):
        raise TypeError(f"a date must be a string, got {value!r}")
    if len(value) == len("2026-01-05"):
        return dt.date.fromisoformat(value)
    return parse_timestamp(value).date()


def _require_aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvariantViolation(
            f"cannot store the naive timestamp {moment!r}", invariant="aware_timestamp"
        )
    return moment


def _to_int(value: object, _: object = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"expected a whole number, got {value!r}")
    if isinstance(value, Decimal) and value != value.to_integral_value():
        raise ValueError(f"expected a whole number, got {value}")
    return int(value)


def _to_decimal(value: object, _: object = None) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"expected a number, got {value!r}")
    return Decimal(value)


def _to_str(value: object, _: object = None) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _to_bool(value: object, _: object = None) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected a boolean, got {value!r}")
    return value


def _seconds(delta: dt.timedelta) -> Decimal:
    return Decimal(delta // _MICROSECOND).scaleb(-6, _EXACT)


def _to_timedelta(value: object, _: object = None) -> dt.timedelta:
    return dt.timedelta(microseconds=int(_to_decimal(value).scaleb(6, _EXACT)))


def _audit_value(value: object, _: object = None) -> AuditValue:
    """An audited value as stored: strings, whole numbers, booleans or nothing."""
    if value is None or isinstance(value, str | bool):
        return value
    return _to_int(value)


def _make_converter() -> cattrs.Converter:
    made = cattrs.Converter(detailed_validation=False)
    made.register_structure_hook(int, _to_int)
    made.register_structure_hook(str, _to_str)
    made.register_structure_hook(bool, _to_bool)
    made.register_structure_hook(Decimal, _to_decimal)
    made.register_unstructure_hook(dt.datetime, format_timestamp)
    made.register_structure_hook(dt.datetime, lambda value, _: parse_timestamp(value))
    made.register_unstructure_hook(dt.date, dt.date.isoformat)
    made.register_structure_hook(dt.date, lambda value, _: parse_date(value))
    made.register_unstructure_hook(dt.timedelta, _seconds)
    made.register_structure_hook(dt.timedelta, _to_timedelta)
    made.register_structure_hook_func(lambda kind: kind == AuditValue, _audit_value)
    # The seed stores an application's payment_date as an RFC3339 timestamp.
    made.register_unstructure_hook(
        PaymentApplication,
        make_dict_unstructure_fn(
            PaymentApplication, made, payment_date=override(unstruct_hook=timestamp_date)
        ),
    )
    return made


converter = _make_converter()
"""The converter for every value inside an item (nested maps use plain field names)."""


def _is_optional(kind: object) -> bool:
    union = typing.get_origin(kind) in {typing.Union, types.UnionType}
    return union and type(None) in typing.get_args(kind)


_MOMENTS = frozenset({dt.date, dt.datetime})
_COLLECTIONS: dict[object, Callable[[], object]] = {
    list: list,
    tuple: list,
    set: list,
    frozenset: list,
    dict: dict,
}
"""Collection types, and the empty value a NULL (the Go service's nil) reads as."""


def _unset(kind: object, raw: object) -> bool:
    """Whether `raw` is how the Go service writes an unset value of an optional `kind`.

    An empty string; for a date or timestamp, also Go's zero time (``GO_ZERO_TIME``).
    """
    if raw == "":
        return True
    inner = set(typing.get_args(kind)) - {type(None)}
    return raw == GO_ZERO_TIME and bool(inner) and inner <= _MOMENTS


Encoder = Callable[[Any], Any]


def _kind(field: attrs.Attribute[Any]) -> Any:  # noqa: ANN401 - a type expression
    if field.type is None:
        raise InvariantViolation(
            f"the field {field.name} has no type to read it as",
            key=field.name,
            invariant="typed_field",
        )
    return field.type


@attrs.frozen
class Shape:
    """How the fields of one attrs class are stored as the attributes of an item.

    Fields are stored under ``loc_<name>``, or the seed's name in `names`; fields in
    `skip` are stored elsewhere (child items) or not at all (the outbox). A field whose
    value is None is left out of the item, and an absent attribute, a NULL or (for an
    optional field) an empty string reads back as None, as the Go service wrote them;
    so does Go's zero time (``GO_ZERO_TIME``) for an optional date or timestamp. A NULL
    list or map (the Go service's nil slice or map) reads as an empty one.
    `encoders` replace the converter for single fields (seed dates typed RFC3339).

    An absent attribute reads as the field's default (a field added after the item was
    written), except for `required` fields: a status is never guessed.

    `marked` fields are in `skip` (stored as child items) but an earlier release stored
    them in the item: their attributes stay the shape's (`attributes`), written by the
    codec as it decides (a marker, or nothing), whole: a save never merges them with
    what that release stored (`whole_attributes`).
    """

    cls: type
    names: Mapping[str, str] = attrs.field(factory=dict)
    skip: frozenset[str] = frozenset({"outbox"})
    encoders: Mapping[str, Encoder] = attrs.field(factory=dict)
    required: frozenset[str] = frozenset()
    marked: frozenset[str] = frozenset()

    def __attrs_post_init__(self) -> None:
        attrs.resolve_types(self.cls)
        fields = {field.name for field in attrs.fields(self.cls)}
        named = set(self.names) | set(self.encoders) | set(self.required)
        unknown = (named | (self.skip - {"outbox"})) - fields
        if unknown:
            raise InvariantViolation(
                f"{self.cls.__name__} has no fields {sorted(unknown)}", invariant="known_fields"
            )
        if not self.marked <= self.skip:
            raise InvariantViolation(
                f"{self.cls.__name__}: marked fields {sorted(self.marked - self.skip)} are "
                "stored in the item",
                invariant="known_fields",
            )

    def attribute(self, field: str) -> str:
        """The item attribute that stores `field`."""
        return self.names.get(field, f"loc_{field}")

    def stored_fields(self) -> list[attrs.Attribute[Any]]:
        """The fields this shape stores in the item itself."""
        return [f for f in attrs.fields(self.cls) if f.name not in self.skip]

    def attributes(self) -> frozenset[str]:
        """Every attribute name this shape may write (its `marked` fields' included)."""
        stored = frozenset(self.attribute(f.name) for f in self.stored_fields())
        return stored | self.whole_attributes()

    def whole_attributes(self) -> frozenset[str]:
        """The `marked` fields' attributes: written whole, never merged with what was stored."""
        return frozenset(self.attribute(name) for name in self.marked)

    def encode(self, value: object) -> Item:
        """The attributes of `value`'s stored fields; None values are left out."""
        item: Item = {}
        for field in self.stored_fields():
            current = getattr(value, field.name)
            if current is None:
                continue
            encoder = self.encoders.get(field.name, converter.unstructure)
            item[self.attribute(field.name)] = encoder(current)
        return item

    def decode(
        self, item: Mapping[str, Any], *, where: str, only: Collection[str] | None = None
    ) -> dict[str, Any]:
        """Keyword arguments for the class from an item's attributes.

        `only` names the fields to decode (all stored fields when None), for an index
        entry that projects a few of them.

        Raises:
            InvariantViolation: naming `where` and the attribute, when an attribute is
                missing, of the wrong type or malformed.
        """
        values: dict[str, Any] = {}
        for field in self.stored_fields():
            if only is not None and field.name not in only:
                continue
            name = self.attribute(field.name)
            raw = item.get(name)
            optional = _is_optional(field.type)
            empty = _COLLECTIONS.get(typing.get_origin(field.type))
            if raw is None and name in item and empty is not None:
                raw = empty()  # a NULL list or map: the Go service's nil slice or map
            if raw is None or (optional and _unset(field.type, raw)):
                if field.default is not attrs.NOTHING and field.name not in self.required:
                    continue
                if not optional:
                    raise InvariantViolation(
                        f"{where}: the attribute {name} is missing",
                        key=name,
                        invariant="attribute_present",
                    )
                values[field.name] = None
                continue
            try:
                values[field.name] = converter.structure(raw, _kind(field))
            except LocError as exc:  # a value that refuses itself, such as an application
                raise InvariantViolation(
                    f"{where}: the attribute {name}: {exc}",
                    entity=exc.entity,
                    entity_id=exc.entity_id,
                    user_id=exc.user_id,
                    key=name,
                    invariant=exc.invariant or "attribute_readable",
                ) from exc
            except (TypeError, ValueError, KeyError, cattrs.BaseValidationError) as exc:
                raise InvariantViolation(
                    f"{where}: the attribute {name} is malformed: {exc}",
                    key=name,
                    invariant="attribute_readable",
                ) from exc
        return values
