"""The bodies of the task actions: one per workflow update, in plain words.

Free text is plain here and sealed (under the subject's key) as each body is
turned into its domain command; enums, booleans and dates pass through as
they are. Fields every new record must hold (who gave consent, the advisor's
capacity, public task's legal power) are required here, at the edge, so that
records made before they were asked still read and replay. :mod:`app.tasks`
completes a task with one (``complete``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, Self
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, model_validator

from domain import commands as c
from domain.commands import Command
from domain.events import Sealed
from domain.events.values import (
    InformationItem,
    LawfulBasis,
    LegalInstrument,
    ProtectedPerson,
)
from domain.facts import Assessment
from domain.inputs import NO_CONTROLS, ONE_LINE_PATTERN, Flag, ItemDate, NoControls
from domain.vocabulary import (
    AdvisorCapacity,
    Art6Basis,
    Art9Condition,
    ConsentOutcome,
    FactOrOpinion,
    InstrumentKind,
    NotSoughtReason,
    OffenceCondition,
    Para18Reason,
    WithoutConsentGround,
)

Seal = Callable[[str], Awaitable[Sealed]]

Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000), NO_CONTROLS
]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000), NO_CONTROLS]
CitationIn = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=160, pattern=r"^[^\r\n]+$"),
    NoControls(published=ONE_LINE_PATTERN),
]
"""A :data:`~domain.events.values.Citation` as sent: one line of plain text."""


async def _maybe(seal: Seal, text: str | None) -> Sealed | None:
    return await seal(text) if text else None


class Action(BaseModel, ABC):
    """A task body in plain words; each kind turns itself into its sealed domain command."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @abstractmethod
    async def command(self, seal: Seal) -> Command:
        """The domain command, with every free-text field sealed by ``seal``."""

    def plain(self, *but: str) -> dict[str, Any]:
        """The fields that pass to the command as they are: all but ``action`` and ``but``
        (the free text, sealed by the caller)."""
        skip = {"action", *but}
        return {name: getattr(self, name) for name in type(self).model_fields if name not in skip}


class InstrumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: InstrumentKind
    citation: CitationIn
    reference: Note | None = None

    async def instrument(self, seal: Seal) -> LegalInstrument:
        return LegalInstrument(
            kind=self.kind, citation=self.citation, reference=await _maybe(seal, self.reference)
        )


class AssessPurposeBody(Action, Assessment):
    """Step 1 to 3: is the purpose clear and legitimate; does it identify; is it confidential."""

    action: Literal["assess_purpose"]
    compelled: InstrumentIn | None = None
    """Step 4, asked before consent: the statutory duty or court order requiring sharing."""
    note: Note | None = None

    async def command(self, seal: Seal) -> Command:
        return c.AssessPurpose(
            **self.plain("compelled", "note"),
            compelled_by=await self.compelled.instrument(seal) if self.compelled else None,
            note=await _maybe(seal, self.note),
        )


class SeekConsentBody(Action):
    action: Literal["seek_consent"]
    note: Note | None = None

    async def command(self, seal: Seal) -> Command:
        return c.SeekConsent(note=await _maybe(seal, self.note))


class RecordConsentBody(Action, c.ConsentAnswer[Note]):
    action: Literal["record_consent"]
    outcome: Literal[
        ConsentOutcome.GIVEN,
        ConsentOutcome.REFUSED,
        ConsentOutcome.COULD_NOT_BE_OBTAINED,
        ConsentOutcome.SOUGHT_NO_ANSWER,
    ]

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
        return c.RecordConsent(
            **self.plain("scope", "note"),
            scope=await _maybe(seal, self.scope),
            note=await _maybe(seal, self.note),
        )


class ConsentNotSoughtBody(Action):
    action: Literal["consent_not_sought"]
    reason: NotSoughtReason
    explanation: Text
    protects: ProtectedPerson | None = None
    """For the risk reasons: who asking would put at risk (the subject when absent)."""

    async def command(self, seal: Seal) -> Command:
        return c.RecordConsentNotSought(
            reason=self.reason, explanation=await seal(self.explanation), at_risk=self.protects
        )


class RequestAdviceBody(Action, c.AdviceQuestion[Text]):
    action: Literal["request_advice"]

    async def command(self, seal: Seal) -> Command:
        return c.RequestAdvice(**self.plain("question"), question=await seal(self.question))


class GiveAdviceBody(Action, c.AdviceAnswer[Text]):
    action: Literal["give_advice"]
    capacity: AdvisorCapacity
    """Manager, Caldicott guardian or data protection officer: the record says which."""

    async def command(self, seal: Seal) -> Command:
        return c.GiveAdvice(**self.plain("advice"), advice=await seal(self.advice))


class DetermineLawfulBasisBody(Action):
    action: Literal["determine_lawful_basis"]
    art6: Art6Basis
    art9: Art9Condition | None = None
    without_consent: WithoutConsentGround | None = None
    instrument: InstrumentIn | None = None
    rationale: Note | None = None
    protects: ProtectedPerson | None = None
    """Who sharing protects, for a harm ground or para 18 (the subject when absent)."""
    para18_reason: Para18Reason | None = None
    offence_condition: OffenceCondition | None = None
    legal_power: CitationIn | None = None
    """For public task: the statute (and section) giving the function shared for."""
    life_or_death: Flag = False
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
            **self.plain("instrument", "rationale"),
            instrument=await self.instrument.instrument(seal) if self.instrument else None,
            rationale=await _maybe(seal, self.rationale),
        )
        return c.DetermineLawfulBasis(basis=basis)


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
    historical: Flag = False
    protect_identity: Flag = False
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
        return c.SelectInformation(items=items)


class RecordDecisionBody(Action, c.Decision[Text, Note]):
    action: Literal["record_decision"]

    async def command(self, seal: Seal) -> Command:
        return c.RecordDecision(
            **self.plain("reasons", "necessity", "urgent_override"),
            reasons=await seal(self.reasons),
            necessity=await _maybe(seal, self.necessity),
            urgent_override=await _maybe(seal, self.urgent_override),
        )


class RecordInformingBody(Action, c.Informing[Note]):
    action: Literal["record_informing"]

    async def command(self, seal: Seal) -> Command:
        return c.RecordInforming(**self.plain("note"), note=await _maybe(seal, self.note))


TaskAction = Annotated[
    AssessPurposeBody
    | SeekConsentBody
    | RecordConsentBody
    | ConsentNotSoughtBody
    | RequestAdviceBody
    | GiveAdviceBody
    | DetermineLawfulBasisBody
    | SelectInformationBody
    | RecordDecisionBody
    | RecordInformingBody,
    Field(discriminator="action"),
]
"""Any task body, told apart by its ``action``."""

TASK_ACTIONS: TypeAdapter[TaskAction] = TypeAdapter(TaskAction)
"""Validates a task body (a dict or JSON) into its action."""
