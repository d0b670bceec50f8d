"""Request and response bodies for the command side of sharing requests.

Every free-text field is plain text here, bounded in length; the application
layer seals it under the subject's key before anything leaves the process.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from domain.inputs import (
    NO_CONTROLS,
    REFUSED_RANGES,
    DateOfBirth,
    Flag,
    NoControls,
    holding_agencies_problem,
)
from domain.vocabulary import PurposeCategory, Rating, SubjectKind

AgencyCodeIn = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
UserIdIn = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^\S+$"),
    NoControls(published=rf"^[^\s{REFUSED_RANGES}]+$"),
]
"""A user id: no spaces, no control characters."""
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000), NO_CONTROLS
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000), NO_CONTROLS
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SubjectIn(Body):
    """Who the request is about. Never put in a URL, a log or a workflow id."""

    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NO_CONTROLS
    ]
    date_of_birth: DateOfBirth | None = None
    address: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), NO_CONTROLS] | None
    ) = None


class RequestCreate(Body):
    """A new sharing request, as the coordinator fills it in."""

    subject: SubjectIn
    subject_kind: SubjectKind
    requesting_agency: AgencyCodeIn
    holding_agencies: list[AgencyCodeIn] = Field(min_length=1, max_length=20)
    purpose_category: PurposeCategory
    purpose: LongText
    information_sought: LongText
    rating: Rating
    consent_already_held: Flag = False
    allegation_against_staff: Flag = Field(
        default=False,
        description="About an allegation against someone who works with children: the "
        "record is kept under the policy's allegation_against_staff retention rule.",
    )
    requested_by: UserIdIn | None = Field(
        default=None,
        description="The requesting practitioner's user id; the coordinator's own when omitted.",
    )

    @field_validator("holding_agencies")
    @classmethod
    def _distinct_holders(cls, value: list[str], info: ValidationInfo) -> list[str]:
        problem = holding_agencies_problem(info.data.get("requesting_agency"), value)
        if problem is not None:
            raise ValueError(problem)
        return value


class ProactiveShareCreate(Body):
    """A share a practitioner makes unsolicited, from their own agency to another."""

    subject: SubjectIn
    subject_kind: SubjectKind
    recipient_agency: AgencyCodeIn = Field(description="The agency told (it asked nothing).")
    purpose_category: PurposeCategory
    purpose: LongText = Field(description="Why the recipient needs to know now.")
    information: LongText = Field(
        description="What you mean to share, in outline; the items are chosen at step 8."
    )
    rating: Rating


class RequestCreated(BaseModel):
    request_id: UUID
    href: str


class WithdrawBody(Body):
    reason: ShortText


class RatingBody(Body):
    rating: Rating
    rationale: ShortText


class RequestChanged(BaseModel):
    """What a coordinator's change leaves: the request's rating and state now."""

    request_id: UUID
    rating: Rating
    withdrawn: bool
    version: int
