"""The page form for consent withdrawn after it was given: who withdrew it, the day (as day /
month / year, not ahead of today), whether it covers all of the consent or what part, and
an optional note. Its ``body()`` is the body of ``POST /api/requests/{id}/agencies/
{agency}/consent-withdrawal``, which validates it, so the page and the API record the same
thing through the same use case (:func:`app.consent_withdrawal.record_withdrawal`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import Field

from api.forms import PageForm, blank

ALL, PART = "all", "part"


class ConsentWithdrawalForm(PageForm):
    REQUIRED = {
        "withdrawn_by": "Select who withdrew consent",
        "covers": "Select whether the withdrawal covers all of the consent or only part of it",
    }
    DATES: ClassVar[Mapping[str, str]] = {"withdrawn_on": "the day consent was withdrawn"}
    withdrawn_by: str = ""
    withdrawn_on_day: str = ""
    withdrawn_on_month: str = ""
    withdrawn_on_year: str = ""
    covers: str = ""
    scope: str = Field("", max_length=2_000)
    note: str = Field("", max_length=2_000)

    def check(self) -> dict[str, str]:
        errors = super().check()
        if "withdrawn_on" not in errors:
            day = self.date("withdrawn_on")
            if day is None:
                errors["withdrawn_on"] = "Enter the day consent was withdrawn"
            elif day > datetime.now(UTC).date():
                errors["withdrawn_on"] = (
                    "The day consent was withdrawn must be today or in the past"
                )
        if self.covers == PART and blank(self.scope):
            errors["scope"] = "Enter what the withdrawal covers"
        return errors

    def body(self) -> dict[str, Any]:
        day = self.date("withdrawn_on")
        return {
            "withdrawn_by": self.withdrawn_by,
            "withdrawn_on": day.isoformat() if day else None,
            "scope": self.scope.strip() if self.covers == PART else None,
            "note": self.note.strip() or None,
        }
