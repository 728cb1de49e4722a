"""``loc simulate --documents N``: a sample of borrowers' documents, written as files.

During the run nothing is rendered (documents are outside the ledger, and rendering a
whole book would only slow it: `World.build` registers a filer without a renderer).
After the run, `DocumentSample` picks N borrowers with the run's seed among those with
an approved loan application or a line with a statement, renders each one's agreements
and each line's latest statement through the bus (`RenderDocument`), and writes them to
``<out>/documents/<user>/agreement-<application>.pdf`` and
``<out>/documents/<user>/statement-<line>-<date>.pdf``.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from loc_adapters.memory import InMemoryDocumentStore
from loc_core.applications import ApplicationStatus
from loc_core.ports import DocumentStore, UnitOfWork
from loc_core.services.commands import DocumentKind, RenderDocument
from loc_core.services.filing import DocumentFiler

if TYPE_CHECKING:
    from loc_core.ports.documents import DocumentRenderer
    from loc_entrypoints.simulation.world import World

__all__ = ["DocumentSample"]


@attrs.define
class DocumentSample:
    """Render the documents of `count` borrowers chosen with `seed` into `folder`."""

    folder: Path
    count: int
    seed: int
    renderer: DocumentRenderer
    written: list[Path] = attrs.field(factory=list, init=False)
    """The files written, in order."""

    def __call__(self, world: World) -> None:
        """Render and write the sample's documents from the world a run left.

        Raises:
            LocError: a document could not be rendered (the run's report is already made).
        """
        store = InMemoryDocumentStore()
        filer = DocumentFiler(store, world.users, world.alerter, world.queue, self.renderer)
        bus = world.bus.replacing({DocumentFiler: filer, DocumentStore: store})
        documents = _documents(world)
        chosen = sorted(user for user, wanted in documents.items() if wanted)
        draw = random.Random(self.seed)  # noqa: S311 - a reproducible sample, not a secret
        picked = draw.sample(chosen, min(self.count, len(chosen)))
        for user_id in sorted(picked):
            for command in documents[user_id]:
                bus.handle(command)
                path = self.folder / user_id / _file_name(command)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(store.get(command.key))
                self.written.append(path)


def _documents(world: World) -> dict[str, list[RenderDocument]]:
    """Each borrower's approved applications' agreements and lines' latest statements."""
    found: dict[str, list[RenderDocument]] = {}
    with world.bus.get(UnitOfWork) as uow:
        for user_id in sorted(world.users.users):
            wanted = found.setdefault(user_id, [])
            wanted.extend(
                RenderDocument(DocumentKind.AGREEMENT, user_id, application.application_id)
                for application in uow.loan_applications.for_user(user_id)
                if application.status is ApplicationStatus.APPROVED
            )
            for line in uow.lines.for_user(user_id):
                dates = [s.statement_date for s in uow.statements.for_line(user_id, line.line_id)]
                if dates:
                    wanted.append(
                        RenderDocument(DocumentKind.STATEMENT, user_id, line.line_id, max(dates))
                    )
    return found


def _file_name(command: RenderDocument) -> str:
    if command.statement_date is None:
        return f"agreement-{command.subject_id}.pdf"
    return f"statement-{command.subject_id}-{command.statement_date.isoformat()}.pdf"
