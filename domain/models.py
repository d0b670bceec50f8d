"""The hub's nouns: agencies, people acting in roles, requests, and the ISP register.

The enumerations live in :mod:`domain.vocabulary` (to keep the event catalogue
free of import cycles) and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated, Self
from uuid import UUID

from pydantic import BaseModel, StringConstraints, field_validator, model_validator

from domain.events.base import Sealed
from domain.events.values import (
    AdviceTaken,
    AgencyCode,
    ConsentRecord,
    DecisionRecord,
    InformationItem,
    InformPlan,
    LawfulBasis,
    LegalInstrument,
    UserId,
    UtcDateTime,
)
from domain.frozen import Frozen
from domain.inputs import holding_agencies_problem
from domain.vocabulary import (
    ADULT_KINDS,
    LEGITIMATE_PURPOSES,
    UNDER_18_KINDS,
    AdviceRecommendation,
    AgencyKind,
    Art6Basis,
    Art9Condition,
    ConsentOutcome,
    CouldNotObtainReason,
    DeadlineKind,
    DisposalReason,
    EscalationLevel,
    FactOrOpinion,
    InstrumentKind,
    NotInformedReason,
    NotShareReason,
    NotSoughtReason,
    Outcome,
    PurposeCategory,
    Rating,
    RecordType,
    RetentionAnchor,
    Role,
    SubjectKind,
    WithoutConsentGround,
    public_authority_by_kind,
)

__all__ = [
    "ADULT_KINDS",
    "LEGITIMATE_PURPOSES",
    "UNDER_18_KINDS",
    "Actor",
    "AdviceRecommendation",
    "AdviceTaken",
    "Agency",
    "AgencyCode",
    "AgencyKind",
    "AgencyRegister",
    "Art6Basis",
    "Art9Condition",
    "ConsentOutcome",
    "ConsentRecord",
    "CouldNotObtainReason",
    "DeadlineKind",
    "DecisionRecord",
    "DisposalReason",
    "EscalationLevel",
    "FactOrOpinion",
    "InformPlan",
    "InformationItem",
    "InstrumentKind",
    "Isp",
    "IspRegister",
    "LawfulBasis",
    "LegalInstrument",
    "NotInformedReason",
    "NotShareReason",
    "NotSoughtReason",
    "Outcome",
    "PurposeCategory",
    "Rating",
    "RecordType",
    "RetentionAnchor",
    "Role",
    "SharingRequest",
    "SubjectKind",
    "UserId",
    "UtcDateTime",
    "WithoutConsentGround",
    "sealed_values",
]

PublicKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{43}=$")]
"""An X25519 public key: 32 bytes, standard base64."""


class Agency(Frozen):
    code: AgencyCode
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    kind: AgencyKind
    public_key: PublicKey | None = None
    """Where sealed packages for this agency are encrypted to; needed to receive information."""
    public_authority: bool | None = None
    """A public authority (its functions are a public task): set in the register for each
    agency; None (not given) reads as the default its kind suggests."""

    @property
    def is_public_authority(self) -> bool:
        if self.public_authority is None:
            return public_authority_by_kind(self.kind)
        return self.public_authority


class AgencyRegister(Frozen):
    agencies: list[Agency]

    @field_validator("agencies")
    @classmethod
    def _unique_codes(cls, value: list[Agency]) -> list[Agency]:
        codes = [a.code for a in value]
        if len(codes) != len(set(codes)):
            raise ValueError("each agency code may appear only once")
        return value

    def get(self, code: str) -> Agency | None:
        return next((a for a in self.agencies if a.code == code), None)

    def __contains__(self, code: object) -> bool:
        return any(a.code == code for a in self.agencies)


class Actor(Frozen):
    """Someone acting in the system: an opaque user id, a role, and an agency when they have one."""

    user_id: UserId
    role: Role
    agency: AgencyCode | None = None

    def is_(self, role: Role, agency: str | None = None) -> bool:
        return self.role is role and (agency is None or self.agency == agency)


class Isp(Frozen):
    """An information sharing protocol between two agencies. Helpful, never required."""

    isp_id: UUID
    agencies: Annotated[list[AgencyCode], "two distinct agency codes"]
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    signed_on: date
    expires_on: date | None = None
    reference: str | None = None
    """The hub's reference for the protocol (the decision record names it)."""

    @field_validator("agencies")
    @classmethod
    def _two_agencies(cls, value: list[str]) -> list[str]:
        if len(value) != 2 or value[0] == value[1]:
            raise ValueError("an ISP is between exactly two different agencies")
        return sorted(value)

    def in_force(self, on: date) -> bool:
        return self.signed_on <= on and (self.expires_on is None or on <= self.expires_on)


class IspRegister(Frozen):
    isps: list[Isp] = []

    def exists_between(self, a: str, b: str, on: date) -> bool:
        """Whether an ISP in force covers the pair. Its absence never blocks sharing."""
        return self.in_force_between(a, b, on) is not None

    def in_force_between(self, a: str, b: str, on: date) -> Isp | None:
        """The ISP in force between the pair (the latest signed), if any."""
        pair = sorted((a, b))
        found = [isp for isp in self.isps if isp.agencies == pair and isp.in_force(on)]
        return max(found, key=lambda isp: isp.signed_on) if found else None


class SharingRequest(Frozen):
    """A request, opened by the hub for a requesting agency, to one or more holding agencies."""

    request_id: UUID
    subject_id: UUID
    subject_kind: SubjectKind
    requesting_agency: AgencyCode
    requested_by: UserId
    holding_agencies: list[AgencyCode]
    purpose_category: PurposeCategory
    rating: Rating
    subject_details: Sealed
    purpose: Sealed
    information_sought: Sealed
    consent_already_held: bool = False
    allegation_against_staff: bool = False
    """The request is about an allegation against someone who works with children."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        problem = holding_agencies_problem(self.requesting_agency, self.holding_agencies)
        if problem is not None:
            raise ValueError(f"holding_agencies: {problem}")
        for name, value in sealed_values(self):
            if value.subject_id != self.subject_id:
                raise ValueError(f"{name}: sealed for a different subject")
        return self


def sealed_values(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Sealed]]:
    """Every sealed value in a model, nested models and lists included, with its field path."""
    for name in type(model).model_fields:
        yield from _walk(getattr(model, name), f"{prefix}{name}")


def _walk(value: object, path: str) -> Iterator[tuple[str, Sealed]]:
    if isinstance(value, Sealed):
        yield path, value
    elif isinstance(value, BaseModel):
        yield from sealed_values(value, f"{path}.")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]")
