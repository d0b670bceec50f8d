"""The forms of requests and packages: a new request, a new rating, a withdrawal, recalling
a package and acknowledging one. Each ``body()`` is the body the API's matching endpoint
takes."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from api.forms import PageForm

EARLIEST_BIRTH = date(1900, 1, 1)


class SubjectForm(PageForm):
    """The person a new request or share is about, as typed: a name and a date of birth in
    three boxes (each form says in its own words what is wrong with the date)."""

    DATES = {"subject_dob": "date of birth"}
    subject_name: str = Field("", max_length=200)
    subject_dob_day: str = ""
    subject_dob_month: str = ""
    subject_dob_year: str = ""

    def subject(self) -> dict[str, Any]:
        """The body's ``subject``: the name, and the date of birth when one is typed."""
        born = self.date("subject_dob")
        subject: dict[str, Any] = {"name": self.subject_name}
        if born is not None:
            subject["date_of_birth"] = born.isoformat()
        return subject


SUBJECT_RENAMES = {"subject_date_of_birth": "subject_dob"}
"""The API's name for the date of birth, as the forms name it."""


class NewRequestForm(SubjectForm):
    REQUIRED = {
        "subject_name": "Enter the full name of the person the request is about",
        "subject_kind": "Select who the person is",
        "requesting_agency": "Select the requesting agency",
        "holding_agencies": "Select at least one agency to ask",
        "purpose_category": "Select the purpose",
        "purpose": "Enter why the information is needed",
        "information_sought": "Enter what information is sought",
        "rating": "Select how urgent the request is",
    }
    subject_address: str = Field("", max_length=500)
    subject_kind: str = ""
    requesting_agency: str = ""
    holding_agencies: list[str] = Field(default_factory=list, max_length=20)
    purpose_category: str = ""
    purpose: str = Field("", max_length=10_000)
    information_sought: str = Field("", max_length=10_000)
    rating: str = ""
    consent_already_held: str = ""
    allegation_against_staff: str = ""

    opening_key: str = Field("", max_length=255)
    """The form's one-time key (``api.opening_forms``), hidden; not part of the body."""

    def check(self) -> dict[str, str]:
        errors = super().check()
        if "subject_dob" not in errors:
            born = self.date("subject_dob")
            if born is not None and born > date.today():
                errors["subject_dob"] = "Date of birth must be in the past"
            elif born is not None and born < EARLIEST_BIRTH:
                errors["subject_dob"] = "Date of birth must be on or after 1 January 1900"
        return errors

    def body(self) -> dict[str, Any]:
        subject = self.subject()
        if self.subject_address.strip():
            subject["address"] = self.subject_address
        return {
            "subject": subject,
            "subject_kind": self.subject_kind,
            "requesting_agency": self.requesting_agency,
            "holding_agencies": self.holding_agencies,
            "purpose_category": self.purpose_category,
            "purpose": self.purpose,
            "information_sought": self.information_sought,
            "rating": self.rating,
            "consent_already_held": self.consent_already_held == "true",
            "allegation_against_staff": self.allegation_against_staff == "true",
        }


NEW_REQUEST_RENAMES = SUBJECT_RENAMES


class RatingForm(PageForm):
    REQUIRED = {
        "rating": "Select the new rating",
        "rationale": "Enter why the rating changes",
    }
    rating: str = ""
    rationale: str = Field("", max_length=2000)

    def body(self) -> dict[str, Any]:
        return {"rating": self.rating, "rationale": self.rationale}


class WithdrawForm(PageForm):
    REQUIRED = {"reason": "Enter why the request is withdrawn"}
    reason: str = Field("", max_length=2000)

    def body(self) -> dict[str, Any]:
        return {"reason": self.reason}


class RevokeForm(PageForm):
    REQUIRED = {"reason": "Enter why the package is revoked"}
    reason: str = Field("", max_length=2000)

    def body(self) -> dict[str, Any]:
        return {"reason": self.reason}


class AcknowledgeForm(PageForm):
    """The opened package's digest, carried by the page that showed it."""

    REQUIRED = {"sha256": "The package's digest is missing: open the package again"}
    sha256: str = Field("", max_length=64)

    def body(self) -> dict[str, Any]:
        return {"sha256": self.sha256}
