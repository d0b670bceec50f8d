"""What a coordinator (or a worker sharing proactively) gives to open a request, in plain
words, before :mod:`app.requests` seals it under the subject's key."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from domain.inputs import DateOfBirth, PlainText, holding_agencies_problem
from domain.vocabulary import PurposeCategory, Rating, SubjectKind

Text = Field(min_length=1, max_length=10_000)


class SubjectDetails(BaseModel):
    """Who the request is about. Sealed under the subject's own key at once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: PlainText = Field(min_length=1, max_length=200)
    date_of_birth: DateOfBirth | None = None
    address: PlainText | None = Field(default=None, max_length=500)


class NewRequest(BaseModel):
    """A coordinator's new request, in plain words, before sealing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: SubjectDetails
    subject_kind: SubjectKind
    requesting_agency: str = Field(min_length=2, max_length=40)
    requested_by: str = Field(min_length=1, max_length=128)
    holding_agencies: list[str] = Field(min_length=1, max_length=20)
    purpose_category: PurposeCategory
    purpose: PlainText = Text
    information_sought: PlainText = Text
    rating: Rating
    consent_already_held: bool = False
    allegation_against_staff: bool = False

    @field_validator("holding_agencies")
    @classmethod
    def _distinct_holders(cls, value: list[str], info: ValidationInfo) -> list[str]:
        problem = holding_agencies_problem(info.data.get("requesting_agency"), value)
        if problem is not None:
            raise ValueError(problem)
        return value
