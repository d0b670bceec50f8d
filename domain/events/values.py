"""Value objects shared by events and commands: the parts of a decision record.

Free text and anything that could identify someone is :class:`Sealed`; ids,
enums, dates, user ids, roles and agency codes stay in clear so that the
decision trail stays auditable after the subject's key is destroyed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Self
from uuid import UUID

from pydantic import AfterValidator, StringConstraints, model_validator

from domain.events.base import Sealed
from domain.frozen import Frozen
from domain.inputs import ONE_LINE_PATTERN, Flag, IsoDate, NoControls
from domain.vocabulary import (
    AdviceRecommendation,
    AdvisorCapacity,
    AgencyKind,
    Art6Basis,
    Art9Condition,
    AtRiskKind,
    ConsentGiver,
    ConsentOutcome,
    CouldNotObtainReason,
    FactOrOpinion,
    InstrumentKind,
    NotInformedReason,
    NotShareReason,
    NotSoughtReason,
    OffenceCondition,
    Outcome,
    Para18Reason,
    ProtectedRelation,
    PurposeCategory,
    Role,
    WithoutConsentGround,
)


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must be timezone-aware")
    return value.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_as_utc)]
"""An instant: refused when naive, normalised to UTC."""

AgencyCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
"""A hub's short id for an agency, such as ``police`` or ``csc_north``."""

UserId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^\S+$")]
"""An opaque user id from the identity provider: never a name or an email address."""

Citation = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=160, pattern=r"^[^\r\n]+$"),
]
"""A statute and section, or a kind of order and its court: public law, never a case detail."""

Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]

JobTitle = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=120, pattern=r"^[^\r\n]+$"),
    NoControls(published=ONE_LINE_PATTERN),
]
"""A member of staff's position as they give it (such as "Designated safeguarding lead"):
about the practitioner, never the person the information is about."""


class Value(Frozen):
    pass


class Holder(Value):
    """A holding agency as it stood at the request's opening."""

    agency: AgencyCode
    kind: AgencyKind
    isp_with_requester: bool
    """Whether an ISP with the requesting agency was in force: recorded, never a precondition."""
    public_authority: bool
    """Whether the register held the agency to be a public authority at the opening (read
    by the rules for public task; requests recorded before it was a register field read the
    default of the agency's kind, see ``domain.events.upcasters``)."""
    isp_reference: Annotated[str, StringConstraints(max_length=100)] | None = None
    """The reference of the ISP in force with the requesting agency, as the register gives
    it (the decision record names the protocol relied on)."""


class InformationItem(Value):
    """One piece of information selected for sharing (step 8: how to share)."""

    item_id: UUID
    description: Sealed
    content: Sealed
    kind: FactOrOpinion
    dated: date
    source: Sealed
    historical: bool
    protect_identity: bool = False
    """The item names a referrer or a third party who could be harmed if identified (the
    2024 edition: protect anyone whose details could reach an abuser). The sealed package
    keeps the mark and the recipient is warned not to disclose who they are."""


class LegalInstrument(Value):
    """The statutory duty or court order relied on: the record must name it."""

    kind: InstrumentKind
    citation: Citation
    reference: Sealed | None = None
    """A court's case reference, if any: it can identify people, so it is sealed."""


class ProtectedPerson(Value):
    """Who sharing protects: a relation to the subject and the kind of harm, never a name.

    The guidance's harm reasons concern whoever would be harmed, who need not be the
    person the information is about: a parent's information is often shared to protect
    their child.
    """

    relation: ProtectedRelation
    kind: AtRiskKind


class LawfulBasis(Value):
    """The lawful basis for sharing, as determined by the worker."""

    art6: Art6Basis
    art9: Art9Condition | None = None
    without_consent: WithoutConsentGround | None = None
    instrument: LegalInstrument | None = None
    rationale: Sealed | None = None
    """The judgement on the facts (required for a public-interest ground)."""
    protects: ProtectedPerson | None = None
    """Who is protected, for a harm ground or DPA 2018 Sch. 1 para 18. Absent on records
    made before it was asked: the subject, as the rules then assumed."""
    para18_reason: Para18Reason | None = None
    """Why the subject's consent is not had, where para 18 is relied on."""
    offence_condition: OffenceCondition | None = None
    """The condition for criminal offence data (Art. 10 with Sch. 1, or Part 3)."""
    legal_power: Citation | None = None
    """For public task: the statute (and section) giving the function shared for."""
    life_or_death: bool = False
    """The worker answered yes to: is someone's life at stake (or serious physical harm
    imminent)? Vital interests is refused without it."""


class ConsentWithdrawal(Value):
    """Consent given earlier and withdrawn: by whom, on what day, and what it covers."""

    withdrawn_by: ConsentGiver
    """Who withdrew it: the person, a parent or carer, someone with parental responsibility."""
    withdrawn_on: date
    """The day the person withdrew it (told to the agency), not the day it was recorded."""
    scope: Sealed | None = None
    """What the withdrawal covers, in their words, if not all of the consent."""
    recorded_by: UserId
    recorded_at: UtcDateTime


class ConsentRecord(Value):
    """The consent outcome of a decision, with the reason when there is no consent."""

    outcome: ConsentOutcome
    could_not_obtain_reason: CouldNotObtainReason | None = None
    not_sought_reason: NotSoughtReason | None = None
    at_risk: ProtectedPerson | None = None
    """Who asking would have put at risk, for the risk reasons of not seeking consent."""
    given_by: ConsentGiver | None = None
    """For consent given: the person, or for a child a parent or carer or someone with
    parental responsibility."""
    capacity_considered: bool | None = None
    """For consent given: the person's capacity (or a child's competence) was considered."""
    scope: Sealed | None = None
    """For consent given: what it covers (whom to, which information, for what)."""
    note: Sealed | None = None
    recorded_at: UtcDateTime
    withdrawal: ConsentWithdrawal | None = None
    """Set exactly when the outcome is ``withdrawn``: the consent above (who gave it, its
    scope) was later withdrawn."""

    @model_validator(mode="after")
    def _reason_matches_outcome(self) -> Self:
        if (self.outcome is ConsentOutcome.WITHDRAWN) != (self.withdrawal is not None):
            raise ValueError("a withdrawal is recorded exactly when consent was withdrawn")
        needs_cno = self.outcome is ConsentOutcome.COULD_NOT_BE_OBTAINED
        needs_ns = self.outcome is ConsentOutcome.NOT_SOUGHT
        if needs_cno != (self.could_not_obtain_reason is not None):
            raise ValueError("a reason is required exactly when consent could not be obtained")
        if needs_ns != (self.not_sought_reason is not None):
            raise ValueError("a reason is required exactly when consent was not sought")
        return self


class AdviceTaken(Value):
    """Advice given by an advisor (manager, Caldicott guardian, data protection officer)."""

    advisor_id: UserId
    capacity: AdvisorCapacity | None = None
    """Manager, Caldicott guardian or data protection officer (absent on older records)."""
    position: JobTitle | None = None
    """The advisor's job title, as they gave it."""
    recommendation: AdviceRecommendation
    agrees_to_share_without_consent: bool
    advice: Sealed
    given_at: UtcDateTime
    review_after_urgent_share: bool = False


class InformPlan(Value):
    """Whether the person will be told their information was shared, and if not, why."""

    will_inform: Flag
    reason_not: NotInformedReason | None = None
    review_on: IsoDate | None = None
    """When a temporary reason (an investigation, a risk that may pass) is looked at again:
    until then an inform-person task stays open, due that day."""

    @model_validator(mode="after")
    def _reason_when_not_informing(self) -> Self:
        if self.will_inform == (self.reason_not is not None):
            raise ValueError("give a reason exactly when the person will not be informed")
        if self.will_inform and self.review_on is not None:
            raise ValueError("a review date is for a decision not to inform")
        return self


class DecisionRecord(Value):
    """The full record of one agency's decision, after the ICO request and decision form.

    The data requested and the purpose narrative are referred to, not copied:
    they are sealed in the ``request.opened`` event of the same ``request_id``.
    """

    request_id: UUID
    agency: AgencyCode
    requesting_agency: AgencyCode
    requested_by: UserId
    received_at: UtcDateTime
    purpose_category: PurposeCategory
    lawful_basis: LawfulBasis | None
    necessity: Sealed | None
    """Why sharing is necessary and proportionate (required to share)."""
    isp_exists: bool
    consent: ConsentRecord
    advice: list[AdviceTaken]
    outcome: Outcome
    reasons: Sealed
    not_share_reasons: list[NotShareReason]
    items: list[InformationItem]
    shared_with: AgencyCode | None
    inform: InformPlan | None
    urgent_override: Sealed | None
    """Why waiting for an advisor's agreement would have put someone at risk."""
    decided_by: UserId
    decided_by_role: Role
    decided_by_position: JobTitle | None = None
    """The decision maker's job title, as they gave it (the ICO form asks for it)."""
    decided_at: UtcDateTime
    isp_reference: str | None = None
    """The information sharing protocol in force with the recipient, by the register's
    reference (absent: none was in force, or the record predates it being kept)."""
    proactive: bool = False
    """Shared unsolicited by the holding agency, not in answer to a hub request."""
