"""What a recipient needs beside a package's items to act on it safely: whom it is about,
the purpose the information was asked for, the lawful basis the sender shared it on, and
the sender's warnings (the person has not been told; a source or person named in an
item must not be identified).

Read from the request's event log: the opening (the subject's details and the purpose,
sealed, opened here) and the sending agency's recorded decision (its basis, its plan to
tell the person, its items' marks). Called only after the package's opening has been
recorded (:meth:`app.packages.PackageService.open`), so this view is on the record.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from app.history import ERASED_TEXT, json_ready
from app.record_words import Line, basis_lines, when, words
from domain.events import DecisionRecorded, Erased, RequestOpened
from domain.frozen import Frozen
from infra.crypto import Keyring
from infra.eventstore import EventStore

NOT_TOLD = {
    "would_put_someone_at_risk": "telling them would put someone at risk",
    "would_prejudice_investigation": "telling them would prejudice an investigation",
    "cannot_be_contacted": "they cannot be contacted",
}


class PackageContext(Frozen):
    subject: list[Line]
    """Whom the package is about, as the requester gave them: name, date of birth, address."""
    subject_kind: str
    purpose_category: str
    purpose: str
    basis: list[Line]
    """The lawful basis in words, as the sender recorded it (empty: not found)."""
    not_told: str | None
    """Why the person has not been told their information was shared; None: they will be."""
    review_on: str | None
    protected_items: int
    """How many items name someone (a referrer, a source) who must not be identified."""


async def package_context(
    store: EventStore, keyring: Keyring, request_id: UUID, sender_agency: str
) -> PackageContext | None:
    """The context of a package ``sender_agency`` sent for ``request_id``; None when the log
    holds no opening of the request (nothing is made up)."""
    events = [r.event for r in await store.read_correlation(request_id)]
    opened = next((e for e in events if isinstance(e, RequestOpened)), None)
    if opened is None:
        return None
    decisions = [e for e in events if isinstance(e, DecisionRecorded) and e.agency == sender_agency]
    session = keyring.session()
    details = await json_ready(opened.subject_details, session)
    purpose = await session.open(opened.purpose)
    record: dict[str, Any] = {}
    if decisions:
        record = await json_ready(decisions[-1].record, session)
    inform = record.get("inform") or {}
    not_told = None
    if inform and not inform.get("will_inform"):
        not_told = NOT_TOLD.get(str(inform.get("reason_not")), words(inform.get("reason_not", "")))
    return PackageContext(
        subject=_subject_lines(details),
        subject_kind=words(opened.subject_kind.value),
        purpose_category=words(opened.purpose_category.value),
        purpose=ERASED_TEXT if isinstance(purpose, Erased) else str(purpose),
        basis=basis_lines(record.get("lawful_basis")) if record else [],
        not_told=not_told,
        review_on=when(inform["review_on"]) if inform.get("review_on") else None,
        protected_items=sum(1 for i in record.get("items") or [] if i.get("protect_identity")),
    )


_SUBJECT_LABELS = (("name", "Name"), ("date_of_birth", "Date of birth"), ("address", "Address"))


def _subject_lines(details: Any) -> list[Line]:
    if not isinstance(details, dict):  # erased: the whole value is [erased]
        return [("Name", str(details))]
    lines = [
        (label, when(details[key]) if key == "date_of_birth" else str(details[key]))
        for key, label in _SUBJECT_LABELS
        if details.get(key)
    ]
    return lines or [("Name", ERASED_TEXT)]
