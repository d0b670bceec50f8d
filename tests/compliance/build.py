"""Real request histories: catalogue events from the pure handlers, sealed for real, appended
to the real store in the streams the workflows use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from domain.commands import (
    AcknowledgeReceipt,
    AssessPurpose,
    DetermineLawfulBasis,
    OpenPackage,
    OpenRequest,
    RecordConsent,
    RecordDecision,
    RecordInforming,
    RecordPackageSent,
    SeekConsent,
    SelectInformation,
)
from domain.decision import AgencyDecisionState, fold, start
from domain.events import AgencyEvent, Event, EventMetadata, RequestOpened
from domain.handlers import (
    decide_acknowledge,
    decide_assess_purpose,
    decide_inform,
    decide_lawful_basis,
    decide_open_package,
    decide_package_sent,
    decide_record_consent,
    decide_record_decision,
    decide_seek_consent,
    decide_select_information,
)
from domain.models import (
    Actor,
    Art6Basis,
    ConsentOutcome,
    FactOrOpinion,
    InformationItem,
    InformPlan,
    IspRegister,
    LawfulBasis,
    NotShareReason,
    Outcome,
    PurposeCategory,
    Rating,
    Role,
    SharingRequest,
    SubjectKind,
)
from domain.request import decide_close, decide_open, fold_request, start_request
from infra.crypto import Keyring
from infra.eventstore import ANY_VERSION, EventStore, NewEvent
from tests.domain.make import coordinator, recipient, register, worker

NAME = "Alex Example-Person"
DOB = "2014-05-17"
REASONS = "Shared to protect the child from significant harm"
DIGEST = "cd" * 32


@dataclass
class Built:
    request_id: UUID
    subject_id: UUID
    events: list[Event]
    before_decision: datetime | None = None
    """recorded_at of the last event appended before the decision."""


class Recorder:
    def __init__(self, store: EventStore, keyring: Keyring) -> None:
        self.store = store
        self.keyring = keyring
        self.events: list[Event] = []
        self.last_recorded_at: datetime | None = None

    async def seal(self, subject: UUID, value: Any) -> Any:
        return await self.keyring.seal(subject, value)

    async def append(self, events: list[Event], actor: Actor | None) -> None:
        for e in events:
            request_id: UUID = e.request_id  # type: ignore[attr-defined]
            stream = f"request:{request_id}"
            if isinstance(e, AgencyEvent):
                stream += f":agency:{e.agency}"
            metadata = EventMetadata(
                actor_id=actor.user_id if actor else None,
                actor_role=actor.role.value if actor else Role.SYSTEM.value,
                actor_agency=actor.agency if actor else None,
                correlation_id=request_id,
            )
            await self.store.append(stream, ANY_VERSION, [NewEvent(uuid4(), e, metadata)])
            recorded = await self.store.read_stream(stream)
            self.last_recorded_at = recorded[-1].recorded_at
            self.events.append(e)


async def open_request(rec: Recorder, now: datetime) -> tuple[RequestOpened, UUID]:
    subject, request_id = uuid4(), uuid4()
    request = SharingRequest(
        request_id=request_id,
        subject_id=subject,
        subject_kind=SubjectKind.CHILD,
        requesting_agency="police",
        requested_by="u-requester",
        holding_agencies=["health"],
        purpose_category=PurposeCategory.SAFEGUARDING_WELFARE,
        rating=Rating.AMBER,
        subject_details=await rec.seal(subject, {"name": NAME, "dob": DOB}),
        purpose=await rec.seal(subject, "Concerns raised by the school"),
        information_sought=await rec.seal(subject, "Recent attendance at the practice"),
    )
    (opened,) = decide_open(
        OpenRequest(request=request), coordinator(), now, register(), IspRegister()
    )
    assert isinstance(opened, RequestOpened)
    await rec.append([opened], coordinator())
    return opened, subject


async def step(
    rec: Recorder, s: AgencyDecisionState, events: list[Event], actor: Actor | None
) -> AgencyDecisionState:
    await rec.append(events, actor)
    return fold(s, events)


async def assessed_and_consented(
    rec: Recorder, opened: RequestOpened, now: datetime
) -> AgencyDecisionState:
    w = worker()
    s = start(opened, "health")
    assess = AssessPurpose(
        purpose_clear=True, identifiable=True, confidential=True, special_category=False
    )
    s = await step(rec, s, decide_assess_purpose(s, assess, w, now), w)
    s = await step(rec, s, decide_seek_consent(s, SeekConsent(), w, now), w)
    given = RecordConsent(outcome=ConsentOutcome.GIVEN)
    return await step(rec, s, decide_record_consent(s, given, w, now), w)


async def shared_path(
    store: EventStore, keyring: Keyring, opened_at: datetime | None = None
) -> Built:
    rec = Recorder(store, keyring)
    now = opened_at or datetime.now(UTC) - timedelta(hours=1)
    opened, subject = await open_request(rec, now)
    w = worker()
    s = await assessed_and_consented(rec, opened, now)
    basis = DetermineLawfulBasis(basis=LawfulBasis(art6=Art6Basis.PUBLIC_TASK))
    s = await step(rec, s, decide_lawful_basis(s, basis, w, now), w)
    item = InformationItem(
        item_id=uuid4(),
        description=await rec.seal(subject, "Attendance record"),
        content=await rec.seal(subject, "Missed three appointments"),
        kind=FactOrOpinion.FACT,
        dated=now.date() - timedelta(days=10),
        source=await rec.seal(subject, "Practice system"),
        historical=False,
    )
    s = await step(rec, s, decide_select_information(s, SelectInformation(items=[item]), w, now), w)
    before = rec.last_recorded_at
    decision = RecordDecision(
        outcome=Outcome.SHARE,
        reasons=await rec.seal(subject, REASONS),
        necessity=await rec.seal(subject, "Only attendance is needed"),
        inform=InformPlan(will_inform=True),
    )
    s = await step(rec, s, decide_record_decision(s, decision, w, now), w)
    package_id = uuid4()
    sent = RecordPackageSent(package_id=package_id, sha256=DIGEST)
    s = await step(rec, s, decide_package_sent(s, sent, now), None)
    r = recipient()
    s = await step(rec, s, decide_open_package(s, OpenPackage(package_id=package_id), r, now), r)
    s = await step(rec, s, decide_inform(s, RecordInforming(informed=True), w, now), w)
    ack = AcknowledgeReceipt(package_id=package_id, sha256=DIGEST)
    s = await step(rec, s, decide_acknowledge(s, ack, r, now), r)
    assert s.completed_at is not None
    await close(rec, opened, now)
    return Built(opened.request_id, subject, rec.events, before)


async def not_shared_path(
    store: EventStore, keyring: Keyring, opened_at: datetime | None = None
) -> Built:
    rec = Recorder(store, keyring)
    now = opened_at or datetime.now(UTC) - timedelta(hours=1)
    opened, subject = await open_request(rec, now)
    w = worker()
    s = await assessed_and_consented(rec, opened, now)
    decision = RecordDecision(
        outcome=Outcome.NOT_SHARE,
        reasons=await rec.seal(subject, "The practice holds nothing relevant"),
        not_share_reasons=[NotShareReason.INFORMATION_NOT_HELD],
    )
    s = await step(rec, s, decide_record_decision(s, decision, w, now), w)
    assert s.completed_at is not None
    await close(rec, opened, now)
    return Built(opened.request_id, subject, rec.events)


async def close(rec: Recorder, opened: RequestOpened, now: datetime) -> None:
    state = fold_request(start_request(opened), rec.events)
    await rec.append(decide_close(state, now), None)


def born() -> date:
    return date.fromisoformat(DOB)
