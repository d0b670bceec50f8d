"""What a task page shows a holding agency's worker or advisor, opened for them.

Check, record the view, then open, in that order (as :mod:`app.access` does for
histories): the viewer must be a worker or advisor of the agency the decision belongs to
(the permission matrix), the request must ask that agency, the showing is appended to
the request's access log (``task``), and only then is anything decrypted. The worker
sees who the request is about (name, date of birth and address as the requester gave
them: the holding agency cannot search its own records without them); the advisor sees
what they are asked to advise on (the worker's question, the assessment, consent, the
proposed basis and items, and for an urgent share, what was shared and why waiting was
unsafe), not the person's details.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from app.access import record_view
from app.history import ERASED_TEXT, RequestNotFound
from domain.decision import AgencyDecisionState
from domain.events import AdviceRequested, Erased, RequestOpened, Sealed
from domain.events.access import ViewKind
from domain.models import Actor
from domain.permissions import Action, allows, require
from infra.crypto import Keyring, KeySession
from infra.eventstore import EventStore


@dataclass(frozen=True)
class Subject:
    name: str
    date_of_birth: date | None
    address: str | None


@dataclass(frozen=True)
class Item:
    description: str
    content: str
    source: str
    kind: str
    dated: date
    historical: bool
    protect_identity: bool


@dataclass(frozen=True)
class Advice:
    advisor_id: str
    recommendation: str
    agrees: bool
    capacity: str | None
    position: str | None
    advice: str
    given_at: datetime
    review: bool


@dataclass(frozen=True)
class TaskView:
    """The request and the decision so far, in clear, for one viewer."""

    purpose: str
    information_sought: str
    subject: Subject | None
    """Only for the agency's worker, who searches the records."""
    questions: list[str] = field(default_factory=list)
    """The worker's questions to the advisor, oldest first."""
    assessment_note: str | None = None
    consent_note: str | None = None
    consent_scope: str | None = None
    advice: list[Advice] = field(default_factory=list)
    basis_rationale: str | None = None
    items: list[Item] = field(default_factory=list)
    reasons: str | None = None
    necessity: str | None = None
    urgent_override: str | None = None


class _Opener:
    def __init__(self, session: KeySession) -> None:
        self.session = session

    async def text(self, value: Sealed | None) -> str | None:
        if value is None:
            return None
        opened = await self.session.open(value)
        return ERASED_TEXT if isinstance(opened, Erased) else str(opened)

    async def must(self, value: Sealed) -> str:
        return await self.text(value) or ""


async def task_view(
    store: EventStore, keyring: Keyring, viewer: Actor, state: AgencyDecisionState
) -> TaskView:
    """The task page's content for ``viewer``, the showing recorded before anything opens."""
    require(viewer, Action.WORK_TASKS, state.agency, doing="read what this task asks")
    recorded = await store.read_correlation(state.request_id)
    opened = next((r.event for r in recorded if isinstance(r.event, RequestOpened)), None)
    if opened is None:
        raise RequestNotFound(state.request_id)
    await record_view(store, state.request_id, viewer, ViewKind.TASK)
    asked = [
        r.event.question
        for r in recorded
        if isinstance(r.event, AdviceRequested) and r.event.agency == state.agency
    ]
    o = _Opener(keyring.session())
    subject = await _subject(o, opened) if allows(viewer, Action.DECIDE, state.agency) else None
    consent = state.consent
    decision = state.decision
    basis = state.lawful_basis
    return TaskView(
        purpose=await o.must(opened.purpose),
        information_sought=await o.must(opened.information_sought),
        subject=subject,
        questions=[await o.must(q) for q in asked],
        consent_note=await o.text(consent.note) if consent else None,
        consent_scope=await o.text(consent.scope) if consent else None,
        advice=[
            Advice(
                advisor_id=str(a.advisor_id),
                recommendation=str(a.recommendation),
                agrees=a.agrees_to_share_without_consent,
                capacity=str(a.capacity) if a.capacity else None,
                position=a.position,
                advice=await o.must(a.advice),
                given_at=a.given_at,
                review=a.review_after_urgent_share,
            )
            for a in state.advice
        ],
        basis_rationale=await o.text(basis.rationale) if basis else None,
        items=[
            Item(
                description=await o.must(i.description),
                content=await o.must(i.content),
                source=await o.must(i.source),
                kind=str(i.kind),
                dated=i.dated,
                historical=i.historical,
                protect_identity=i.protect_identity,
            )
            for i in state.items
        ],
        reasons=await o.text(decision.reasons) if decision else None,
        necessity=await o.text(decision.necessity) if decision else None,
        urgent_override=await o.text(decision.urgent_override) if decision else None,
    )


async def _subject(o: _Opener, opened: RequestOpened) -> Subject:
    details = await o.session.open(opened.subject_details)
    if not isinstance(details, dict):
        return Subject(name=ERASED_TEXT, date_of_birth=None, address=None)
    dob = details.get("date_of_birth")
    return Subject(
        name=str(details.get("name", "")),
        date_of_birth=date.fromisoformat(dob) if isinstance(dob, str) else None,
        address=str(details["address"]) if details.get("address") else None,
    )
