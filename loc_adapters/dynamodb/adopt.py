"""Adopting a table the Go service wrote: scan it, and store what this library needs.

An offline maintenance tool, not a use case: it reads raw items (the Go service's, which
no repository returns until they are adopted) and writes raw items, so it talks to the
table directly rather than through the bus. It scans in parallel segments, page by page,
and after each page records the segment's position in a checkpoint file (written
atomically), so an interrupted run resumes where it stopped; a resume with another mode,
segment count or table than the checkpoint records is refused. Each loan it finds is read
whole with one consistent query, verified and adopted by `loc_core.installment.adoption`;
its payments and opening entry are written in one transaction that also checks every
item it read is unchanged, so a concurrent change is reported, never overwritten.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import threading
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from botocore.exceptions import ClientError

from loc_adapters.dynamodb import _keys as keys
from loc_adapters.dynamodb._codecs.loans import (
    INSTALLMENT,
    LOAN,
    LOAN_PAYMENT,
    decode_loan,
    encode_loan_payment,
    upgrade_legacy_loan,
)
from loc_adapters.dynamodb._codecs.records import decode_journal_entry, encode_journal_entry
from loc_adapters.dynamodb._codecs.shared import VERSION, is_legacy
from loc_adapters.dynamodb._convert import Item, format_timestamp
from loc_adapters.dynamodb._errors import error_code, translated
from loc_adapters.dynamodb._ids import LOAN_NUMBERS
from loc_adapters.dynamodb._table import (
    Cancelled,
    ConditionFailed,
    DynamoTable,
    deserialize,
    serialize,
)
from loc_adapters.dynamodb._uow import DynamoUnitOfWork
from loc_adapters.system import SystemClock
from loc_core.errors import InvariantViolation, LocError, NotFound
from loc_core.installment import Installment, Payment
from loc_core.installment.adoption import GoLoan, adopt, adoption_entry_id, readopt
from loc_core.ports import TRANSACTION_LIMIT

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import ScanInputTypeDef, TransactWriteItemTypeDef

__all__ = [
    "AdoptionReport",
    "Finding",
    "LoanNumbers",
    "Outcome",
    "adopt_table",
    "align_loan_numbers",
    "check_table",
]


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
    """``loan``, ``application``, ``line`` or ``line application``."""
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
    def from_json(cls, data: object) -> Finding:
        """A finding a checkpoint file holds.

        Raises:
            ValueError: `data` is not a finding as `as_json` writes it.
        """
        hints = typing.get_type_hints(cls)
        if not isinstance(data, Mapping) or set(data) != set(hints):
            raise ValueError(f"something other than a finding: {data!r}")
        stored = {**hints, "outcome": str}  # an outcome is stored as its value
        wrong = [name for name, kind in stored.items() if type(data[name]) is not kind]
        outcomes = {outcome.value: outcome for outcome in Outcome}
        if wrong or data["outcome"] not in outcomes:
            raise ValueError(f"a finding with a malformed {', '.join(wrong) or 'outcome'}")
        return cls(**{**data, "outcome": outcomes[data["outcome"]]})


@attrs.define(kw_only=True)
class AdoptionReport:
    """What a run found: every loan and application, and the items it scanned.

    A run resumed from a checkpoint reports the whole run, every invocation of it since the
    checkpoint was made (`resumed` says so), not only the last one.
    """

    applied: bool
    scanned: int = 0
    findings: list[Finding] = attrs.field(factory=list)
    resumed: bool = False
    highest_loan_number: int = 0
    """The highest loan number a scanned loan or offer carries (``FM-000042``: 42)."""

    def counts(self) -> dict[str, int]:
        """How many loans and applications ended in each outcome."""
        return {
            outcome.value: sum(f.outcome is outcome for f in self.findings) for outcome in Outcome
        }

    def written(self) -> tuple[int, int]:
        """The payment items and journal entries written (a dry run: that would be)."""
        writes = Outcome.ADOPTED if self.applied else Outcome.WOULD_ADOPT
        adopted = [f for f in self.findings if f.outcome is writes]
        return sum(f.payments for f in adopted), sum(f.entries for f in adopted)

    def as_json(self) -> dict[str, Any]:
        """The report file: counts, then every finding that is not already served."""
        payments, entries = self.written()
        return {
            "applied": self.applied,
            "resumed": self.resumed,
            "scanned": self.scanned,
            "counts": self.counts(),
            "written": {"payments": payments, "entries": entries},
            "findings": [f.as_json() for f in self.findings if f.outcome is not Outcome.SERVED],
        }


_MODES = {True: "apply", False: "dry run"}
"""How a checkpoint names the mode it was made in (`adopt_table`'s `apply`)."""
_FIELDS: dict[str, type] = {
    "mode": str,
    "segments": int,
    "table": str,
    "started": list,
    "positions": dict,
    "scanned": int,
    "found": list,
    "highest": int,
}
"""What a checkpoint holds, and each value's JSON type."""
_JSON_NAMES = {str: "string", int: "number", list: "array", dict: "object"}


@attrs.define(kw_only=True)
class _Checkpoint:
    """Each segment's position and what was found so far, saved after every page.

    It records what a resume must share with the run that made it, and refuses a resume
    that differs: the mode (a dry run marks segments done without writing them), the
    segments (a position is one segment's) and the table (a position is one of its keys).
    It also records when each invocation started, the time its journal entries are posted
    at, so a loan adopted after the last save of an interrupted invocation is still
    counted as this run's when the resume finds it adopted.
    """

    path: Path | None
    run: dict[str, Any]
    """The mode, segments and table of this invocation, as the checkpoint holds them."""
    started: str
    """When this invocation started, as its journal entries' ``loc_posted_at``."""
    state: dict[str, Any] = attrs.field(factory=dict)
    earlier: frozenset[str] = frozenset()
    """When the invocations this one resumes started."""
    lock: threading.Lock = attrs.field(factory=threading.Lock)

    def load(self) -> None:
        """Read the checkpoint (or start one), refuse it if it cannot be resumed, and save.

        Raises:
            InvariantViolation: the file cannot be read or written, is not a checkpoint
                this module wrote, or was made with another mode, segments or table.
        """
        if self.path is not None and self.path.exists():
            self.state = _read_checkpoint(self.path)
            self._refuse_another_run()
        else:
            self.state = {
                **self.run,
                "started": [],
                "positions": {},
                "scanned": 0,
                "found": [],
                "highest": 0,
            }
        self.earlier = frozenset(self.state["started"])
        self.state["started"].append(self.started)
        self._save()  # before any write, so an interruption after one still knows this run

    @property
    def resumed(self) -> bool:
        """Whether an earlier invocation made the checkpoint."""
        return bool(self.earlier)

    def _refuse_another_run(self) -> None:
        saved, run = self.state, self.run
        if saved["mode"] != run["mode"]:
            why = (
                "was made by a dry run, which wrote nothing, and this is an --apply run: "
                "use a new file (or drop --apply to finish the dry run)"
                if saved["mode"] == "dry run"
                else "was made by an --apply run, and this is a dry run: add --apply to "
                "resume it, or use a new file"
            )
            raise self._refusal(why, option="apply", invariant="checkpoint_mode")
        if saved["segments"] != run["segments"]:
            raise self._refusal(
                f"was made with {saved['segments']} segments, not {run['segments']}: "
                "use the same --segments or a new file",
                option="segments",
                invariant="checkpoint_segments",
            )
        if saved["table"] != run["table"]:
            raise self._refusal(
                f"was made on table {saved['table']}, not {run['table']}: use a new file",
                option="table",
                invariant="checkpoint_table",
            )

    def _refusal(self, why: str, *, option: str, invariant: str) -> InvariantViolation:
        """A resume refused: `option` differs from the run that made the checkpoint."""
        return InvariantViolation(
            f"checkpoint {self.path} {why}",
            entity="checkpoint",
            entity_id=str(self.path),
            key=option,
            invariant=invariant,
        )

    def position(self, segment: int) -> tuple[bool, dict[str, Any] | None]:
        """Whether `segment` is done, and where it stopped."""
        stored = self.state["positions"].get(str(segment), {"done": False, "key": None})
        return stored["done"], stored["key"]

    def page_done(
        self,
        segment: int,
        key: dict[str, Any] | None,
        scanned: int,
        found: list[Finding],
        highest: int,
    ) -> None:
        with self.lock:
            self.state["positions"][str(segment)] = {"done": key is None, "key": key}
            self.state["scanned"] += scanned
            self.state["highest"] = max(self.state["highest"], highest)
            self.state["found"].extend(f.as_json() for f in found)
            self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        temporary = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}")
        try:
            temporary.write_text(json.dumps(self.state, sort_keys=True))
            temporary.replace(self.path)  # atomic: a crash leaves the old or the new
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise InvariantViolation(
                f"cannot save checkpoint {self.path}: {exc.strerror or exc}",
                entity="checkpoint",
                entity_id=str(self.path),
                invariant="checkpoint_saved",
            ) from exc


def _read_checkpoint(path: Path) -> dict[str, Any]:
    """The state a checkpoint file holds, its shape checked.

    Raises:
        InvariantViolation: it cannot be read, or is not a checkpoint this module wrote.
    """
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _unusable(path, f"it cannot be read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise _unusable(path, "it is not text") from exc
    except json.JSONDecodeError as exc:
        raise _unusable(path, f"it is not JSON ({exc})") from exc
    if not isinstance(state, dict):
        held = _JSON_NAMES.get(type(state), type(state).__name__)
        raise _unusable(path, f"it holds a JSON {held}, not an object")
    state.setdefault("highest", 0)  # saved before loan numbers were counted
    problem = _shape_problem(state)
    if problem is not None:
        raise _unusable(path, problem)
    return state


def _shape_problem(state: dict[str, Any]) -> str | None:
    """What makes `state` other than a checkpoint `_Checkpoint` saves; None if nothing."""
    for name, kind in _FIELDS.items():
        if type(state.get(name)) is not kind:
            return f"its {name!r} is missing or not a JSON {_JSON_NAMES[kind]}"
    if state["mode"] not in _MODES.values() or state["segments"] < 1 or state["scanned"] < 0:
        return "its mode, segments or count scanned is out of range"
    if not all(type(started) is str for started in state["started"]):
        return "its 'started' holds something other than times"
    for segment, position in state["positions"].items():
        if not (
            segment.isdigit()
            and int(segment) < state["segments"]
            and isinstance(position, dict)
            and type(position.get("done")) is bool
            and (position.get("key") is None or type(position["key"]) is dict)
        ):
            return f"the position of segment {segment!r} is malformed"
    for finding in state["found"]:
        try:
            Finding.from_json(finding)
        except ValueError as exc:
            return f"it holds {exc}"
    return None


def _unusable(path: Path | None, why: str) -> InvariantViolation:
    return InvariantViolation(
        f"checkpoint {path} cannot be resumed: {why}; use a new file",
        entity="checkpoint",
        entity_id=str(path),
        invariant="checkpoint_shape",
    )


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
    A dry run (`apply` False) writes nothing but the checkpoint. A `checkpoint` that exists
    is resumed, and the report covers the whole run, every invocation since it was made.

    Raises:
        InvariantViolation: `checkpoint` cannot be read, is not a checkpoint, or was made
            with another mode, segments or table (`key` names which): raised before the
            scan, nothing written; or it cannot be saved (what was adopted until then
            stays adopted, and a resume from the last save counts it).
    """
    client = table.client.meta
    check_table(table)
    state = _Checkpoint(
        path=checkpoint,
        run={
            "mode": _MODES[apply],
            "segments": segments,
            "table": f"{table.name} in {client.region_name} at {client.endpoint_url}",
        },
        started=format_timestamp(now),
    )
    state.load()

    def scan_segment(segment: int) -> None:
        done, key = state.position(segment)
        pages = 0
        while not done and (stop_after_pages is None or pages < stop_after_pages):
            request: ScanInputTypeDef = {
                "TableName": table.name,
                "Segment": segment,
                "TotalSegments": segments,
                "ProjectionExpression": "PK, SK, loc_loan_number",
                "ConsistentRead": True,
            }
            if table.page_size is not None:
                request["Limit"] = table.page_size
            if key is not None:
                request["ExclusiveStartKey"] = key
            with translated("Scan", table=table.name):
                page = table.client.scan(**request)
            found = [
                finding
                for raw in page.get("Items", [])
                if (
                    finding := _visit(
                        table,
                        deserialize(raw),
                        apply=apply,
                        today=today,
                        now=now,
                        earlier=state.earlier,
                    )
                )
                is not None
            ]
            highest = max(map(_loan_number, page.get("Items", [])), default=0)
            key = page.get("LastEvaluatedKey")
            done = key is None
            state.page_done(segment, key, len(page.get("Items", [])), found, highest)
            progress(len(page.get("Items", [])))
            pages += 1

    with ThreadPoolExecutor(max_workers=segments, thread_name_prefix="adopt") as pool:
        for future in [pool.submit(scan_segment, segment) for segment in range(segments)]:
            future.result()
    return AdoptionReport(
        applied=apply,
        scanned=state.state["scanned"],
        findings=[Finding.from_json(f) for f in state.state["found"]],
        resumed=state.resumed,
        highest_loan_number=state.state["highest"],
    )


@attrs.frozen
class LoanNumbers:
    """The loan-number counter against the numbers the table's loans and offers carry."""

    highest: int
    """The highest number a loan or application on the table carries (``FM-000042``: 42)."""
    counter: int
    """The counter's value before: the last number this library handed out (0: none)."""
    raised: bool
    """Whether the counter was set to `highest` (a dry run never sets it)."""

    @property
    def behind(self) -> bool:
        """Whether the counter would hand out a number already issued."""
        return self.highest > self.counter


_LOAN_NUMBER = re.compile(r"[A-Z]+-([0-9]+)")


def _loan_number(raw: Mapping[str, Any]) -> int:
    """The number in a scanned item's ``loc_loan_number`` (``FM-000042``: 42); 0 for none."""
    number = deserialize(raw).get("loc_loan_number")
    found = _LOAN_NUMBER.fullmatch(number) if isinstance(number, str) else None
    return 0 if found is None else int(found[1])


def align_loan_numbers(table: DynamoTable, *, highest: int, apply: bool) -> LoanNumbers:
    """Raise the loan-number counter to `highest`, the highest number the table carries.

    The Go service numbered its loans and offers itself; this library numbers new ones
    from ``COUNTER#LOAN_NUMBER``. Were that counter behind what the Go service issued, a
    new offer would reuse a number a borrower already holds. `adopt_table`'s scan reads
    each item's ``loc_loan_number`` (`AdoptionReport.highest_loan_number`); when `apply`,
    the counter is set to it on the condition that it is still lower (a number handed
    out meanwhile is never taken back).
    """
    stored = table.get(keys.counter_key(LOAN_NUMBERS))
    counter = int(stored.get("loc_value", 0)) if stored is not None else 0
    if not apply or highest <= counter:
        return LoanNumbers(highest=highest, counter=counter, raised=False)
    try:
        table.update(
            keys.counter_key(LOAN_NUMBERS),
            update="SET #loc_value = :highest",
            values={":highest": highest},
            condition="attribute_not_exists(#loc_value) OR #loc_value < :highest",
        )
    except ConditionFailed:  # numbers were handed out past it meanwhile: nothing to raise
        return LoanNumbers(highest=highest, counter=counter, raised=False)
    return LoanNumbers(highest=highest, counter=counter, raised=True)


def check_table(table: DynamoTable) -> None:
    """Refuse, before anything is written (the checkpoint included), a table that is not one.

    Raises:
        NotFound: no such table in that region (a wrong name or region).
        InvariantViolation: the table is not keyed by ``PK`` and ``SK`` (another table,
            such as the Go service's lock table).
        ExternalServiceError: DynamoDB could not be reached or refused the call.
    """
    where = f"{table.client.meta.region_name}" + (
        f" at {table.client.meta.endpoint_url}" if table.client.meta.endpoint_url else ""
    )
    try:
        with translated("DescribeTable"):
            try:
                described = table.client.describe_table(TableName=table.name)["Table"]
            except ClientError as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise
                raise NotFound(
                    f"table {table.name} does not exist in {where}: check LOC_TABLE_NAME "
                    "and LOC_REGION",
                    entity="table",
                    entity_id=table.name,
                ) from exc
    except InvariantViolation as exc:  # DynamoDB refused the name itself
        raise NotFound(
            f"table {table.name!r} cannot exist in {where}: {exc}",
            entity="table",
            entity_id=table.name,
        ) from exc
    schema = {key["KeyType"]: key["AttributeName"] for key in described.get("KeySchema", [])}
    if schema != {"HASH": "PK", "RANGE": "SK"}:
        raise InvariantViolation(
            f"table {table.name} in {where} is not a loc table: its key is "
            f"{', '.join(schema.values()) or 'unknown'}, not PK, SK",
            entity="table",
            entity_id=table.name,
            invariant="loc_table",
        )


def _visit(
    table: DynamoTable,
    key: Item,
    *,
    apply: bool,
    today: dt.date,
    now: dt.datetime,
    earlier: frozenset[str],
) -> Finding | None:
    """Adopt the loan or check the application `key` names; None for any other item.

    `earlier` holds when the invocations this one resumes started (see `_adopt_loan`).
    """
    pk, sk = str(key["PK"]), str(key["SK"])
    if not pk.startswith("USER#"):
        return None
    user_id = pk.removeprefix("USER#")
    if sk.startswith("LOANAPP#"):
        return _check_readable(table, (pk, sk), user_id, "application")
    if sk.startswith("LOAN#") and sk.count("#") == 1:
        return _adopt_loan(
            table, (pk, sk), user_id, apply=apply, today=today, now=now, earlier=earlier
        )
    if sk.startswith("LOCAPP#"):
        return _check_readable(table, (pk, sk), user_id, "line application")
    if sk.startswith("LOC#") and sk.count("#") == 1:
        return _check_readable(table, (pk, sk), user_id, "line")
    return None


def _check_readable(table: DynamoTable, key: tuple[str, str], user_id: str, kind: str) -> Finding:
    """An item this library serves as stored (an application, a line): does it read?

    It is read as every command reads it, through its repository (`_SERVED`). Nothing is
    written. One that does not read is reported ``does not verify``, so a Go item of a
    layout this library does not know is found before the cutover, not by the first
    command that meets it.
    """
    item_id = key[1].split("#", 1)[1]

    def finding(outcome: Outcome, detail: str = "") -> Finding:
        return Finding(kind=kind, user_id=user_id, item_id=item_id, outcome=outcome, detail=detail)

    with DynamoUnitOfWork(table, clock=SystemClock()) as uow:
        try:
            _SERVED[kind](uow, user_id, item_id)
        except NotFound as exc:  # gone since the scan, unless its ids cannot be stored
            if keys.storable(user_id) and keys.storable(item_id):
                return finding(Outcome.CHANGED, "deleted during adoption")
            return finding(Outcome.UNVERIFIED, _unreadable(exc))
        except Exception as exc:  # noqa: BLE001 - any item that cannot be read is reported
            return finding(Outcome.UNVERIFIED, _unreadable(exc))
    return finding(Outcome.SERVED)


_SERVED: dict[str, Callable[[DynamoUnitOfWork, str, str], object]] = {
    "application": lambda uow, user_id, item_id: uow.loan_applications.get(user_id, item_id),
    "line application": lambda uow, user_id, item_id: uow.line_applications.get(user_id, item_id),
    "line": lambda uow, user_id, item_id: uow.lines.get(user_id, item_id),
}
"""How each kind `_check_readable` checks is read: its repository's ``get``."""


def _adopt_loan(
    table: DynamoTable,
    key: tuple[str, str],
    user_id: str,
    *,
    apply: bool,
    today: dt.date,
    now: dt.datetime,
    earlier: frozenset[str],
) -> Finding:
    """Adopt one loan, or say why not; `earlier` as `_visit` has it."""
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
    if not is_legacy(root):
        return finding(Outcome.SERVED)
    adopted_key = (keys.journal_pk(loan_id), keys.journal_sk(adoption_entry_id(loan_id)))
    adopted = table.get(adopted_key)
    if adopted is not None and adopted.get("loc_posted_at") in earlier:
        # adopted by an interrupted invocation of this run after its last save: this
        # run's. Each payment item of a loan whose item is still the Go service's is one
        # adoption wrote (a use case's write would have versioned the loan's item).
        payments = sum("#PAYMENT#" in str(child["SK"]) for child in children)
        detail = "adopted before the run was interrupted"
        return finding(Outcome.ADOPTED, detail, payments=payments, entries=1)
    if adopted is not None:
        return _readopt(
            table,
            items,
            root,
            children,
            finding,
            apply=apply,
            today=today,
            now=now,
            earlier=earlier,
        )
    try:
        adoption = adopt(_go_loan(root, children), on=today)
        stored = {str(item["SK"]) for item in children}
        new = [
            p
            for p in adoption.payments
            if keys.loan_payment_sk(loan_id, p.payment_id) not in stored
        ]
        decode_loan(root, [*children, *_payment_items(new)])  # the library's own checks
    except Exception as exc:  # noqa: BLE001 - any item that cannot be read is reported
        return finding(Outcome.UNVERIFIED, _unreadable(exc))
    actions = [
        *(_unchanged(table, item) for item in items),
        *(_created(table, item) for item in _payment_items(new)),
        _created(table, encode_journal_entry(adoption.entry, posted_at=now, version=0, position=0)),
    ]
    outcome, detail = _write(table, actions, apply=apply, entry=adopted_key)
    writes = outcome in {Outcome.ADOPTED, Outcome.WOULD_ADOPT}  # else nothing, nor would be
    return finding(outcome, detail, payments=len(new) if writes else 0, entries=int(writes))


_NEW_PAYMENTS = re.compile(r"with (\d+) new payments$")
"""How many payments a re-adoption wrote, as its entry's memo says (`readopt`)."""


def _readopt(
    table: DynamoTable,
    items: Sequence[Item],
    root: Item,
    children: Sequence[Item],
    finding: Callable[..., Finding],
    *,
    apply: bool,
    today: dt.date,
    now: dt.datetime,
    earlier: frozenset[str],
) -> Finding:
    """Adopt again a loan the Go service changed since its adoption, or say it is served.

    Its journal is read whole; the new payments and the ``adopted`` entry that brings the
    books to the loan as stored (`readopt`) are written in one transaction, on condition
    that every item read is unchanged and the entry is new (a concurrent run writes it
    once). A re-adoption an interrupted invocation of this run wrote (`earlier`) is
    counted as this run's.
    """
    loan_id = str(root["SK"]).removeprefix("LOAN#")
    journal = [
        (item, decode_journal_entry(item)[1])
        for item in table.query("#PK = :pk", {":pk": keys.journal_pk(loan_id)})
    ]
    journal.sort(key=lambda pair: _adoption_number(pair[1].entry_id))
    try:
        go_loan = _go_loan(root, children)
        stored = {
            payment.payment_id: payment
            for payment in (
                Payment(**LOAN_PAYMENT.decode(child, where=str(child["SK"])))
                for child in children
                if "#PAYMENT#" in str(child["SK"])
            )
        }
        readoption = readopt(go_loan, stored=stored, posted=[e for _, e in journal], on=today)
        if readoption is not None:
            decode_loan(root, [*children, *_payment_items(readoption.payments)])
    except Exception as exc:  # noqa: BLE001 - any item that cannot be read is reported
        return finding(Outcome.UNVERIFIED, _unreadable(exc))
    if readoption is None:
        last_item, last = journal[-1]
        wrote = _NEW_PAYMENTS.search(last.memo)
        if len(journal) > 1 and last_item.get("loc_posted_at") in earlier and wrote:
            detail = "adopted again before the run was interrupted"
            return finding(Outcome.ADOPTED, detail, payments=int(wrote[1]), entries=1)
        return finding(Outcome.SERVED)
    entry_key = (keys.journal_pk(loan_id), keys.journal_sk(readoption.entry.entry_id))
    actions = [
        *(_unchanged(table, item) for item in items),
        *(_unchanged(table, item) for item, _ in journal),
        *(_created(table, item) for item in _payment_items(readoption.payments)),
        _created(
            table, encode_journal_entry(readoption.entry, posted_at=now, version=0, position=0)
        ),
    ]
    outcome, detail = _write(table, actions, apply=apply, entry=entry_key)
    writes = outcome in {Outcome.ADOPTED, Outcome.WOULD_ADOPT}
    if writes:
        detail = f"again: the Go service changed it since its adoption ({readoption.entry.memo})"
    return finding(
        outcome,
        detail,
        payments=len(readoption.payments) if writes else 0,
        entries=int(writes),
    )


def _adoption_number(entry_id: str) -> int:
    """The place of an adoption entry in its loan's (1: the first, ``<loan>:adopted``)."""
    suffix = entry_id.rsplit(":", 1)[-1]
    return int(suffix) if suffix.isdigit() else 1


def _unreadable(exc: Exception) -> str:
    """Why a Go item cannot be adopted, in one line.

    Adoption reads items another program wrote, so decoding may fail in any way, not only
    with the library's errors (an unknown status, a garbled date, a list that is a map):
    each is this one item's finding, never the end of the run.
    """
    why = str(exc) if isinstance(exc, LocError) else f"it cannot be read ({exc!s})"
    return " ".join(why.split()) or type(exc).__name__


def _write(
    table: DynamoTable,
    actions: list[TransactWriteItemTypeDef],
    *,
    apply: bool,
    entry: tuple[str, str],
) -> tuple[Outcome, str]:
    """Write a loan's adoption in one transaction (a dry run only checks its size).

    Cancelled because its adoption `entry` appeared meanwhile, the loan was adopted by
    another run at the same time: served, not changed.
    """
    if len(actions) > TRANSACTION_LIMIT:
        return Outcome.UNVERIFIED, f"{len(actions)} items are too many for one transaction"
    if not apply:
        return Outcome.WOULD_ADOPT, ""
    try:
        table.transact(actions, token=uuid.uuid4().hex)
    except Cancelled as exc:
        other = sorted({code for code, _ in exc.reasons} - _CHANGED_CODES)
        if other:  # throttled, or another transaction on one of its items: nothing written
            return Outcome.CHANGED, f"DynamoDB cancelled the write ({', '.join(other)})"
        if table.get(entry) is not None:
            return Outcome.SERVED, "adopted meanwhile by another run"
        return Outcome.CHANGED, "an item changed or appeared since it was read"
    return Outcome.ADOPTED, ""


_CHANGED_CODES = frozenset({"", "None", "ConditionalCheckFailed"})
"""A cancelled adoption's reasons that mean an item is not as it was read."""


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
