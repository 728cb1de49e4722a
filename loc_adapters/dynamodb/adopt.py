"""Adopting a table the Go service wrote: scan it, and store what this library needs.

An offline maintenance tool, not a use case: it reads raw items (the Go service's, which
no repository returns until they are adopted) and writes raw items, so it talks to the
table directly rather than through the bus. It scans in parallel segments, page by page,
and after each page records the segment's position in a checkpoint file (written
atomically), so an interrupted run resumes where it stopped. Each loan it finds is read
whole with one consistent query, verified and adopted by `loc_core.installment.adoption`;
its payments and opening entry are written in one transaction that also checks every
item it read is unchanged, so a concurrent change is reported, never overwritten.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from loc_adapters.dynamodb import _keys as keys
from loc_adapters.dynamodb._codecs.loans import (
    INSTALLMENT,
    LOAN,
    decode_loan,
    decode_loan_application,
    encode_loan_payment,
    upgrade_legacy_loan,
)
from loc_adapters.dynamodb._codecs.records import encode_journal_entry
from loc_adapters.dynamodb._codecs.shared import VERSION, is_legacy
from loc_adapters.dynamodb._convert import Item
from loc_adapters.dynamodb._errors import translated
from loc_adapters.dynamodb._table import Cancelled, DynamoTable, deserialize, serialize
from loc_core.errors import InvariantViolation
from loc_core.installment import Installment, Payment
from loc_core.installment.adoption import GoLoan, adopt, adoption_entry_id
from loc_core.ports import TRANSACTION_LIMIT

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import ScanInputTypeDef, TransactWriteItemTypeDef

__all__ = ["AdoptionReport", "Finding", "Outcome", "adopt_table"]


class Outcome(enum.Enum):
    """What adoption did, or would do, with one loan or application."""

    ADOPTED = "adopted"
    WOULD_ADOPT = "would adopt"
    """A dry run's answer: it verifies, and these writes would adopt it."""
    SERVED = "already served"
    """Nothing to write: adopted before, written by this library, or readable as stored."""
    UNVERIFIED = "does not verify"
    """Its stored balances disagree, or it cannot be read: left untouched."""
    CHANGED = "changed during adoption, retry"
    """An item changed between the read and the write: nothing was written."""


@attrs.frozen(kw_only=True)
class Finding:
    """One loan or application and what adoption made of it."""

    kind: str
    """``loan`` or ``application``."""
    user_id: str
    item_id: str
    outcome: Outcome
    detail: str = ""
    payments: int = 0
    """The payment items written (or that would be)."""
    entries: int = 0
    """The journal entries written (or that would be)."""

    def as_json(self) -> dict[str, Any]:
        """The finding as the report file holds it."""
        return {**attrs.asdict(self), "outcome": self.outcome.value}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        """A finding a checkpoint file holds."""
        return cls(**{**data, "outcome": Outcome(data["outcome"])})


@attrs.define(kw_only=True)
class AdoptionReport:
    """What a run found: every loan and application, and the items it scanned."""

    applied: bool
    scanned: int = 0
    findings: list[Finding] = attrs.field(factory=list)

    def counts(self) -> dict[str, int]:
        """How many loans and applications ended in each outcome."""
        return {
            outcome.value: sum(f.outcome is outcome for f in self.findings) for outcome in Outcome
        }

    def as_json(self) -> dict[str, Any]:
        """The report file: counts, then every finding that is not already served."""
        return {
            "applied": self.applied,
            "scanned": self.scanned,
            "counts": self.counts(),
            "findings": [f.as_json() for f in self.findings if f.outcome is not Outcome.SERVED],
        }


@attrs.define
class _Checkpoint:
    """Each segment's position and what was found so far, saved after every page."""

    path: Path | None
    segments: int
    state: dict[str, Any] = attrs.field(factory=dict)
    lock: threading.Lock = attrs.field(factory=threading.Lock)

    def load(self) -> None:
        if self.path is not None and self.path.exists():
            self.state = json.loads(self.path.read_text())
            if self.state.get("segments") != self.segments:
                raise InvariantViolation(
                    f"checkpoint {self.path} was made with {self.state.get('segments')} "
                    f"segments, not {self.segments}: use the same --segments or a new file",
                    key="segments",
                    invariant="checkpoint_segments",
                )
        else:
            self.state = {"segments": self.segments, "positions": {}, "scanned": 0, "found": []}

    def position(self, segment: int) -> tuple[bool, dict[str, Any] | None]:
        """Whether `segment` is done, and where it stopped."""
        stored = self.state["positions"].get(str(segment), {"done": False, "key": None})
        return stored["done"], stored["key"]

    def page_done(
        self, segment: int, key: dict[str, Any] | None, scanned: int, found: list[Finding]
    ) -> None:
        with self.lock:
            self.state["positions"][str(segment)] = {"done": key is None, "key": key}
            self.state["scanned"] += scanned
            self.state["found"].extend(f.as_json() for f in found)
            if self.path is not None:
                temporary = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}")
                temporary.write_text(json.dumps(self.state, sort_keys=True))
                temporary.replace(self.path)  # atomic: a crash leaves the old or the new


def adopt_table(
    table: DynamoTable,
    *,
    today: dt.date,
    now: dt.datetime,
    apply: bool = False,
    segments: int = 4,
    checkpoint: Path | None = None,
    progress: Callable[[int], None] = lambda _: None,
    stop_after_pages: int | None = None,
) -> AdoptionReport:
    """Scan `table` and adopt every Go loan this library cannot serve yet.

    `progress` hears the items each page scanned. `stop_after_pages` ends each segment
    after that many pages, as an interrupted run would (for tests and trial runs).
    A dry run (`apply` False) writes nothing but the checkpoint.
    """
    state = _Checkpoint(checkpoint, segments)
    state.load()

    def scan_segment(segment: int) -> None:
        done, key = state.position(segment)
        pages = 0
        while not done and (stop_after_pages is None or pages < stop_after_pages):
            request: ScanInputTypeDef = {
                "TableName": table.name,
                "Segment": segment,
                "TotalSegments": segments,
                "ProjectionExpression": "PK, SK",
                "ConsistentRead": True,
            }
            if table.page_size is not None:
                request["Limit"] = table.page_size
            if key is not None:
                request["ExclusiveStartKey"] = key
            with translated("Scan"):
                page = table.client.scan(**request)
            found = [
                finding
                for raw in page.get("Items", [])
                if (finding := _visit(table, deserialize(raw), apply=apply, today=today, now=now))
                is not None
            ]
            key = page.get("LastEvaluatedKey")
            done = key is None
            state.page_done(segment, key, len(page.get("Items", [])), found)
            progress(len(page.get("Items", [])))
            pages += 1

    with ThreadPoolExecutor(max_workers=segments, thread_name_prefix="adopt") as pool:
        for future in [pool.submit(scan_segment, segment) for segment in range(segments)]:
            future.result()
    return AdoptionReport(
        applied=apply,
        scanned=state.state["scanned"],
        findings=[Finding.from_json(f) for f in state.state["found"]],
    )


def _visit(
    table: DynamoTable, key: Item, *, apply: bool, today: dt.date, now: dt.datetime
) -> Finding | None:
    """Adopt the loan or check the application `key` names; None for any other item."""
    pk, sk = str(key["PK"]), str(key["SK"])
    if not pk.startswith("USER#"):
        return None
    user_id = pk.removeprefix("USER#")
    if sk.startswith("LOANAPP#"):
        return _check_application(table, (pk, sk), user_id)
    if sk.startswith("LOAN#") and sk.count("#") == 1:
        return _adopt_loan(table, (pk, sk), user_id, apply=apply, today=today, now=now)
    return None


def _check_application(table: DynamoTable, key: tuple[str, str], user_id: str) -> Finding:
    """An application needs nothing written: it is served as stored if it reads."""
    application_id = key[1].removeprefix("LOANAPP#")
    item = table.get(key)
    if item is None:
        return Finding(
            kind="application",
            user_id=user_id,
            item_id=application_id,
            outcome=Outcome.CHANGED,
            detail="deleted during adoption",
        )
    try:
        decode_loan_application(item)
    except InvariantViolation as exc:
        return Finding(
            kind="application",
            user_id=user_id,
            item_id=application_id,
            outcome=Outcome.UNVERIFIED,
            detail=str(exc),
        )
    return Finding(
        kind="application", user_id=user_id, item_id=application_id, outcome=Outcome.SERVED
    )


def _adopt_loan(
    table: DynamoTable,
    key: tuple[str, str],
    user_id: str,
    *,
    apply: bool,
    today: dt.date,
    now: dt.datetime,
) -> Finding:
    pk, root_sk = key
    loan_id = root_sk.removeprefix("LOAN#")

    def finding(outcome: Outcome, detail: str = "", payments: int = 0, entries: int = 0) -> Finding:
        return Finding(
            kind="loan",
            user_id=user_id,
            item_id=loan_id,
            outcome=outcome,
            detail=detail,
            payments=payments,
            entries=entries,
        )

    items = list(
        table.query(
            "#PK = :pk AND #SK BETWEEN :root AND :bound",
            {":pk": pk, ":root": root_sk, ":bound": keys.after_children(root_sk)},
        )
    )
    root = next((item for item in items if item["SK"] == root_sk), None)
    children = [item for item in items if item["SK"] != root_sk]
    if root is None:
        return finding(Outcome.CHANGED, "deleted during adoption")
    adopted_key = (keys.journal_pk(loan_id), keys.journal_sk(adoption_entry_id(loan_id)))
    if not is_legacy(root) or table.get(adopted_key) is not None:
        return finding(Outcome.SERVED)
    try:
        adoption = adopt(_go_loan(root, children), on=today)
        stored = {str(item["SK"]) for item in children}
        new = [
            p
            for p in adoption.payments
            if keys.loan_payment_sk(loan_id, p.payment_id) not in stored
        ]
        decode_loan(root, [*children, *_payment_items(new)])  # the library's own checks
    except InvariantViolation as exc:
        return finding(Outcome.UNVERIFIED, str(exc))
    actions = [
        *(_unchanged(table, item) for item in items),
        *(_created(table, item) for item in _payment_items(new)),
        _created(table, encode_journal_entry(adoption.entry, posted_at=now, version=0, position=0)),
    ]
    outcome, detail = _write(table, actions, apply=apply)
    return finding(outcome, detail, payments=len(new), entries=1)


def _write(
    table: DynamoTable, actions: list[TransactWriteItemTypeDef], *, apply: bool
) -> tuple[Outcome, str]:
    """Write a loan's adoption in one transaction (a dry run only checks its size)."""
    if len(actions) > TRANSACTION_LIMIT:
        return Outcome.UNVERIFIED, f"{len(actions)} items are too many for one transaction"
    if not apply:
        return Outcome.WOULD_ADOPT, ""
    try:
        table.transact(actions, token=uuid.uuid4().hex)
    except Cancelled:
        return Outcome.CHANGED, "an item changed or appeared since it was read"
    return Outcome.ADOPTED, ""


def _go_loan(root: Item, children: Sequence[Item]) -> GoLoan:
    """The Go loan as stored, its installments' parts and splits derived, not yet verified."""
    installment_items = [c for c in children if "#INSTALLMENT#" in str(c["SK"])]
    upgraded_root, installments = upgrade_legacy_loan(root, installment_items)
    values = LOAN.decode(upgraded_root, where=str(root["SK"]))
    decoded = sorted(
        (Installment(**INSTALLMENT.decode(item, where=str(item["SK"]))) for item in installments),
        key=lambda installment: installment.number,
    )
    return GoLoan(
        user_id=values["user_id"],
        loan_id=values["loan_id"],
        status=values["status"],
        outstanding_balance=values["outstanding_balance"],
        installments=tuple(decoded),
    )


def _payment_items(payments: Sequence[Payment]) -> list[Item]:
    """The payment items this library stores for `payments`."""
    return [encode_loan_payment(payment) for payment in payments]


def _unchanged(table: DynamoTable, item: Item) -> TransactWriteItemTypeDef:
    """A check that `item` is still as read: its version, or (a Go item) every attribute.

    A Go item has no version: each attribute must be equal and none added by a save.
    """
    if not is_legacy(item):
        names = {"#v": VERSION}
        values = {":v": item[VERSION]}
        condition = "#v = :v"
    else:
        ordered = sorted(item)
        names = {"#v": VERSION, **{f"#a{i}": name for i, name in enumerate(ordered)}}
        values = {f":a{i}": item[name] for i, name in enumerate(ordered)}
        condition = " AND ".join(
            ["attribute_not_exists(#v)", *(f"#a{i} = :a{i}" for i in range(len(ordered)))]
        )
    return {
        "ConditionCheck": {
            "TableName": table.name,
            "Key": serialize({"PK": item["PK"], "SK": item["SK"]}),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialize(values),
        }
    }


def _created(table: DynamoTable, item: Item) -> TransactWriteItemTypeDef:
    """A put of a new item, refused if one is there already."""
    return {
        "Put": {
            "TableName": table.name,
            "Item": serialize(item),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }
