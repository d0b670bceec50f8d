"""The replay benchmark's history: a seeded generator of realistic request histories
through the real domain handlers (bench/replay.py stores and replays them)."""

from __future__ import annotations

import hashlib
import random
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from domain import handlers as h
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
from domain.events import Event, EventMetadata, RequestOpened, Sealed
from domain.events.values import InformationItem, InformPlan, LawfulBasis
from domain.models import Actor, Agency, AgencyRegister, Isp, IspRegister, SharingRequest
from domain.request import decide_close, decide_open, fold_request, start_request
from domain.vocabulary import (
    AgencyKind,
    Art6Basis,
    ConsentOutcome,
    FactOrOpinion,
    NotShareReason,
    Outcome,
    PurposeCategory,
    Rating,
    Role,
    SubjectKind,
)
from infra.eventstore import NewEvent

REQUESTER = "csc"
HOLDERS = ("police", "school_oak", "gp_riverside", "probation", "housing")
AGENCIES = AgencyRegister(
    agencies=[
        Agency(
            code=REQUESTER,
            name="Children's social care",
            kind=AgencyKind.CHILDRENS_SOCIAL_CARE,
            public_key="A" * 43 + "=",
        ),
        Agency(code="police", name="Police", kind=AgencyKind.POLICE),
        Agency(code="school_oak", name="Oak Primary School", kind=AgencyKind.EDUCATION),
        Agency(code="gp_riverside", name="Riverside Surgery", kind=AgencyKind.HEALTH_GP),
        Agency(code="probation", name="Probation service", kind=AgencyKind.PROBATION),
        Agency(code="housing", name="Housing", kind=AgencyKind.HOUSING),
    ]
)
ISPS = IspRegister(
    isps=[
        Isp(
            isp_id=uuid.uuid5(uuid.NAMESPACE_URL, "bench-isp"),
            agencies=["police", REQUESTER],
            title="Safeguarding ISP",
            signed_on=date(2020, 1, 1),
        )
    ]
)
COORDINATOR = Actor(user_id="u-coordinator-1", role=Role.COORDINATOR)
RECIPIENT = Actor(user_id=f"u-recipient-{REQUESTER}", role=Role.RECIPIENT, agency=REQUESTER)
SUBJECTS = 64
"""Distinct data subjects; their sealed values are made once and reused (sealing a
million values would dominate the run and measure nothing of interest here)."""
PATHS = ("shared", "refused", "no_purpose")
PATH_WEIGHTS = (5, 3, 2)
EPOCH = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)

Phase = list[tuple[str, int, list[NewEvent]]]
"""Appends that may run concurrently: (stream id, expected version, events)."""


@dataclass(frozen=True)
class Subject:
    subject_id: uuid.UUID
    details: Sealed
    texts: tuple[Sealed, ...]


def worker(agency: str) -> Actor:
    return Actor(user_id=f"u-worker-{agency}", role=Role.AGENCY_WORKER, agency=agency)


def envelopes(
    events: Sequence[Event], actor: Actor | None, request_id: uuid.UUID
) -> list[NewEvent]:
    meta = EventMetadata(
        actor_id=actor.user_id if actor else None,
        actor_role=str(actor.role) if actor else None,
        actor_agency=actor.agency if actor else None,
        workflow_id=f"request-{request_id}",
        correlation_id=request_id,
    )
    return [NewEvent(uuid.uuid4(), e, meta) for e in events]


class Generator:
    """One request's history at a time, every event from a pure ``decide_*`` function."""

    def __init__(self, subjects: list[Subject], seed: int = 6) -> None:
        self.subjects = subjects
        self.rng = random.Random(seed)
        self.paths: Counter[str] = Counter()

    def request(self, i: int) -> list[Phase]:
        rng = self.rng
        subject = self.subjects[i % len(self.subjects)]
        t = subject.texts
        holders = rng.sample(HOLDERS, 2 if rng.random() < 0.35 else 1)
        paths = [rng.choices(PATHS, PATH_WEIGHTS)[0] for _ in holders]
        request_id = uuid.uuid4()
        now = EPOCH + timedelta(minutes=7 * i)
        opening = OpenRequest(
            request=SharingRequest(
                request_id=request_id,
                subject_id=subject.subject_id,
                subject_kind=SubjectKind.CHILD,
                requesting_agency=REQUESTER,
                requested_by=f"u-worker-{REQUESTER}",
                holding_agencies=holders,
                purpose_category=PurposeCategory.SAFEGUARDING_WELFARE,
                rating=rng.choice((Rating.AMBER, Rating.AMBER, Rating.GREEN)),
                subject_details=subject.details,
                purpose=t[0],
                information_sought=t[1],
            )
        )
        opened = decide_open(opening, COORDINATOR, now, AGENCIES, ISPS)
        first = opened[0]
        assert isinstance(first, RequestOpened)
        request = start_request(first)
        agency_appends: Phase = []
        completions: list[Event] = []
        for agency, path in zip(holders, paths, strict=True):
            self.paths[path] += 1
            events = self.agency(start(first, agency), path, now, t)
            agency_appends.append((f"request:{request_id}:agency:{agency}", 0, events))
            completions.append(events[-1].event)
        closed = decide_close(fold_request(request, completions), now + timedelta(days=2))
        return [
            [(f"request:{request_id}", 0, envelopes(opened, COORDINATOR, request_id))],
            agency_appends,
            [(f"request:{request_id}", 1, envelopes(closed, None, request_id))],
        ]

    def agency(
        self, state: AgencyDecisionState, path: str, now: datetime, t: tuple[Sealed, ...]
    ) -> list[NewEvent]:
        rid = state.request_id
        out: list[NewEvent] = []
        who = worker(state.agency)
        clock = [now]

        def step(actor: Actor | None, events: list[Event]) -> None:
            nonlocal state
            state = fold(state, events)
            out.extend(envelopes(events, actor, rid))

        def later() -> datetime:
            clock[0] += timedelta(minutes=20 + self.rng.randrange(120))
            return clock[0]

        assess = AssessPurpose(
            purpose_clear=path != "no_purpose",
            identifiable=True,
            confidential=True,
            special_category=False,
            note=t[2],
        )
        step(who, h.decide_assess_purpose(state, assess, who, later()))
        if path == "no_purpose":
            decision = RecordDecision(
                outcome=Outcome.NOT_SHARE,
                reasons=t[3],
                not_share_reasons=[NotShareReason.NO_LEGITIMATE_PURPOSE],
            )
            step(who, h.decide_record_decision(state, decision, who, later()))
            return out
        step(who, h.decide_seek_consent(state, SeekConsent(), who, later()))
        if path == "refused":
            refused = RecordConsent(outcome=ConsentOutcome.REFUSED, note=t[4])
            step(who, h.decide_record_consent(state, refused, who, later()))
            decision = RecordDecision(
                outcome=Outcome.NOT_SHARE,
                reasons=t[3],
                not_share_reasons=[NotShareReason.RESPECTING_REFUSAL],
            )
            step(who, h.decide_record_decision(state, decision, who, later()))
            return out
        given = RecordConsent(outcome=ConsentOutcome.GIVEN)
        step(who, h.decide_record_consent(state, given, who, later()))
        basis = DetermineLawfulBasis(basis=LawfulBasis(art6=Art6Basis.PUBLIC_TASK))
        step(who, h.decide_lawful_basis(state, basis, who, later()))
        moment = later()
        items = [
            InformationItem(
                item_id=uuid.uuid4(),
                description=t[5],
                content=t[6],
                kind=kind,
                dated=moment.date() - timedelta(days=40),
                source=t[7],
                historical=False,
            )
            for kind in (FactOrOpinion.FACT, FactOrOpinion.OPINION)
        ]
        step(who, h.decide_select_information(state, SelectInformation(items=items), who, moment))
        decision = RecordDecision(
            outcome=Outcome.SHARE,
            reasons=t[3],
            necessity=t[8],
            inform=InformPlan(will_inform=True),
        )
        step(who, h.decide_record_decision(state, decision, who, later()))
        package_id = uuid.uuid4()
        digest = hashlib.sha256(package_id.bytes).hexdigest()
        sent = RecordPackageSent(package_id=package_id, sha256=digest)
        step(None, h.decide_package_sent(state, sent, later()))
        step(
            RECIPIENT,
            h.decide_open_package(state, OpenPackage(package_id=package_id), RECIPIENT, later()),
        )
        ack = AcknowledgeReceipt(package_id=package_id, sha256=digest)
        step(RECIPIENT, h.decide_acknowledge(state, ack, RECIPIENT, later()))
        step(who, h.decide_inform(state, RecordInforming(informed=True), who, later()))
        return out
