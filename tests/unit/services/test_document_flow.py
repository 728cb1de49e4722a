"""Documents in the flow: agreements on approval, statement PDFs on billing, the retry job."""

import datetime as dt
import json

import attrs
import pytest
from click.testing import CliRunner
from deployment import LINES_OPENED, Deployment

from loc_adapters.memory import InMemoryDocumentStore, TextRenderer
from loc_core.errors import DomainError, ExternalServiceError, InvalidRequest, NotFound
from loc_core.ports import DocumentStore, Severity, agreement_key, statement_key
from loc_core.services import filing
from loc_core.services.commands import (
    RENDER_DOCUMENT,
    DocumentKind,
    GetApplicationAgreement,
    GetLine,
    GetStatementDocument,
    RenderDocument,
)
from loc_core.services.filing import DocumentFiler, RenderMissingDocuments
from loc_entrypoints.cli import main
from loc_entrypoints.jobs import run_job

VISIBILITY = dt.timedelta(minutes=5)

CLOSE = dt.date(2026, 4, 5)


class Recorded(InMemoryDocumentStore):
    """The memory store, counting puts by key."""

    puts: list[str]

    def __init__(self) -> None:
        super().__init__()
        self.puts = []

    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        self.puts.append(key)
        super().put(key, body, content_type=content_type)


def rendering(world: Deployment, *, fail: int = 0) -> tuple[Deployment, Recorded, TextRenderer]:
    """`world` with a text renderer (failing its first `fail` calls) and a counting store."""
    store, renderer = Recorded(), TextRenderer(fail_next=fail)
    filer = DocumentFiler(store, world.users, world.alerter, world.queue, renderer)
    world.bus = world.bus.replacing({DocumentStore: store, DocumentFiler: filer})
    world.users.add("user-1")
    return world, store, renderer


def run_documents_job(world: Deployment) -> filing.DocumentsReport:
    return world.bus.handle(RenderMissingDocuments())


def work(world: Deployment) -> list[object]:
    """One pass of a worker over the queue: ack what succeeds, keep what raises."""
    outcomes: list[object] = []
    for delivery in world.queue.receive(max_messages=10, visibility=VISIBILITY):
        try:
            outcomes.append(world.bus.handle_message(delivery.message))
        except ExternalServiceError as exc:
            outcomes.append(exc)
            continue
        world.queue.ack(delivery)
    return outcomes


# --- approval -------------------------------------------------------------------------


def test_an_approval_stores_the_agreement_and_its_key_on_the_application() -> None:
    world, store, _ = rendering(Deployment.build())
    application = world.apply_loan()
    key = agreement_key("user-1", application.application_id)
    assert application.agreement_key == key
    assert world.loan_application(application.application_id).agreement_key == key
    body = store.get(key)
    assert body.startswith(b"loc text rendering\nagreement\n")
    assert b"Borrower user-1" in body
    assert store.documents[key].content_type == "application/pdf"
    link = world.bus.handle(GetApplicationAgreement("user-1", application.application_id))
    assert link.url == f"/documents/{key}"


def test_a_repeated_approval_renders_once() -> None:
    world, store, renderer = rendering(Deployment.build())
    first = world.apply_loan()
    again = world.apply_loan()  # the same idempotency key: the first answer
    assert again.application_id == first.application_id
    assert (renderer.rendered, store.puts) == (1, [first.agreement_key])


def test_a_failed_agreement_never_blocks_the_approval_and_the_job_renders_it() -> None:
    world, store, _ = rendering(Deployment.build(), fail=1)
    application = world.apply_loan()
    assert application.status.value == "APPROVED"
    assert application.agreement_key is None
    assert store.documents == {}
    (alert,) = world.alerts(Severity.WARNING)
    assert alert.title == "agreement document not rendered; queued for a retry"
    world.accept_loan(application.application_id)  # the borrower goes on: money moves
    report = run_documents_job(world)
    key = agreement_key("user-1", application.application_id)
    assert (report.rendered, report.failed) == ((key,), ())
    assert world.loan_application(application.application_id).agreement_key == key
    before = dict(store.documents)
    again = run_documents_job(world)
    assert (again.rendered, again.failed, again.present) == ((), (), 1)
    assert store.documents == before


def test_without_a_renderer_nothing_is_rendered_and_the_link_is_not_found() -> None:
    world = Deployment.build()
    filer = world.bus.get(DocumentFiler)
    world.bus = world.bus.replacing({DocumentFiler: attrs.evolve(filer, renderer=None)})
    world.users.add("user-1")
    application = world.apply_loan()
    assert application.agreement_key is None
    with pytest.raises(NotFound):
        world.bus.handle(GetApplicationAgreement("user-1", application.application_id))
    assert run_documents_job(world) == filing.DocumentsReport((), (), 0)


# --- billing --------------------------------------------------------------------------


@pytest.fixture
def lines_world() -> Deployment:
    return Deployment.build(now=LINES_OPENED, seed=11)


def drawn_line(world: Deployment) -> tuple[str, str]:
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    return line.user_id, line.line_id


def billed_line(world: Deployment) -> tuple[str, str, str]:
    """A drawn line billed at `CLOSE`: its user, its id and its statement's key."""
    user_id, line_id = drawn_line(world)
    return user_id, line_id, bill(world, user_id, line_id)


def bill(world: Deployment, user_id: str, line_id: str) -> str:
    """Bill the drawn line at `CLOSE`: its statement's key."""
    world.at(CLOSE, 8)
    world.bill()
    return statement_key(user_id, line_id, CLOSE)


def statements_rendering(
    world: Deployment, *, fail: int = 0
) -> tuple[Deployment, Recorded, TextRenderer, str, str]:
    """`rendering`, and a drawn line whose account-opening disclosure is filed: what the
    store's `puts` and the renderer (failing its next `fail` calls) see next is the
    line's statements alone."""
    world, store, renderer = rendering(world)
    user_id, line_id = drawn_line(world)
    assert list(store.documents) == store.puts  # the disclosure, filed as the offer was made
    store.puts.clear()
    renderer.rendered, renderer.fail_next = 0, fail
    return world, store, renderer, user_id, line_id


def test_billing_stores_the_statement_before_the_notification_with_its_route(
    lines_world: Deployment,
) -> None:
    world, store, _ = rendering(lines_world)
    user_id, line_id, key = billed_line(world)
    assert store.get(key).startswith(b"loc text rendering\nstatement\n")
    ready = world.notifier.sent[-1]
    assert ready.data["document"] == f"/lines/{line_id}/statements/2026-04-05/document"
    link = world.bus.handle(GetStatementDocument(user_id, line_id, CLOSE))
    assert link.url == f"/documents/{key}"


def test_a_failed_statement_is_alerted_billing_commits_the_job_renders_it_once(
    lines_world: Deployment,
) -> None:
    world, store, renderer, user_id, line_id = statements_rendering(lines_world, fail=1)
    world.at(CLOSE, 8)
    report = world.bill()
    assert report.acted == (line_id,)  # billing committed
    assert world.sent()[-1] == "loc_statement_ready"  # and the borrower was told
    assert statement_key(user_id, line_id, CLOSE) not in store.documents
    assert [a.title for a in world.alerts(Severity.WARNING)] == [
        "statement document not rendered; queued for a retry"
    ]
    key = statement_key(user_id, line_id, CLOSE)
    assert run_documents_job(world).rendered == (key,)
    body = store.get(key)
    assert run_documents_job(world).rendered == ()
    assert (store.get(key), store.puts, renderer.rendered) == (body, [key], 1)


def test_a_statement_event_delivered_twice_stores_the_same_bytes(
    lines_world: Deployment,
) -> None:
    world, store, _, user_id, line_id = statements_rendering(lines_world)
    key = bill(world, user_id, line_id)
    body = store.get(key)
    world.bus.publish([world.notifier.sent[-1]])
    assert store.get(key) == body
    assert store.puts == [key, key]


# --- the queue retry ------------------------------------------------------------------


def test_an_unaccepted_offers_failed_agreement_is_queued_and_the_worker_renders_it() -> None:
    world, store, renderer = rendering(Deployment.build(), fail=1)
    application = world.apply_loan()  # approved, not accepted: the job would not see it
    key = agreement_key("user-1", application.application_id)
    (alert,) = world.alerts(Severity.WARNING)
    assert alert.details["key"] == key
    assert len(world.queue) == 1
    assert work(world) == [True]
    assert world.loan_application(application.application_id).agreement_key == key
    link = world.bus.handle(GetApplicationAgreement("user-1", application.application_id))
    assert link.url == f"/documents/{key}"
    body = store.get(key)
    world.queue.send(
        [RenderDocument(DocumentKind.AGREEMENT, "user-1", application.application_id).message()]
    )
    assert work(world) == [False]  # delivered twice: the stored agreement is left alone
    assert (store.get(key), store.puts, renderer.rendered, len(world.queue)) == (body, [key], 1, 0)


def test_a_retry_that_fails_again_stays_on_the_queue_until_it_succeeds() -> None:
    world, store, _ = rendering(Deployment.build(), fail=2)
    application = world.apply_loan()
    (failure,) = work(world)
    assert isinstance(failure, ExternalServiceError)
    assert store.documents == {}
    world.clock.advance(VISIBILITY)
    assert work(world) == [True]
    assert world.loan_application(application.application_id).agreement_key is not None
    assert len(world.queue) == 0


def test_a_failed_statement_is_queued_and_the_worker_stores_it_once(
    lines_world: Deployment,
) -> None:
    world, store, _, user_id, line_id = statements_rendering(lines_world, fail=1)
    key = bill(world, user_id, line_id)
    assert work(world) == [True]
    body = store.get(key)
    world.queue.send([RenderDocument(DocumentKind.STATEMENT, user_id, line_id, CLOSE).message()])
    assert work(world) == [False]
    assert (store.get(key), store.puts) == (body, [key])
    assert run_documents_job(world).rendered == ()


@attrs.define
class DownQueue:
    """A work queue that refuses every send (SQS down)."""

    def send(self, messages: object) -> None:
        raise ExternalServiceError(f"SQS is down; {messages!r} not sent")


def test_a_failure_the_queue_refuses_too_is_a_critical_alert() -> None:
    world, store, renderer = rendering(Deployment.build(), fail=1)
    filer = DocumentFiler(store, world.users, world.alerter, DownQueue(), renderer)  # type: ignore[arg-type]  # only send is used
    world.bus = world.bus.replacing({DocumentFiler: filer})
    application = world.apply_loan()
    assert application.status.value == "APPROVED"
    (alert,) = world.alerts()
    assert alert.severity is Severity.CRITICAL
    assert alert.title == "agreement document not rendered and not queued for a retry"
    assert "SQS is down" in str(alert.details["queue_error"])


def test_a_render_document_message_reads_back_and_a_malformed_one_is_refused() -> None:
    statement = RenderDocument(DocumentKind.STATEMENT, "user-1", "line-1", CLOSE)
    message = statement.message()
    assert (message.kind, message.deduplication_id) == (RENDER_DOCUMENT, statement.key)
    assert RenderDocument.from_message(message) == statement
    agreement = RenderDocument(DocumentKind.AGREEMENT, "user-1", "app-1")
    assert RenderDocument.from_message(agreement.message()) == agreement
    for body in (
        {**message.body, "document": "receipt"},
        {**message.body, "statement_date": "yesterday"},
        {**message.body, "statement_date": None},
        {**agreement.message().body, "user_id": ""},
    ):
        with pytest.raises(DomainError):
            RenderDocument.from_message(attrs.evolve(message, body=body))
    with pytest.raises(DomainError):
        RenderDocument.from_message(attrs.evolve(message, kind="resend_notification"))


def test_the_documents_job_runs_from_the_cli_and_renders_what_is_missing(
    lines_world: Deployment,
) -> None:
    # the commit and the worker fail
    world, store, renderer, user_id, line_id = statements_rendering(lines_world, fail=2)
    key = bill(world, user_id, line_id)
    assert isinstance(work(world)[0], ExternalServiceError)
    result = CliRunner().invoke(main, ["job", "run", "documents_job"], obj={"bus": world.bus})
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["job"], summary["processed"], summary["failed"]) == ("documents_job", 1, 0)
    assert store.puts == [key]
    world.clock.advance(VISIBILITY)
    assert work(world) == [False]  # the queued retry finds it stored
    assert renderer.rendered == 1


# --- the documents job, page by page ---------------------------------------------------


def missing_everywhere(world: Deployment) -> tuple[Deployment, Recorded, set[str]]:
    """Three loans and a billed line whose documents all failed to render: their keys.

    The line's are its account-opening disclosure and its statement.
    """
    # three approvals, the line's approval and its statement fail
    world, store, _ = rendering(world, fail=5)
    keys = set()
    for user in ("user-1", "user-2", "user-3"):
        world.users.add(user)
        application = world.apply_loan(user, key=f"apply-{user}")
        world.accept_loan(application.application_id, user)
        keys.add(agreement_key(user, application.application_id))
    _, line_id, statement = billed_line(world)  # user-1's line, drawn and billed at CLOSE
    keys.add(statement)
    keys.add(agreement_key("user-1", world.bus.handle(GetLine("user-1", line_id)).application_id))
    assert store.documents == {}
    return world, store, keys


def test_pages_render_every_missing_document_once_and_end_with_no_cursor(
    lines_world: Deployment,
) -> None:
    world, store, keys = missing_everywhere(lines_world)
    cursors: list[str | None] = []
    command = RenderMissingDocuments(page_size=2)
    rendered: list[str] = []
    while True:
        page = world.bus.handle(command)
        rendered += page.rendered
        cursors.append(page.cursor)
        if page.cursor is None:
            break
        command = attrs.evolve(command, cursor=page.cursor)
    assert sorted(rendered) == sorted(keys)
    assert sorted(store.puts) == sorted(keys)  # each stored once
    assert cursors[0] is not None
    assert cursors[0].startswith("loans:")
    assert any(c is not None and c.startswith("lines:") for c in cursors)
    assert cursors[-1] is None
    again = world.bus.handle(RenderMissingDocuments())  # the whole book in one run
    assert (again.rendered, again.failed, again.present) == ((), (), len(keys))


@pytest.mark.parametrize("cursor", ["user-1/loan-1", "loans:zzz", "lines:[1", "LOANS:"])
def test_a_cursor_the_job_did_not_give_is_refused_and_nothing_is_rendered(
    lines_world: Deployment, cursor: str
) -> None:
    world, store, _ = missing_everywhere(lines_world)
    with pytest.raises(InvalidRequest, match="cursor"):
        world.bus.handle(RenderMissingDocuments(cursor=cursor, page_size=2))
    assert store.puts == []


def test_a_lambda_short_of_time_hands_the_rest_to_a_worker(lines_world: Deployment) -> None:
    world, store, keys = missing_everywhere(lines_world)
    summary = run_job("documents_job", world.bus, remaining_ms=lambda: 0)
    assert summary.details["handed_on"] is True
    assert len(store.puts) == 3  # the first page: the three loans' agreements
    for _ in range(10):  # the worker follows the handed-on pages to the end
        if not work(world):
            break
    assert sorted(store.puts) == sorted(keys)
