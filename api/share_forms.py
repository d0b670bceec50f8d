"""The proactive-share page's form: what a worker types, checked before anything is sealed."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from api.request_forms import EARLIEST_BIRTH, SUBJECT_RENAMES, SubjectForm


class ShareForm(SubjectForm):
    REQUIRED = {
        "recipient_agency": "Select the agency to tell",
        "subject_name": "Enter the full name of the person it is about",
        "subject_kind": "Select who the person is",
        "purpose_category": "Select the purpose",
        "purpose": "Enter why they need to know now",
        "information": "Enter what you mean to share",
        "rating": "Select how urgent it is",
    }
    recipient_agency: str = ""
    subject_kind: str = ""
    purpose_category: str = ""
    purpose: str = Field("", max_length=10_000)
    information: str = Field("", max_length=10_000)
    rating: str = ""

    opening_key: str = Field("", max_length=255)
    """The form's one-time key (``api.opening_forms``), hidden; not part of the body."""

    def check(self) -> dict[str, str]:
        errors = super().check()
        if "subject_dob" not in errors:
            born = self.date("subject_dob")
            if born is not None and not EARLIEST_BIRTH <= born <= date.today():
                errors["subject_dob"] = "Date of birth must be in the past, after 1 January 1900"
        return errors

    def body(self) -> dict[str, Any]:
        return {
            "subject": self.subject(),
            "subject_kind": self.subject_kind,
            "recipient_agency": self.recipient_agency,
            "purpose_category": self.purpose_category,
            "purpose": self.purpose,
            "information": self.information,
            "rating": self.rating,
        }


SHARE_RENAMES = SUBJECT_RENAMES
