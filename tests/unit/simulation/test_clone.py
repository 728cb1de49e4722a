"""The store's structural copies: equal to what they copy, and sharing nothing that can change."""

import datetime as dt
import pickle

import attrs
import pytest

from loc_core.installment import Process
from loc_core.payments import Rail
from loc_core.testing.installment import make_loan
from loc_entrypoints.simulation import Scenario, Simulation
from loc_entrypoints.simulation.clone import assert_independent, clone

PAID_ON = dt.date(2026, 1, 6)


def test_every_row_of_a_lived_book_is_an_equal_and_independent_copy() -> None:
    """Loans, lines, statements, applications and intents after 120 days of a small book.

    With crashes after accepted transfers, so recovery, returns and corrections have
    written rows too.
    """
    book = Scenario(crash_probability=0.05).resized(borrowers=60, days=120)
    simulation = Simulation.build(book)
    simulation.run()
    database = simulation.world.database
    kinds: set[str] = set()
    for key, row in database._rows.items():  # the rows are what is tested
        kinds.add(key[0])
        copy = clone(row)
        assert copy == row
        assert pickle.dumps(copy, pickle.HIGHEST_PROTOCOL) == pickle.dumps(
            row, pickle.HIGHEST_PROTOCOL
        )
        assert_independent(row, copy)
        live = database.peek(key)
        if live is not row:
            assert_independent(live, row)
    assert {"loan", "line", "statement", "intent"} <= kinds


def test_a_change_to_the_copy_leaves_the_original_as_it_was() -> None:
    loan = make_loan()
    before = pickle.dumps(loan, pickle.HIGHEST_PROTOCOL)
    copy = clone(loan)
    copy.apply_payment("pay-1", 5_000, process=Process.MANUAL, rail=Rail.ACH, today=PAID_ON)
    assert copy.outstanding_balance == loan.outstanding_balance - 5_000
    assert pickle.dumps(loan, pickle.HIGHEST_PROTOCOL) == before
    assert loan.payments == {}


@attrs.frozen
class _FrozenWithList:
    items: list[int]


@attrs.define
class _Holder:
    inner: _FrozenWithList


def test_a_frozen_class_holding_a_list_is_caught_sharing_it() -> None:
    """A frozen attrs instance is shared; one holding something changeable is a finding."""
    holder = _Holder(_FrozenWithList([1, 2]))
    with pytest.raises(AssertionError, match="list is shared"):
        assert_independent(holder, clone(holder))


def test_a_type_the_copier_does_not_know_is_refused() -> None:
    class Opaque:
        pass

    with pytest.raises(TypeError, match=r"cannot copy a .*Opaque"):
        clone([Opaque()])


@attrs.define
class _Plain:
    amount: int


class _Cached(_Plain):
    """An attrs class's subclass with a slot of its own (a cache, say)."""

    __slots__ = ("_memo",)


@attrs.define(slots=False)
class _Loose:
    amount: int


@pytest.mark.parametrize(
    ("kind", "why"), [(_Cached, "keeps _memo outside"), (_Loose, "not slotted")]
)
def test_a_class_with_state_outside_its_fields_is_refused(kind: type, why: str) -> None:
    """A copy sets the fields only: anything else an instance holds would be lost."""
    with pytest.raises(TypeError, match=why):
        clone([kind(5)])


@attrs.define
class _Wider(_Plain):
    """A subclass with a field of its own: a field declared as `_Plain` may hold one."""

    extra: list[int] = attrs.Factory(list)


@attrs.define
class _Node:
    """Fields of one mutable attrs class, alone, optional, in a list, in a dict, and itself."""

    one: _Plain
    maybe: _Plain | None
    items: list[_Plain]
    by_id: dict[str, _Plain]
    child: "_Node | None" = None


def test_fields_of_one_attrs_class_copy_subclasses_none_and_nesting_whole() -> None:
    """The copier calls a field class's copier directly; other values still copy whole."""
    inner = _Node(_Plain(1), None, [], {})
    node = _Node(
        _Wider(2, [20]),
        _Plain(3),
        [_Plain(4), _Wider(5, [50])],
        {"a": _Wider(6, [60]), "b": _Plain(7)},
        inner,
    )
    copy = clone(node)
    assert copy == node
    assert [type(item) for item in copy.items] == [_Plain, _Wider]
    assert (type(copy.one), type(copy.by_id["a"]), copy.child.maybe) == (_Wider, _Wider, None)
    assert_independent(node, copy)
    copy.by_id["a"].extra.append(61)  # the copy's own list
    copy.child.items.append(_Plain(8))
    assert node.by_id["a"] == _Wider(6, [60])
    assert inner.items == []
