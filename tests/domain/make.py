"""Plain builders for domain tests (functions, not fixtures): each returns a valid default."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from domain.commands import AssessPurpose, OpenRequest, RecordDecision
from domain.decision import AgencyDecisionState, fold, start
from domain.events import Event, RequestOpened, Sealed
from domain.handlers import decide_assess_purpose
from domain.models import (
    Actor,
    AdviceRecommendation,
    AdviceTaken,
    Agency,
    AgencyKind,
    AgencyRegister,
    ConsentOutcome,
    ConsentRecord,
    FactOrOpinion,
    InformationItem,
    InformPlan,
    IspRegister,
    Outcome,
    PurposeCategory,
    Rating,
    Role,
    SharingRequest,
    SubjectKind,
)
from domain.request import decide_open
from domain.rules import DecisionFacts

SUBJECT = UUID("00000000-0000-4000-8000-000000000001")
REQUEST = UUID("00000000-0000-4000-8000-0000000000aa")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday, in working hours (GMT)
KEY = "A" * 43 + "="


def sealed(subject: UUID = SUBJECT) -> Sealed:
    return Sealed(subject_id=subject, ct="A" * 24)


def coordinator() -> Actor:
    return Actor(user_id="u-coord", role=Role.COORDINATOR)


def worker(agency: str = "health") -> Actor:
    return Actor(user_id="u-worker", role=Role.AGENCY_WORKER, agency=agency)


def advisor(agency: str = "health") -> Actor:
    return Actor(user_id="u-advisor", role=Role.ADVISOR, agency=agency)


def recipient(agency: str = "police") -> Actor:
    return Actor(user_id="u-recipient", role=Role.RECIPIENT, agency=agency)


def register() -> AgencyRegister:
    return AgencyRegister(
        agencies=[
            Agency(code="police", name="Police", kind=AgencyKind.POLICE, public_key=KEY),
            Agency(code="health", name="GP practice", kind=AgencyKind.HEALTH_GP, public_key=KEY),
            Agency(code="school", name="School", kind=AgencyKind.EDUCATION),
            Agency(code="charity", name="Charity", kind=AgencyKind.VOLUNTARY_SECTOR),
        ]
    )


def request(**changes: Any) -> SharingRequest:
    fields: dict[str, Any] = {
        "request_id": REQUEST,
        "subject_id": SUBJECT,
        "subject_kind": SubjectKind.CHILD,
        "requesting_agency": "police",
        "requested_by": "u-requester",
        "holding_agencies": ["health"],
        "purpose_category": PurposeCategory.SAFEGUARDING_WELFARE,
        "rating": Rating.AMBER,
        "subject_details": sealed(),
        "purpose": sealed(),
        "information_sought": sealed(),
    }
    fields.update(changes)
    return SharingRequest(**fields)


def opened(**changes: Any) -> RequestOpened:
    events = decide_open(
        OpenRequest(request=request(**changes)), coordinator(), NOW, register(), IspRegister()
    )
    event = events[0]
    assert isinstance(event, RequestOpened)
    return event


def state(agency: str = "health", **changes: Any) -> AgencyDecisionState:
    return start(opened(**changes), agency)


def assessed(
    *,
    purpose_clear: bool = True,
    identifiable: bool = True,
    confidential: bool = True,
    special_category: bool = False,
    adult_at_risk: bool = False,
    **request_changes: Any,
) -> AgencyDecisionState:
    s = state(**request_changes)
    command = AssessPurpose(
        purpose_clear=purpose_clear,
        identifiable=identifiable,
        confidential=confidential,
        special_category=special_category,
        adult_at_risk=adult_at_risk,
    )
    return apply(s, decide_assess_purpose(s, command, worker(s.agency), NOW))


def apply(s: AgencyDecisionState, events: list[Event]) -> AgencyDecisionState:
    return fold(s, events)


def item(dated: date = date(2026, 2, 1), historical: bool = False) -> InformationItem:
    return InformationItem(
        item_id=uuid4(),
        description=sealed(),
        content=sealed(),
        kind=FactOrOpinion.FACT,
        dated=dated,
        source=sealed(),
        historical=historical,
    )


def consent(outcome: ConsentOutcome = ConsentOutcome.GIVEN, **extra: Any) -> ConsentRecord:
    return ConsentRecord(outcome=outcome, recorded_at=NOW, **extra)


def facts(**changes: Any) -> DecisionFacts:
    fields: dict[str, Any] = {
        "subject_kind": SubjectKind.CHILD,
        "rating": Rating.AMBER,
        "purpose_category": PurposeCategory.SAFEGUARDING_WELFARE,
        "holder_kind": AgencyKind.HEALTH_GP,
        "purpose_clear": True,
        "identifiable": True,
        "confidential": True,
        "special_category": False,
    }
    fields.update(changes)
    return DecisionFacts(**fields)


def share(**changes: Any) -> RecordDecision:
    fields: dict[str, Any] = {
        "outcome": Outcome.SHARE,
        "reasons": sealed(),
        "necessity": sealed(),
        "inform": InformPlan(will_inform=True),
    }
    fields.update(changes)
    return RecordDecision(**fields)


def not_share(**changes: Any) -> RecordDecision:
    fields: dict[str, Any] = {"outcome": Outcome.NOT_SHARE, "reasons": sealed()}
    fields.update(changes)
    return RecordDecision(**fields)


def agreeing_advice() -> AdviceTaken:
    """Advice to share that agrees to sharing without consent."""
    return AdviceTaken(
        advisor_id="u-advisor",
        recommendation=AdviceRecommendation.SHARE,
        agrees_to_share_without_consent=True,
        advice=sealed(),
        given_at=NOW,
    )


def codes(problems: list) -> set[str]:  # type: ignore[type-arg]
    """The codes of the problems the rules found."""
    return {p.code for p in problems}
