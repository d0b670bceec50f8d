"""One holding agency's decision as state: a pure ``evolve`` and the open tasks.

``AgencyDecisionState`` is what ``AgencyDecisionWorkflow`` holds: a frozen,
JSON-serialisable model rebuilt by folding the request's events with
:func:`evolve`. Commands are handled in :mod:`domain.handlers`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from enum import StrEnum
from uuid import UUID

from domain.errors import InvalidState
from domain.events.base import Event
from domain.events.catalogue import (
    AdviceGiven,
    AdviceRequested,
    AgencyDecisionCompleted,
    AgencyEvent,
    ConsentNotSought,
    ConsentRecorded,
    ConsentSought,
    ConsentWithdrawn,
    DeadlineMissed,
    DecisionRecorded,
    InformationSelected,
    LawfulBasisDetermined,
    PackageOpened,
    PackageRevoked,
    PackageSent,
    PersonInformed,
    PersonNotInformed,
    PurposeAssessed,
    RatingChanged,
    ReceiptAcknowledged,
    RequestEvent,
    RequestOpened,
    RequestWithdrawn,
)
from domain.events.values import (
    AdviceTaken,
    AgencyCode,
    ConsentRecord,
    DecisionRecord,
    InformationItem,
    LawfulBasis,
    LegalInstrument,
    UserId,
    UtcDateTime,
)
from domain.frozen import Frozen
from domain.rules import DecisionFacts, consent_on_record, consent_question_arises
from domain.vocabulary import (
    AgencyKind,
    ConsentOutcome,
    DeadlineKind,
    NotInformedReason,
    Outcome,
    PurposeCategory,
    Rating,
    Role,
    SubjectKind,
)


class Assessment(Frozen):
    purpose_clear: bool
    legitimate: bool
    identifiable: bool
    confidential: bool
    special_category: bool
    adult_at_risk: bool
    criminal_offence_data: bool = False
    compelled_by: LegalInstrument | None = None


class PackageState(Frozen):
    package_id: UUID
    recipient_agency: AgencyCode
    sha256: str
    sent_at: UtcDateTime
    acknowledge_by: UtcDateTime
    times_opened: int = 0
    acknowledged_at: UtcDateTime | None = None
    revoked_at: UtcDateTime | None = None


class AgencyDecisionState(Frozen):
    request_id: UUID
    subject_id: UUID
    agency: AgencyCode
    holder_kind: AgencyKind
    isp_exists: bool
    holder_public_authority: bool | None = None
    """From the register at the opening; None in decisions started before it was recorded
    (the rules then read the default of the holder's kind)."""
    isp_reference: str | None = None
    proactive: bool = False
    """Shared unsolicited by this agency (no hub request): see ``RequestOpened.proactive``."""
    requesting_agency: AgencyCode
    requested_by: UserId
    received_at: UtcDateTime
    subject_kind: SubjectKind
    purpose_category: PurposeCategory
    rating: Rating
    consent_already_held: bool
    decision_due_at: UtcDateTime
    assessment: Assessment | None = None
    consent_sought_at: UtcDateTime | None = None
    consent_respond_by: UtcDateTime | None = None
    consent: ConsentRecord | None = None
    advice_respond_by: UtcDateTime | None = None
    """Set while an advisor has been asked and has not yet answered."""
    advice: list[AdviceTaken] = []
    lawful_basis: LawfulBasis | None = None
    items: list[InformationItem] = []
    decision: DecisionRecord | None = None
    package: PackageState | None = None
    informed: bool | None = None
    informed_at: UtcDateTime | None = None
    """When the person was told (``person.informed``)."""
    not_informed_reason: NotInformedReason | None = None
    """Why the person has not been told, as last recorded."""
    inform_review_on: date | None = None
    """Not informed for a temporary reason: the day it is looked at again."""
    review_pending: bool = False
    """An urgent share without prior agreement awaits the advisor's review."""
    missed: list[DeadlineKind] = []
    completed_at: UtcDateTime | None = None
    withdrawn_at: UtcDateTime | None = None

    @property
    def consent_needed(self) -> bool:
        a = self.assessment
        return (
            a is not None
            and a.legitimate
            and a.compelled_by is None
            and consent_question_arises(a.identifiable, a.confidential)
        )

    @property
    def consent_resolved(self) -> bool:
        return self.assessment is not None and (not self.consent_needed or self.consent is not None)

    @property
    def shared(self) -> bool:
        return self.decision is not None and self.decision.outcome is Outcome.SHARE

    @property
    def is_open(self) -> bool:
        return self.completed_at is None and self.withdrawn_at is None

    def consent_on_record(self, now: datetime) -> ConsentRecord:
        """What the decision record says about consent (never more than is true)."""
        return consent_on_record(
            self.facts(), self.consent, self.consent_sought_at is not None, now
        )

    def facts(self) -> DecisionFacts:
        """The facts the rules read. Only valid once the purpose has been assessed."""
        a = self.assessment
        if a is None:
            raise InvalidState("assess the purpose first")
        return DecisionFacts(
            subject_kind=self.subject_kind,
            rating=self.rating,
            purpose_category=self.purpose_category,
            holder_kind=self.holder_kind,
            public_authority=self.holder_public_authority,
            purpose_clear=a.purpose_clear,
            identifiable=a.identifiable,
            confidential=a.confidential,
            special_category=a.special_category,
            adult_at_risk=a.adult_at_risk,
            criminal_offence_data=a.criminal_offence_data,
            compelled_by=a.compelled_by,
            consent=self.consent,
            lawful_basis=self.lawful_basis,
            advice=self.advice,
            items=self.items,
            isp_exists=self.isp_exists,
        )


def start(opened: RequestOpened, agency: str) -> AgencyDecisionState:
    """The state of ``agency``'s decision as the request opens."""
    holder = opened.holder(agency)
    if holder is None:
        raise InvalidState(f"{agency} is not asked in this request")
    return AgencyDecisionState(
        request_id=opened.request_id,
        subject_id=opened.subject_id,
        agency=agency,
        holder_kind=holder.kind,
        isp_exists=holder.isp_with_requester,
        holder_public_authority=holder.public_authority,
        isp_reference=holder.isp_reference,
        proactive=opened.proactive,
        requesting_agency=opened.requesting_agency,
        requested_by=opened.requested_by,
        received_at=opened.opened_at,
        subject_kind=opened.subject_kind,
        purpose_category=opened.purpose_category,
        rating=opened.rating,
        consent_already_held=opened.consent_already_held,
        decision_due_at=opened.decision_due_at,
    )


def is_complete(state: AgencyDecisionState) -> bool:
    """Decided, and if shared: delivered and acknowledged (or revoked), informing settled,
    and any urgent share reviewed by an advisor."""
    if state.decision is None:
        return False
    if state.decision.outcome is Outcome.NOT_SHARE:
        return True
    package = state.package
    delivered = package is not None and (
        package.acknowledged_at is not None or package.revoked_at is not None
    )
    inform = state.decision.inform
    informing_settled = inform is None or (
        state.informed is not None and state.inform_review_on is None
    )
    return delivered and informing_settled and not state.review_pending


def evolve(state: AgencyDecisionState, event: Event) -> AgencyDecisionState:
    """Apply one event. Events of other agencies in the same request leave the state as is."""
    if isinstance(event, RequestEvent) and event.request_id != state.request_id:
        raise InvalidState("the event belongs to another request")
    if isinstance(event, AgencyEvent) and event.agency != state.agency:
        return state
    changes = _changes(state, event)
    return state.model_copy(update=changes) if changes else state


def fold(state: AgencyDecisionState, events: Iterable[Event]) -> AgencyDecisionState:
    for e in events:
        state = evolve(state, e)
    return state


def _changes(s: AgencyDecisionState, e: Event) -> dict[str, object]:
    match e:
        case RatingChanged():
            return {"rating": e.rating, "decision_due_at": e.decision_due_at}
        case RequestWithdrawn() if s.completed_at is None:
            return {"withdrawn_at": e.withdrawn_at}
        case PurposeAssessed():
            return {"assessment": Assessment.model_validate(e.model_dump(include=_ASSESSMENT))}
        case ConsentSought():
            return {"consent_sought_at": e.sought_at, "consent_respond_by": e.respond_by}
        case ConsentRecorded():
            return {"consent": e.consent}
        case ConsentNotSought():
            record = ConsentRecord(
                outcome=ConsentOutcome.NOT_SOUGHT,
                not_sought_reason=e.reason,
                at_risk=e.at_risk,
                note=e.explanation,
                recorded_at=e.recorded_at,
            )
            return {"consent": record}
        case ConsentWithdrawn() if s.consent is not None:
            withdrawn = s.consent.model_copy(
                update={"outcome": ConsentOutcome.WITHDRAWN, "withdrawal": e.withdrawal}
            )
            if s.decision is None:  # not yet decided: the basis is determined again
                return {"consent": withdrawn, "lawful_basis": None}
            return {"consent": withdrawn}
        case AdviceRequested():
            return {"advice_respond_by": e.respond_by}
        case AdviceGiven():
            still_pending = s.review_pending and not e.advice.review_after_urgent_share
            return {
                "advice": [*s.advice, e.advice],
                "advice_respond_by": None,
                "review_pending": still_pending,
            }
        case LawfulBasisDetermined():
            return {"lawful_basis": e.basis}
        case InformationSelected():
            return {"items": e.items}
        case DecisionRecorded():
            return {"decision": e.record, "review_pending": e.record.urgent_override is not None}
        case PackageSent():
            package = PackageState(
                package_id=e.package_id,
                recipient_agency=e.recipient_agency,
                sha256=e.sha256,
                sent_at=e.sent_at,
                acknowledge_by=e.acknowledge_by,
            )
            return {"package": package}
        case PackageOpened() if s.package is not None:
            return {
                "package": s.package.model_copy(update={"times_opened": s.package.times_opened + 1})
            }
        case ReceiptAcknowledged() if s.package is not None:
            return {"package": s.package.model_copy(update={"acknowledged_at": e.acknowledged_at})}
        case PackageRevoked() if s.package is not None:
            return {"package": s.package.model_copy(update={"revoked_at": e.revoked_at})}
        case PersonInformed():
            return {"informed": True, "inform_review_on": None, "informed_at": e.informed_at}
        case PersonNotInformed():
            return {
                "informed": False,
                "inform_review_on": e.review_on,
                "not_informed_reason": e.reason,
            }
        case DeadlineMissed() if e.kind not in s.missed:
            return {"missed": [*s.missed, e.kind]}
        case AgencyDecisionCompleted():
            return {"completed_at": e.completed_at}
    return {}


_ASSESSMENT = set(Assessment.model_fields)


# --- open tasks -----------------------------------------------------------------


class TaskKind(StrEnum):
    ASSESS_PURPOSE = "assess_purpose"
    RESOLVE_CONSENT = "resolve_consent"
    GIVE_ADVICE = "give_advice"
    RECORD_DECISION = "record_decision"
    SEND_PACKAGE = "send_package"
    ACKNOWLEDGE_RECEIPT = "acknowledge_receipt"
    INFORM_PERSON = "inform_person"
    REVIEW_URGENT_SHARE = "review_urgent_share"


class Task(Frozen):
    """Something waiting for a person in ``role`` at ``agency`` (or for the engine)."""

    kind: TaskKind
    request_id: UUID
    role: Role
    agency: AgencyCode
    due_at: UtcDateTime | None


def open_tasks(state: AgencyDecisionState) -> list[Task]:
    """Every task now open in this agency's decision, in the order they are usually done."""
    if state.withdrawn_at is not None or state.completed_at is not None:
        return []
    worker, advisor = Role.AGENCY_WORKER, Role.ADVISOR
    due = state.decision_due_at
    tasks: list[tuple[TaskKind, Role, str, datetime | None]] = []
    if state.decision is None:
        if state.assessment is None:
            tasks.append((TaskKind.ASSESS_PURPOSE, worker, state.agency, due))
        elif not state.consent_resolved:
            consent_due = state.consent_respond_by or due
            tasks.append((TaskKind.RESOLVE_CONSENT, worker, state.agency, consent_due))
        else:
            tasks.append((TaskKind.RECORD_DECISION, worker, state.agency, due))
    if state.advice_respond_by is not None:
        tasks.append((TaskKind.GIVE_ADVICE, advisor, state.agency, state.advice_respond_by))
    if state.shared:
        tasks.extend(_after_share(state))
    return [
        Task(kind=k, request_id=state.request_id, role=r, agency=a, due_at=d)
        for k, r, a, d in tasks
    ]


def _after_share(state: AgencyDecisionState) -> list[tuple[TaskKind, Role, str, datetime | None]]:
    tasks: list[tuple[TaskKind, Role, str, datetime | None]] = []
    package = state.package
    if package is None:
        tasks.append((TaskKind.SEND_PACKAGE, Role.SYSTEM, state.agency, None))
    elif package.acknowledged_at is None and package.revoked_at is None:
        recipient = (TaskKind.ACKNOWLEDGE_RECEIPT, Role.RECIPIENT, package.recipient_agency)
        tasks.append((*recipient, package.acknowledge_by))
    decision = state.decision
    if decision is not None and decision.inform is not None:
        if state.informed is None:
            tasks.append((TaskKind.INFORM_PERSON, Role.AGENCY_WORKER, state.agency, None))
        elif state.inform_review_on is not None:
            review = datetime.combine(state.inform_review_on, time(9), tzinfo=UTC)
            tasks.append((TaskKind.INFORM_PERSON, Role.AGENCY_WORKER, state.agency, review))
    if state.review_pending:
        tasks.append((TaskKind.REVIEW_URGENT_SHARE, Role.ADVISOR, state.agency, None))
    return tasks
