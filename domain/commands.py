"""Commands: what a person asks the system to do, in the imperative.

One model per step, so fields can be added without breaking running
workflows. Each is handled by a ``decide_*`` function that validates it and
returns the events to append. The actor and the current time are passed
alongside, never inside, a command.

A step a person takes from a task has a body at the edge (``app.task_bodies``)
with the same fields in plain words. The fields both share are defined once
here, as a shape generic in its free text (``T`` required, ``N`` optional):
``Sealed`` in the command, plain text (sealed on the way in) in the body.
"""

from __future__ import annotations

from datetime import date
from typing import Generic, Self, TypeVar
from uuid import UUID

from pydantic import Field, model_validator

from domain.events.base import Sealed
from domain.events.values import (
    InformationItem,
    InformPlan,
    JobTitle,
    LawfulBasis,
    LegalInstrument,
    ProtectedPerson,
    Sha256Hex,
)
from domain.facts import Assessment
from domain.frozen import Frozen
from domain.inputs import Flag, IsoDate
from domain.models import SharingRequest
from domain.vocabulary import (
    AdviceRecommendation,
    AdvisorCapacity,
    ConsentGiver,
    ConsentOutcome,
    CouldNotObtainReason,
    DisposalReason,
    NotInformedReason,
    NotShareReason,
    NotSoughtReason,
    Outcome,
    Rating,
)

T = TypeVar("T")
"""Required free text: ``Sealed`` in a command, plain in a task body."""
N = TypeVar("N")
"""Optional free text, likewise."""


class Command(Frozen):
    pass


# --- the shapes a command shares with its task body ------------------------------


class ConsentAnswer(Frozen, Generic[N]):
    """What came of seeking consent, beside the outcome itself."""

    could_not_obtain_reason: CouldNotObtainReason | None = None
    given_by: ConsentGiver | None = None
    capacity_considered: Flag | None = None
    scope: N | None = None
    note: N | None = None


class AdviceQuestion(Frozen, Generic[T]):
    question: T
    subject_named: Flag = False


class AdviceAnswer(Frozen, Generic[T]):
    """Advisor of the holding agency (the capacity they advise in is the body's and the
    command's own: required of every new answer, absent from older records)."""

    recommendation: AdviceRecommendation
    agrees_to_share_without_consent: Flag = False
    advice: T
    position: JobTitle | None = None


class Decision(Frozen, Generic[T, N]):
    outcome: Outcome
    reasons: T
    not_share_reasons: list[NotShareReason] = Field(default_factory=list, max_length=10)
    necessity: N | None = None
    inform: InformPlan | None = None
    urgent_override: N | None = None
    """Only when sharing without consent before an advisor agrees: why waiting was unsafe."""
    position: JobTitle | None = None
    """The decision maker's job title."""


class Informing(Frozen, Generic[N]):
    informed: Flag
    reason_not: NotInformedReason | None = None
    review_on: IsoDate | None = None
    """Not informed for now: when to look again (the task stays open until then)."""
    note: N | None = None

    @model_validator(mode="after")
    def _reason_when_not_informed(self) -> Self:
        if self.informed == (self.reason_not is not None):
            raise ValueError("reason_not: give a reason exactly when the person is not informed")
        if self.informed and self.review_on is not None:
            raise ValueError("review_on: a review date is for not informing")
        return self


# --- the request (coordinator) -----------------------------------------------


class OpenRequest(Command):
    request: SharingRequest


class ChangeRating(Command):
    rating: Rating
    rationale: Sealed


class WithdrawRequest(Command):
    reason: Sealed


# --- one agency's decision (worker unless noted) ------------------------------


class AssessPurpose(Command, Assessment):
    compelled_by: LegalInstrument | None = None
    """Step 4, asked before consent: the statutory duty or court order that requires
    sharing, if one applies. Consent is then not needed."""
    note: Sealed | None = None


class SeekConsent(Command):
    note: Sealed | None = None


class RecordConsent(Command, ConsentAnswer[Sealed]):
    outcome: ConsentOutcome

    @model_validator(mode="after")
    def _outcome_of_seeking(self) -> Self:
        allowed = {
            ConsentOutcome.GIVEN,
            ConsentOutcome.REFUSED,
            ConsentOutcome.COULD_NOT_BE_OBTAINED,
            ConsentOutcome.SOUGHT_NO_ANSWER,
        }
        if self.outcome not in allowed:
            raise ValueError(
                "outcome: record given, refused, could_not_be_obtained or sought_no_answer"
            )
        return self


class WithdrawConsent(Command):
    """Consent given for this decision has been withdrawn (by the person, or whoever gave it)."""

    withdrawn_by: ConsentGiver
    withdrawn_on: date
    scope: Sealed | None = None
    note: Sealed | None = None


class RecordConsentNotSought(Command):
    reason: NotSoughtReason
    explanation: Sealed
    at_risk: ProtectedPerson | None = None
    """For the risk reasons: who asking would put at risk (the subject when absent)."""


class RequestAdvice(Command, AdviceQuestion[Sealed]):
    pass


class GiveAdvice(Command, AdviceAnswer[Sealed]):
    capacity: AdvisorCapacity | None = None


class DetermineLawfulBasis(Command):
    basis: LawfulBasis


class SelectInformation(Command):
    items: list[InformationItem]


class RecordDecision(Command, Decision[Sealed, Sealed]):
    pass


class RecordPackageSent(Command):
    """The engine, after sealing and delivering the package."""

    package_id: UUID
    sha256: Sha256Hex


class OpenPackage(Command):
    """Recipient of the requesting agency."""

    package_id: UUID


class AcknowledgeReceipt(Command):
    """Recipient of the requesting agency; the digest must match what was sent."""

    package_id: UUID
    sha256: Sha256Hex


class RevokePackage(Command):
    """Worker or advisor of the holding agency."""

    package_id: UUID
    reason: Sealed


class RecordInforming(Command, Informing[Sealed]):
    pass


# --- retention (compliance officer) --------------------------------------------


class RetainRecord(Command):
    reason: Sealed
    next_review_on: date


class DisposeRecord(Command):
    reason: DisposalReason
