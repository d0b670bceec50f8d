"""The bodies of the task actions: one per workflow update, in plain words.

Free text is plain here and sealed (under the subject's key) as each body is
turned into its domain command; enums, booleans and dates pass through as
they are. Fields every new record must hold (who gave consent, the advisor's
capacity, public task's legal power) are required here, at the edge, so that
records made before they were asked still read and replay. :mod:`app.tasks`
routes a body to its workflow and re-exports these.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING, Annotated, Literal, Self
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from domain.commands import (
    AssessPurpose,
    Command,
    DetermineLawfulBasis,
    GiveAdvice,
    RecordConsent,
    RecordConsentNotSought,
    RecordDecision,
    RecordInforming,
    RequestAdvice,
    SeekConsent,
    SelectInformation,
)
from domain.events import Sealed
from domain.events.values import (
    InformationItem,
    InformPlan,
    JobTitle,
    LawfulBasis,
    LegalInstrument,
    ProtectedPerson,
)
from domain.inputs import NO_CONTROLS, ItemDate
from domain.vocabulary import (
    AdviceRecommendation,
    AdvisorCapacity,
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
    WithoutConsentGround,
)

if TYPE_CHECKING:
    pass

Seal = Callable[[str], Awaitable[Sealed]]

Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000), NO_CONTROLS
]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000), NO_CONTROLS]


async def _maybe(seal: Seal, text: str | None) -> Sealed | None:
    return await seal(text) if text else None


class Action(BaseModel, ABC):
    """A task body in plain words; each kind turns itself into its sealed domain command."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @abstractmethod
    async def command(self, seal: Seal) -> Command:
        """The domain command, with every free-text field sealed by ``seal``."""


class InstrumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: InstrumentKind
    citation: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=3, max_length=160, pattern=r"^[^\r\n]+$"
        ),
        NO_CONTROLS,
    ]
    reference: Note | None = None

    async def instrument(self, seal: Seal) -> LegalInstrument:
        return LegalInstrument(
            kind=self.kind, citation=self.citation, reference=await _maybe(seal, self.reference)
        )


class ProtectedIn(BaseModel):
    """Who is protected: a relation to the subject and the kind of harm, never a name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    relation: ProtectedRelation
    kind: AtRiskKind

    def person(self) -> ProtectedPerson:
        return ProtectedPerson(relation=self.relation, kind=self.kind)


class AssessPurposeBody(Action):
    """Step 1 to 3: is the purpose clear and legitimate; does it identify; is it confidential."""

    action: Literal["assess_purpose"]
    purpose_clear: bool
    identifiable: bool
    confidential: bool
    special_category: bool
    adult_at_risk: bool = False
    criminal_offence_data: bool = False
    compelled: InstrumentIn | None = None
    """Step 4, asked before consent: the statutory duty or court order requiring sharing."""
    note: Note | None = None

    async def command(self, seal: Seal) -> Command:
        return AssessPurpose(
            purpose_clear=self.purpose_clear,
            identifiable=self.identifiable,
            confidential=self.confidential,
            special_category=self.special_category,
            adult_at_risk=self.adult_at_risk,
            criminal_offence_data=self.criminal_offence_data,
            compelled_by=await self.compelled.instrument(seal) if self.compelled else None,
            note=await _maybe(seal, self.note),
        )


class SeekConsentBody(Action):
    action: Literal["seek_consent"]
    note: Note | None = None

    async def command(self, seal: Seal) -> Command:
        return SeekConsent(note=await _maybe(seal, self.note))


class RecordConsentBody(Action):
    action: Literal["record_consent"]
    outcome: Literal[
        ConsentOutcome.GIVEN,
        ConsentOutcome.REFUSED,
        ConsentOutcome.COULD_NOT_BE_OBTAINED,
        ConsentOutcome.SOUGHT_NO_ANSWER,
    ]
    could_not_obtain_reason: CouldNotObtainReason | None = None
    given_by: ConsentGiver | None = None
    capacity_considered: bool | None = None
    scope: Note | None = None
    note: Note | None = None

    @model_validator(mode="after")
    def _given_in_full(self) -> Self:
        """Every new record of consent given says by whom and whether capacity (or a
        child's competence) was considered, as the ICO form asks; older records lack it."""
        if self.outcome is ConsentOutcome.GIVEN and (
            self.given_by is None or self.capacity_considered is None
        ):
            raise ValueError(
                "given_by: say who gave consent and whether capacity or competence was considered"
            )
        return self

    async def command(self, seal: Seal) -> Command:
        return RecordConsent(
            outcome=self.outcome,
            could_not_obtain_reason=self.could_not_obtain_reason,
            given_by=self.given_by,
            capacity_considered=self.capacity_considered,
            scope=await _maybe(seal, self.scope),
            note=await _maybe(seal, self.note),
        )


class ConsentNotSoughtBody(Action):
    action: Literal["consent_not_sought"]
    reason: NotSoughtReason
    explanation: Text
    protects: ProtectedIn | None = None
    """For the risk reasons: who asking would put at risk (the subject when absent)."""

    async def command(self, seal: Seal) -> Command:
        return RecordConsentNotSought(
            reason=self.reason,
            explanation=await seal(self.explanation),
            at_risk=self.protects.person() if self.protects else None,
        )


class RequestAdviceBody(Action):
    action: Literal["request_advice"]
    question: Text
    subject_named: bool = False

    async def command(self, seal: Seal) -> Command:
        return RequestAdvice(question=await seal(self.question), subject_named=self.subject_named)


class GiveAdviceBody(Action):
    action: Literal["give_advice"]
    recommendation: AdviceRecommendation
    agrees_to_share_without_consent: bool = False
    advice: Text
    capacity: AdvisorCapacity
    """Manager, Caldicott guardian or data protection officer: the record says which."""
    position: JobTitle | None = None

    async def command(self, seal: Seal) -> Command:
        return GiveAdvice(
            recommendation=self.recommendation,
            agrees_to_share_without_consent=self.agrees_to_share_without_consent,
            advice=await seal(self.advice),
            capacity=self.capacity,
            position=self.position,
        )


class DetermineLawfulBasisBody(Action):
    action: Literal["determine_lawful_basis"]
    art6: Art6Basis
    art9: Art9Condition | None = None
    without_consent: WithoutConsentGround | None = None
    instrument: InstrumentIn | None = None
    rationale: Note | None = None
    protects: ProtectedIn | None = None
    """Who sharing protects, for a harm ground or para 18 (the subject when absent)."""
    para18_reason: Para18Reason | None = None
    offence_condition: OffenceCondition | None = None
    legal_power: (
        Annotated[
            str,
            StringConstraints(
                strip_whitespace=True, min_length=3, max_length=160, pattern=r"^[^\r\n]+$"
            ),
            NO_CONTROLS,
        ]
        | None
    ) = None
    """For public task: the statute (and section) giving the function shared for."""
    life_or_death: bool = False
    """Yes to: is someone's life at stake? Vital interests is refused without it."""

    @model_validator(mode="after")
    def _public_task_names_its_power(self) -> Self:
        """Every new record on public task names the legal power behind the function
        (the ICO form asks); older records lack it."""
        if self.art6 is Art6Basis.PUBLIC_TASK and self.legal_power is None:
            raise ValueError(
                "legal_power: name the statute giving the function you share for "
                "(for example Children Act 1989 s.47)"
            )
        return self

    async def command(self, seal: Seal) -> Command:
        basis = LawfulBasis(
            art6=self.art6,
            art9=self.art9,
            without_consent=self.without_consent,
            instrument=await self.instrument.instrument(seal) if self.instrument else None,
            rationale=await _maybe(seal, self.rationale),
            protects=self.protects.person() if self.protects else None,
            para18_reason=self.para18_reason,
            offence_condition=self.offence_condition,
            legal_power=self.legal_power,
            life_or_death=self.life_or_death,
        )
        return DetermineLawfulBasis(basis=basis)


class ItemIn(BaseModel):
    """One piece of information to send: fact or opinion, dated, historical or current."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), NO_CONTROLS
    ]
    content: Text
    source: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), NO_CONTROLS
    ]
    kind: FactOrOpinion
    dated: ItemDate
    historical: bool = False
    protect_identity: bool = False
    """Names a referrer or third party who must not be identified to the family."""


class SelectInformationBody(Action):
    action: Literal["select_information"]
    items: list[ItemIn] = Field(min_length=1, max_length=50)

    async def command(self, seal: Seal) -> Command:
        items = [
            InformationItem(
                item_id=uuid4(),
                description=await seal(i.description),
                content=await seal(i.content),
                source=await seal(i.source),
                kind=i.kind,
                dated=i.dated,
                historical=i.historical,
                protect_identity=i.protect_identity,
            )
            for i in self.items
        ]
        return SelectInformation(items=items)


class InformPlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    will_inform: bool
    reason_not: NotInformedReason | None = None
    review_on: date | None = None
    """Not told for now: the day to look again (an inform-person task is due then)."""

    @model_validator(mode="after")
    def _reason(self) -> Self:
        if self.will_inform == (self.reason_not is not None):
            raise ValueError("give a reason exactly when the person will not be informed")
        if self.will_inform and self.review_on is not None:
            raise ValueError("a review date is for a decision not to inform")
        return self


class RecordDecisionBody(Action):
    action: Literal["record_decision"]
    outcome: Outcome
    reasons: Text
    not_share_reasons: list[NotShareReason] = Field(default_factory=list, max_length=10)
    necessity: Note | None = None
    inform: InformPlanIn | None = None
    urgent_override: Note | None = None
    position: JobTitle | None = None
    """The decision maker's job title, for the record."""

    async def command(self, seal: Seal) -> Command:
        inform = None
        if self.inform is not None:
            inform = InformPlan(
                will_inform=self.inform.will_inform,
                reason_not=self.inform.reason_not,
                review_on=self.inform.review_on,
            )
        return RecordDecision(
            outcome=self.outcome,
            reasons=await seal(self.reasons),
            not_share_reasons=self.not_share_reasons,
            necessity=await _maybe(seal, self.necessity),
            inform=inform,
            urgent_override=await _maybe(seal, self.urgent_override),
            position=self.position,
        )


class RecordInformingBody(Action):
    action: Literal["record_informing"]
    informed: bool
    reason_not: NotInformedReason | None = None
    review_on: date | None = None
    note: Note | None = None

    @model_validator(mode="after")
    def _reason(self) -> Self:
        if self.informed == (self.reason_not is not None):
            raise ValueError("give a reason exactly when the person is not informed")
        if self.informed and self.review_on is not None:
            raise ValueError("review_on: a review date is for not informing")
        return self

    async def command(self, seal: Seal) -> Command:
        return RecordInforming(
            informed=self.informed,
            reason_not=self.reason_not,
            review_on=self.review_on,
            note=await _maybe(seal, self.note),
        )
