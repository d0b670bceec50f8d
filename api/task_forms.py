"""The task pages' forms: one :class:`~api.forms.PageForm` per step, field for input.

Each form's ``body()`` is the body ``POST /api/tasks/{task_id}`` takes for that step
(``BODY`` validates it), so a page and the API complete a step through the same code.
``PLACES`` says at which field each of the domain's problem codes is shown, in words.
The decision and the assessment of the purpose are asked one question per page as well
(question flows, :mod:`api.flows`); ``AssessPurposeForm`` builds the assessment's body
for both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, cast

from pydantic import Field

from api.forms import FieldErrors, PageForm, read_date
from app.task_bodies import (
    Action,
    AssessPurposeBody,
    ConsentNotSoughtBody,
    DetermineLawfulBasisBody,
    GiveAdviceBody,
    RecordConsentBody,
    RecordInformingBody,
    RequestAdviceBody,
    SeekConsentBody,
    SelectInformationBody,
    TaskAction,
)

Short = Field("", max_length=200)
Long = Field("", max_length=10_000)
YES_NO = {"true": True, "false": False}


def _given(**fields: Any) -> dict[str, Any]:
    """The fields that were answered (blank text and unanswered choices left out)."""
    return {k: v for k, v in fields.items() if v not in ("", None, [])}


def _pair(group: str, **fields: str) -> dict[str, Any]:
    given = _given(**fields)
    return {group: given} if given else {}


class TaskForm(PageForm):
    BODY: ClassVar[type[Action]]
    ACTION: ClassVar[str]

    def action_body(self) -> TaskAction:
        """The step's body, as the API takes it."""
        return cast("TaskAction", self.BODY.model_validate({"action": self.ACTION, **self.body()}))


class AssessPurposeForm(TaskForm):
    BODY = AssessPurposeBody
    ACTION = "assess_purpose"
    REQUIRED = {
        "purpose_clear": "Select yes if there is a clear and legitimate purpose for sharing",
        "identifiable": "Select yes if the information identifies a living person",
        "confidential": "Select yes if the information is confidential",
        "special_category": "Select yes if it includes special-category data",
    }
    purpose_clear: str = ""
    identifiable: str = ""
    confidential: str = ""
    special_category: str = ""
    adult_at_risk: str = ""
    criminal_offence_data: str = ""
    compelled_kind: str = ""
    compelled_citation: str = Short
    note: str = Long

    def body(self) -> dict[str, Any]:
        answers = {k: YES_NO.get(str(getattr(self, k))) for k in self.REQUIRED}
        return {
            **answers,
            "adult_at_risk": self.adult_at_risk == "true",
            "criminal_offence_data": self.criminal_offence_data == "true",
            **_pair("compelled", kind=self.compelled_kind, citation=self.compelled_citation),
            **_given(note=self.note),
        }


class SeekConsentForm(TaskForm):
    BODY = SeekConsentBody
    ACTION = "seek_consent"
    note: str = Long

    def body(self) -> dict[str, Any]:
        return _given(note=self.note)


class ConsentNotSoughtForm(TaskForm):
    BODY = ConsentNotSoughtBody
    ACTION = "consent_not_sought"
    REQUIRED = {
        "reason": "Select why consent is not being sought",
        "explanation": "Explain, on the facts, why consent is not being sought",
    }
    reason: str = ""
    protects_relation: str = ""
    protects_kind: str = ""
    explanation: str = Long

    def body(self) -> dict[str, Any]:
        protects = _pair("protects", relation=self.protects_relation, kind=self.protects_kind)
        return {**_given(reason=self.reason, explanation=self.explanation), **protects}


class RecordConsentForm(TaskForm):
    BODY = RecordConsentBody
    ACTION = "record_consent"
    REQUIRED = {"outcome": "Select the outcome of seeking consent"}
    outcome: str = ""
    given_by: str = ""
    capacity_considered: str = ""
    scope: str = Long
    could_not_obtain_reason: str = ""
    note: str = Long

    def check(self) -> dict[str, str]:
        errors = super().check()
        if self.outcome == "given" and not self.given_by:
            errors["given_by"] = "Select who gave consent"
        if self.outcome == "given" and not self.capacity_considered:
            errors["capacity_considered"] = "Select yes if capacity or competence was considered"
        if self.outcome == "could_not_be_obtained" and not self.could_not_obtain_reason:
            errors["could_not_obtain_reason"] = "Select why consent could not be obtained"
        return errors

    def body(self) -> dict[str, Any]:
        given = self.outcome == "given"
        return _given(
            outcome=self.outcome,
            given_by=self.given_by if given else "",
            capacity_considered=YES_NO.get(self.capacity_considered) if given else None,
            scope=self.scope if given else "",
            could_not_obtain_reason=self.could_not_obtain_reason
            if self.outcome == "could_not_be_obtained"
            else "",
            note=self.note,
        )


class RequestAdviceForm(TaskForm):
    BODY = RequestAdviceBody
    ACTION = "request_advice"
    REQUIRED = {"question": "Enter your question for the advisor"}
    question: str = Long

    def body(self) -> dict[str, Any]:
        return _given(question=self.question)


class GiveAdviceForm(TaskForm):
    BODY = GiveAdviceBody
    ACTION = "give_advice"
    REQUIRED = {
        "recommendation": "Select your recommendation",
        "capacity": "Select the capacity you advise in",
        "advice": "Enter your advice and your reasons",
    }
    recommendation: str = ""
    agrees_to_share_without_consent: str = ""
    capacity: str = ""
    position: str = Short
    advice: str = Long

    def body(self) -> dict[str, Any]:
        agrees = self.agrees_to_share_without_consent == "true"
        return {
            **_given(recommendation=self.recommendation, capacity=self.capacity),
            **_given(advice=self.advice, position=self.position),
            "agrees_to_share_without_consent": agrees,
        }


class LawfulBasisForm(TaskForm):
    BODY = DetermineLawfulBasisBody
    ACTION = "determine_lawful_basis"
    REQUIRED = {"art6": "Select the Article 6 basis"}
    art6: str = ""
    life_or_death: str = ""
    art9: str = ""
    offence_condition: str = ""
    without_consent: str = ""
    protects_relation: str = ""
    protects_kind: str = ""
    instrument_kind: str = ""
    instrument_citation: str = Short
    para18_reason: str = ""
    legal_power: str = Short
    rationale: str = Long

    def body(self) -> dict[str, Any]:
        """A follow-up counts only with the answer it follows (the page hides it under that
        answer; a value typed there before another answer was picked is not sent)."""
        vital = "vital_interests" in (self.art6, self.without_consent)
        chosen = _given(
            art6=self.art6,
            art9=self.art9,
            offence_condition=self.offence_condition,
            without_consent=self.without_consent,
            para18_reason=self.para18_reason,
            legal_power=self.legal_power if self.art6 == "public_task" else "",
            rationale=self.rationale,
        )
        return {
            **chosen,
            "life_or_death": vital and self.life_or_death == "true",
            **_pair("protects", relation=self.protects_relation, kind=self.protects_kind),
            **_pair("instrument", kind=self.instrument_kind, citation=self.instrument_citation),
        }


ITEM_FIELDS = ("description", "content", "source", "kind", "historical", "protect_identity")
DATE_PARTS = ("dated_day", "dated_month", "dated_year")
"""Kept as ``item-<n>-dated_day`` (...), typed in the boxes ``item-<n>-dated-day`` (...)."""
ITEM_ROWS = 5


class SelectItemsForm(TaskForm):
    """Up to ``ITEM_ROWS`` items, each ``item-<n>-<field>``; a row left blank is no item."""

    BODY = SelectInformationBody
    ACTION = "select_information"
    rows: list[dict[str, str]] = Field(default_factory=list, max_length=ITEM_ROWS)

    @classmethod
    def raw(cls, form: Any) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for n in range(ITEM_ROWS):
            for name in ITEM_FIELDS + DATE_PARTS:
                key = f"item-{n}-{name}"
                if name in DATE_PARTS:  # typed in the box item-<n>-dated-day (...)
                    value = form.get(f"item-{n}-{name.replace('_', '-')}", form.get(key))
                else:
                    value = form.get(key)
                values[key] = value if isinstance(value, str) else ""
        return values

    @classmethod
    def read(cls, values: Mapping[str, Any]) -> SelectItemsForm:
        rows = [
            {f: str(values.get(f"item-{n}-{f}", ""))[:10_000] for f in ITEM_FIELDS + DATE_PARTS}
            for n in range(ITEM_ROWS)
        ]
        return cls(rows=rows)

    def values(self) -> dict[str, Any]:
        return {f"item-{n}-{f}": v for n, row in enumerate(self.rows) for f, v in row.items()}

    def _filled(self) -> list[tuple[int, dict[str, str]]]:
        keys = ("description", "content", "source", "kind", *DATE_PARTS)
        return [(n, r) for n, r in enumerate(self.rows) if any(r[k].strip() for k in keys)]

    def check(self) -> dict[str, str]:
        filled = self._filled()
        if not filled:
            return {"item-0-description": "Enter at least one item of information to share"}
        errors: dict[str, str] = {}
        needed = {
            "description": "Enter a description of item {n}",
            "content": "Enter the content of item {n}",
            "source": "Enter the source of item {n}",
            "kind": "Select whether item {n} is fact or opinion",
        }
        for n, row in filled:
            for name, message in needed.items():
                if not row[name].strip():
                    errors[f"item-{n}-{name}"] = message.format(n=n + 1)
            try:
                if self._dated(n, row) is None:
                    errors[f"item-{n}-dated"] = f"Enter the date of item {n + 1}"
            except FieldErrors as exc:
                errors.update(exc.errors)
        return errors

    @staticmethod
    def _dated(n: int, row: dict[str, str]) -> Any:
        parts = (row["dated_day"], row["dated_month"], row["dated_year"])
        return read_date(f"item-{n}-dated", f"the date of item {n + 1}", *parts)

    def body(self) -> dict[str, Any]:
        items = []
        for n, row in self._filled():
            dated = self._dated(n, row)
            items.append(
                {
                    **_given(description=row["description"], content=row["content"]),
                    **_given(source=row["source"], kind=row["kind"]),
                    "dated": dated.isoformat() if dated else None,
                    "historical": row["historical"] == "true",
                    "protect_identity": row["protect_identity"] == "true",
                }
            )
        return {"items": items}


class RecordInformingForm(TaskForm):
    BODY = RecordInformingBody
    ACTION = "record_informing"
    REQUIRED = {"informed": "Select yes if the person has been told"}
    DATES = {"review_on": "the date to look again"}
    informed: str = ""
    reason_not: str = ""
    review_on_day: str = ""
    review_on_month: str = ""
    review_on_year: str = ""
    note: str = Long

    def check(self) -> dict[str, str]:
        errors = super().check()
        if self.informed == "false" and not self.reason_not:
            errors["reason_not"] = "Select why the person has not been told"
        return errors

    def body(self) -> dict[str, Any]:
        review = self.date("review_on")
        told = self.informed == "true"
        return {
            **_given(informed=YES_NO.get(self.informed), note=self.note),
            **_given(reason_not="" if told else self.reason_not),
            **({"review_on": review.isoformat()} if review and not told else {}),
        }


STEP_FORMS: Mapping[str, type[TaskForm]] = {
    f.ACTION: f
    for f in (
        AssessPurposeForm,
        SeekConsentForm,
        ConsentNotSoughtForm,
        RecordConsentForm,
        RequestAdviceForm,
        GiveAdviceForm,
        LawfulBasisForm,
        SelectItemsForm,
        RecordInformingForm,
    )
}
"""The steps a task page completes with one form (the decision is asked question by
question instead)."""
