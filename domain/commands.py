"""Commands: what a person asks the system to do, in the imperative.

One model per step, so fields can be added without breaking running
workflows. Each is handled by a ``decide_*`` function that validates it and
returns the events to append. The actor and the current time are passed
alongside, never inside, a command.
"""

from __future__ import annotations

from datetime import date
from typing import Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, model_validator

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


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- the request (coordinator) -----------------------------------------------


class OpenRequest(Command):
    request: SharingRequest


class ChangeRating(Command):
    rating: Rating
    rationale: Sealed


class WithdrawRequest(Command):
    reason: Sealed


# --- one agency's decision (worker unless noted) ------------------------------


class AssessPurpose(Command):
    purpose_clear: bool
    """The worker finds the stated purpose clear and genuinely of the stated category."""
    identifiable: bool
    confidential: bool
    special_category: bool
    adult_at_risk: bool = False
    criminal_offence_data: bool = False
    """Offences or allegations (criminal offence data): a condition is needed as well."""
    compelled_by: LegalInstrument | None = None
    """Step 4, asked before consent: the statutory duty or court order that requires
    sharing, if one applies. Consent is then not needed."""
    note: Sealed | None = None


class SeekConsent(Command):
    note: Sealed | None = None


class RecordConsent(Command):
    outcome: ConsentOutcome
    could_not_obtain_reason: CouldNotObtainReason | None = None
    given_by: ConsentGiver | None = None
    capacity_considered: bool | None = None
    scope: Sealed | None = None
    note: Sealed | None = None

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


class RequestAdvice(Command):
    question: Sealed
    subject_named: bool = False


class GiveAdvice(Command):
    """Advisor of the holding agency."""

    recommendation: AdviceRecommendation
    agrees_to_share_without_consent: bool = False
    advice: Sealed
    capacity: AdvisorCapacity | None = None
    position: JobTitle | None = None


class DetermineLawfulBasis(Command):
    basis: LawfulBasis


class SelectInformation(Command):
    items: list[InformationItem]


class RecordDecision(Command):
    outcome: Outcome
    reasons: Sealed
    not_share_reasons: list[NotShareReason] = []
    necessity: Sealed | None = None
    inform: InformPlan | None = None
    urgent_override: Sealed | None = None
    """Only when sharing without consent before an advisor agrees: why waiting was unsafe."""
    position: JobTitle | None = None
    """The decision maker's job title."""


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


class RecordInforming(Command):
    informed: bool
    reason_not: NotInformedReason | None = None
    review_on: date | None = None
    """Not informed for now: when to look again (the task stays open until then)."""
    note: Sealed | None = None

    @model_validator(mode="after")
    def _reason_when_not_informed(self) -> Self:
        if self.informed == (self.reason_not is not None):
            raise ValueError("reason_not: give a reason exactly when the person is not informed")
        if self.informed and self.review_on is not None:
            raise ValueError("review_on: a review date is for not informing")
        return self


# --- retention (compliance officer) --------------------------------------------


class RetainRecord(Command):
    reason: Sealed
    next_review_on: date


class DisposeRecord(Command):
    reason: DisposalReason
