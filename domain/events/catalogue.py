"""Every domain event, past tense and versioned.

Each event reads on its own: it carries the request id and, for one holding
agency's steps, the agency code. Personal and free-text fields are
:class:`Sealed`; ids, enums, instants, user ids, roles and agency codes are
in clear.
"""

from __future__ import annotations

from datetime import date
from typing import Self
from uuid import UUID

from pydantic import model_validator

from domain.events.base import Event, Sealed, event
from domain.events.values import (
    AdviceTaken,
    AgencyCode,
    ConsentRecord,
    ConsentWithdrawal,
    DecisionRecord,
    Holder,
    InformationItem,
    LawfulBasis,
    LegalInstrument,
    ProtectedPerson,
    Sha256Hex,
    UserId,
    UtcDateTime,
)
from domain.policy import HubPolicy
from domain.vocabulary import (
    DeadlineKind,
    DisposalReason,
    EscalationLevel,
    NotInformedReason,
    NotShareReason,
    NotSoughtReason,
    Outcome,
    PurposeCategory,
    Rating,
    RecordType,
    Role,
    SubjectKind,
)


class RequestEvent(Event):
    """Something that happened to a whole sharing request."""

    request_id: UUID


class AgencyEvent(RequestEvent):
    """Something that happened in one holding agency's decision."""

    agency: AgencyCode


# --- the request -------------------------------------------------------------


@event("request.opened", version=3)
class RequestOpened(RequestEvent):
    """A request was opened; carries everything each agency's decision starts from,
    and the hub policy its deadlines came from (version 2; see ``domain.events.upcasters``).
    """

    subject_id: UUID
    subject_kind: SubjectKind
    requesting_agency: AgencyCode
    requested_by: UserId
    holders: list[Holder]
    purpose_category: PurposeCategory
    rating: Rating
    subject_details: Sealed
    purpose: Sealed
    information_sought: Sealed
    consent_already_held: bool
    opened_by: UserId
    opened_at: UtcDateTime
    decision_due_at: UtcDateTime
    allegation_against_staff: bool
    """About an allegation against someone who works with children: its record is kept
    under the policy's ``allegation_against_staff`` retention rule."""
    policy: HubPolicy | None
    """The hub policy in force at the opening: every deadline of the request was counted
    on it, whenever it is replayed. None only on requests opened before it was recorded."""
    policy_digest: Sha256Hex | None
    """``HubPolicy.digest()`` at the opening. Not recomputed when read: a field added to the
    policy later changes what a digest of the same policy would be today."""
    proactive: bool = False
    """Opened by a practitioner of the one holding agency to share unsolicited (for example
    to tell the police at once of a crime or an immediate risk), not by the hub on another
    agency's behalf: the ``requesting_agency`` is then the recipient, which asked nothing.
    Version 3; older requests read False."""

    @property
    def holding_agencies(self) -> list[str]:
        return [h.agency for h in self.holders]

    def holder(self, agency: str) -> Holder | None:
        return next((h for h in self.holders if h.agency == agency), None)


@event("request.rating_changed")
class RatingChanged(RequestEvent):
    previous: Rating
    rating: Rating
    rationale: Sealed
    changed_by: UserId
    changed_at: UtcDateTime
    decision_due_at: UtcDateTime


@event("request.withdrawn")
class RequestWithdrawn(RequestEvent):
    reason: Sealed
    withdrawn_by: UserId
    withdrawn_at: UtcDateTime


@event("request.closed")
class RequestClosed(RequestEvent):
    shared_by: list[AgencyCode]
    not_shared_by: list[AgencyCode]
    withdrawn: bool
    closed_at: UtcDateTime


@event("deadline.missed")
class DeadlineMissed(AgencyEvent):
    kind: DeadlineKind
    due_at: UtcDateTime
    missed_at: UtcDateTime


@event("deadline.escalated")
class Escalated(AgencyEvent):
    kind: DeadlineKind
    level: EscalationLevel
    notify: list[Role]
    due_at: UtcDateTime
    escalated_at: UtcDateTime


# --- one agency's decision ----------------------------------------------------


@event("purpose.assessed")
class PurposeAssessed(AgencyEvent):
    purpose_clear: bool
    legitimate: bool
    identifiable: bool
    confidential: bool
    special_category: bool
    adult_at_risk: bool
    criminal_offence_data: bool = False
    compelled_by: LegalInstrument | None = None
    """The statutory duty or court order found to apply (step 4), if any."""
    note: Sealed | None
    assessed_by: UserId
    assessed_at: UtcDateTime


@event("consent.sought")
class ConsentSought(AgencyEvent):
    note: Sealed | None
    sought_by: UserId
    sought_at: UtcDateTime
    respond_by: UtcDateTime


@event("consent.recorded")
class ConsentRecorded(AgencyEvent):
    consent: ConsentRecord
    recorded_by: UserId


@event("consent.not_sought")
class ConsentNotSought(AgencyEvent):
    reason: NotSoughtReason
    explanation: Sealed
    at_risk: ProtectedPerson | None = None
    recorded_by: UserId
    recorded_at: UtcDateTime


@event("consent.withdrawn")
class ConsentWithdrawn(AgencyEvent):
    """Consent given for this decision was withdrawn. ``package_sent``: the information had
    already been sent, and the recipient agency is told (a notification)."""

    withdrawal: ConsentWithdrawal
    note: Sealed | None = None
    package_sent: bool


@event("advice.requested")
class AdviceRequested(AgencyEvent):
    question: Sealed
    subject_named: bool
    """False when advice is sought without naming the person, as the guidance prefers."""
    requested_by: UserId
    requested_at: UtcDateTime
    respond_by: UtcDateTime


@event("advice.given")
class AdviceGiven(AgencyEvent):
    advice: AdviceTaken


@event("lawful_basis.determined")
class LawfulBasisDetermined(AgencyEvent):
    basis: LawfulBasis
    determined_by: UserId
    determined_at: UtcDateTime


@event("information.selected")
class InformationSelected(AgencyEvent):
    items: list[InformationItem]
    selected_by: UserId
    selected_at: UtcDateTime


@event("decision.recorded")
class DecisionRecorded(AgencyEvent):
    record: DecisionRecord

    @model_validator(mode="after")
    def _ids_match(self) -> Self:
        if (self.record.request_id, self.record.agency) != (self.request_id, self.agency):
            raise ValueError("the record belongs to another request or agency")
        return self

    @property
    def outcome(self) -> Outcome:
        return self.record.outcome


@event("package.sent")
class PackageSent(AgencyEvent):
    """The selected items were sealed for the recipient agency's key and delivered."""

    package_id: UUID
    recipient_agency: AgencyCode
    sha256: Sha256Hex
    item_count: int
    sent_at: UtcDateTime
    acknowledge_by: UtcDateTime


@event("package.opened")
class PackageOpened(AgencyEvent):
    package_id: UUID
    opened_by: UserId
    opened_at: UtcDateTime


@event("package.acknowledged")
class ReceiptAcknowledged(AgencyEvent):
    package_id: UUID
    sha256: Sha256Hex
    acknowledged_by: UserId
    acknowledged_at: UtcDateTime


@event("package.revoked")
class PackageRevoked(AgencyEvent):
    package_id: UUID
    reason: Sealed
    revoked_by: UserId
    revoked_by_role: Role
    revoked_at: UtcDateTime


@event("person.informed")
class PersonInformed(AgencyEvent):
    note: Sealed | None
    informed_by: UserId
    informed_at: UtcDateTime


@event("person.not_informed")
class PersonNotInformed(AgencyEvent):
    reason: NotInformedReason
    review_on: date | None = None
    """Not informed for now, looked at again on this day."""
    note: Sealed | None
    recorded_by: UserId
    recorded_at: UtcDateTime


@event("agency_decision.completed")
class AgencyDecisionCompleted(AgencyEvent):
    outcome: Outcome
    not_share_reasons: list[NotShareReason] = []
    """For a decision not to share: its structured reasons, which the requester is told."""
    decided_at: UtcDateTime
    decision_due_at: UtcDateTime
    on_time: bool
    completed_at: UtcDateTime


# --- retention ----------------------------------------------------------------


@event("retention.review_opened")
class RetentionReviewOpened(RequestEvent):
    review_id: UUID
    record_type: RecordType
    due_on: date
    opened_at: UtcDateTime


@event("retention.record_retained")
class RecordRetained(RequestEvent):
    review_id: UUID
    record_type: RecordType
    reason: Sealed
    next_review_on: date
    reviewed_by: UserId
    reviewed_at: UtcDateTime


@event("retention.record_disposed")
class RecordDisposed(RequestEvent):
    review_id: UUID
    record_type: RecordType
    reason: DisposalReason
    disposed_by: UserId
    disposed_at: UtcDateTime


@event("retention.review_overdue")
class RetentionReviewOverdue(RequestEvent):
    """A review's decision was not made by its due time: escalated, and still open."""

    review_id: UUID
    record_type: RecordType
    due_at: UtcDateTime
    notify: list[Role]
    escalated_at: UtcDateTime


@event("retention.subject_erased")
class SubjectErased(RequestEvent):
    """The subject's key was destroyed: every sealed value about them is now unreadable."""

    subject_id: UUID
    reason: DisposalReason
    erased_by: UserId
    erased_at: UtcDateTime


AGENCY_EVENTS: tuple[type[AgencyEvent], ...] = (
    PurposeAssessed,
    ConsentSought,
    ConsentRecorded,
    ConsentNotSought,
    ConsentWithdrawn,
    AdviceRequested,
    AdviceGiven,
    LawfulBasisDetermined,
    InformationSelected,
    DecisionRecorded,
    PackageSent,
    PackageOpened,
    ReceiptAcknowledged,
    PackageRevoked,
    PersonInformed,
    PersonNotInformed,
    AgencyDecisionCompleted,
    DeadlineMissed,
    Escalated,
)
