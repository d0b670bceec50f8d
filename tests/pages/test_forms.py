"""The form layer on its own: reading dates, messages in sentences, where each of the
domain's problem codes is shown, the decision's questions and its body, and a failure kept
apart from a refusal."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from starlette.datastructures import FormData

from api.flows.decision import DECISION
from api.flows.purpose import PURPOSE
from api.forms import FAILED, FieldErrors, PageForm, Refused, attempt, read_date, sentence
from api.problem_places import PLACES
from api.request_forms import NewRequestForm
from api.task_forms import STEP_FORMS, SelectItemsForm
from app.task_bodies import AssessPurposeBody, RecordDecisionBody
from domain.decision import AgencyDecisionState
from domain.errors import InconsistentDecision, InvalidState, Problem

DOMAIN = Path(__file__).resolve().parents[2] / "domain"


def test_every_problem_code_the_rules_return_has_a_place() -> None:
    source = "\n".join(p.read_text() for p in DOMAIN.glob("*.py"))
    codes = set(re.findall(r'_p\(\s*"([a-z_0-9]+)"', source))
    assert len(codes) > 25
    assert codes - set(PLACES) == set()


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (("", "3", "2017"), "Date of birth must include a day"),
        (("", "", "2017"), "Date of birth must include a day and a month"),
        (("31", "2", "2017"), "Date of birth must be a real date"),
        (("1", "1", "17"), "Date of birth must be a real date, with a four-digit year"),
        (("a", "1", "2017"), "Date of birth must be a real date, with a four-digit year"),
    ],
)
def test_a_date_that_is_not_a_date_is_refused_in_words(
    parts: tuple[str, str, str], message: str
) -> None:
    with pytest.raises(FieldErrors) as refused:
        read_date("subject_dob", "date of birth", *parts)
    assert refused.value.errors == {"subject_dob": message}


def test_dates_read_from_the_three_boxes() -> None:
    assert read_date("d", "the date", " 2 ", "1", "2026") == date(2026, 1, 2)
    assert read_date("d", "the date", "", "", "") is None


def test_messages_read_as_sentences() -> None:
    assert sentence("Value error, the review date must be after today.") == (
        "The review date must be after today"
    )


def _new_request(**changes: str | list[str]) -> FormData:
    fields: dict[str, str | list[str]] = {
        "subject_name": "Ada",
        "subject_kind": "child",
        "requesting_agency": "csc",
        "holding_agencies": ["police"],
        "purpose_category": "safeguarding_welfare",
        "purpose": "Why",
        "information_sought": "What",
        "rating": "red",
    }
    fields.update(changes)
    return FormData(
        [(k, v) for k, vs in fields.items() for v in (vs if isinstance(vs, list) else [vs])]
    )


async def test_a_refusal_and_a_failure_both_keep_what_was_typed() -> None:
    async def refuses(_: PageForm) -> None:
        raise InconsistentDecision([Problem("no_reasons", "give at least one reason")])

    refused = await attempt(NewRequestForm, _new_request(purpose="Typed"), refuses, places=PLACES)
    assert isinstance(refused, Refused) and refused.status == 422
    assert refused.values["purpose"] == "Typed"
    assert refused.values["holding_agencies"] == ["police"]
    assert refused.errors == {"not_share_reasons": "Select at least one reason for not sharing"}

    async def closed(_: PageForm) -> None:
        raise InvalidState("this request is no longer open")

    late = await attempt(NewRequestForm, _new_request(), closed)
    assert isinstance(late, Refused) and late.status == 409
    assert late.errors == {"form": "This request is no longer open"}

    async def fails(_: PageForm) -> None:
        raise TimeoutError()

    failed = await attempt(NewRequestForm, _new_request(purpose="Kept"), fails)
    assert isinstance(failed, Refused) and failed.status == 503
    assert failed.errors == {"form": FAILED} and failed.values["purpose"] == "Kept"

    async def bug(_: PageForm) -> None:
        raise KeyError("a bug is not a refusal")

    with pytest.raises(KeyError):
        await attempt(NewRequestForm, _new_request(), bug)


async def test_blank_answers_are_refused_before_anything_runs() -> None:
    ran: list[object] = []

    async def run(form: PageForm) -> None:
        ran.append(form)

    refused = await attempt(
        NewRequestForm, _new_request(subject_name="  ", holding_agencies=[]), run
    )
    assert isinstance(refused, Refused) and ran == []
    assert set(refused.errors) == {"subject_name", "holding_agencies"}
    assert refused.errors["subject_name"].startswith("Enter the full name")


def test_each_step_form_builds_the_body_the_api_takes() -> None:
    assess = STEP_FORMS["assess_purpose"].read(
        {
            "purpose_clear": "true",
            "identifiable": "true",
            "confidential": "false",
            "special_category": "false",
            "compelled_kind": "court_order",
            "compelled_citation": "Family Court order 2026",
        }
    )
    body = assess.action_body()
    assert body.model_dump(exclude_none=True)["compelled"] == {
        "kind": "court_order",
        "citation": "Family Court order 2026",
    }
    typed = {
        "item-1-description": "Call-out",
        "item-1-content": "Attended",
        "item-1-source": "Log",
        "item-1-kind": "fact",
        "item-1-dated-day": "2",
        "item-1-dated-month": "1",
        "item-1-dated-year": "2026",
    }
    # A follow-up typed under one answer and left there when another was picked is not sent.
    basis = STEP_FORMS["determine_lawful_basis"]
    typed_basis = {"legal_power": "Children Act 2004 s.11", "life_or_death": "true"}
    kept = basis.read({"art6": "public_task", **typed_basis}).action_body()
    assert kept.model_dump()["legal_power"] is not None
    assert kept.model_dump()["life_or_death"] is False
    left = basis.read({"art6": "legal_obligation", **typed_basis}).action_body()
    assert left.model_dump()["legal_power"] is None
    vital = basis.read({"art6": "vital_interests", **typed_basis}).action_body()
    assert vital.model_dump()["life_or_death"] is True
    assert vital.model_dump()["legal_power"] is None
    items = SelectItemsForm.read(SelectItemsForm.raw(typed))
    assert items.check() == {}
    (item,) = items.action_body().model_dump()["items"]
    assert item["dated"] == date(2026, 1, 2) and item["description"] == "Call-out"


@dataclass(frozen=True)
class On:
    """A task as a flow sees it (the state is not asked of by these flows' sequences)."""

    needs_override: bool

    @property
    def state(self) -> AgencyDecisionState:
        raise AssertionError("these flows' sequences and bodies never ask for the state")


def test_the_decisions_questions_follow_the_answers() -> None:
    plain, override = On(needs_override=False), On(needs_override=True)
    assert DECISION.order({}, plain) == ["outcome", "reasons", "necessity", "inform", "position"]
    assert "override" in DECISION.order({"outcome": "share"}, override)
    assert DECISION.order({"outcome": "not_share"}, override) == [
        "outcome",
        "reasons",
        "not-share",
        "position",
    ]
    # Why the person is not told, and when to look again: asked only when they are not told.
    told = {"outcome": "share", "inform_will_inform": "true"}
    assert "not-told" not in DECISION.order(told, plain)
    not_told = {**told, "inform_will_inform": "false"}
    assert DECISION.next_after("inform", not_told, plain) == "not-told"
    assert DECISION.next_after("inform", told, plain) == "position"
    assert DECISION.next_after("reasons", {"outcome": "not_share"}, plain) == "not-share"
    assert DECISION.next_after("position", {"outcome": "share"}, plain) is None
    assert DECISION.first_unanswered({"outcome": "share", "reasons": "r"}, plain) == "necessity"
    answered = {**not_told, "reasons": "r", "necessity": "n", "position": ""}
    assert DECISION.first_unanswered(answered, plain) == "not-told"
    assert DECISION.slug_of["inform_review_on"] == "not-told"


def test_the_draft_becomes_the_apis_body() -> None:
    answers = {
        "outcome": "share",
        "reasons": "Risk",
        "necessity": "Only this",
        "inform_will_inform": "false",
        "inform_reason_not": "would_prejudice_investigation",
        "inform_review_on_day": "2",
        "inform_review_on_month": "3",
        "inform_review_on_year": "2030",
        "not_share_reasons": ["other"],  # answered before the outcome changed: not sent
        "urgent_override": "Tonight",
    }
    body = DECISION.step_body(answers, On(needs_override=False))
    assert isinstance(body, RecordDecisionBody)
    assert body.not_share_reasons == [] and body.urgent_override is None
    assert body.inform is not None and body.inform.review_on == date(2030, 3, 2)
    with_override = DECISION.step_body(answers, On(needs_override=True))
    assert isinstance(with_override, RecordDecisionBody)
    assert with_override.urgent_override == "Tonight"
    told = DECISION.step_body({**answers, "inform_will_inform": "true"}, On(False))
    assert isinstance(told, RecordDecisionBody) and told.inform is not None
    assert told.inform.reason_not is None and told.inform.review_on is None


def test_the_assessments_answers_become_the_body_the_whole_form_builds() -> None:
    answers = {
        "purpose_clear": "true",
        "identifiable": "true",
        "confidential": "false",
        "special_category": "false",
        "adult_at_risk": "true",
        "criminal_offence_data": "false",
        "compelled_kind": "none",
        "compelled_citation": "Typed before the answer changed",  # not asked now: not sent
        "note": "",
    }
    on = On(needs_override=False)
    assert "citation" not in PURPOSE.order(answers, on)
    body = PURPOSE.step_body(answers, on)
    assert isinstance(body, AssessPurposeBody)
    assert body.compelled is None and body.adult_at_risk and not body.confidential
    whole_form = {**answers, "compelled_kind": "", "compelled_citation": ""}
    whole = STEP_FORMS["assess_purpose"].read(whole_form).action_body()
    assert body == whole
    order = PURPOSE.order({**answers, "compelled_kind": "court_order"}, on)
    assert order[-2:] == ["citation", "notes"]
    compelled = PURPOSE.step_body({**answers, "compelled_kind": "court_order"}, on)
    assert isinstance(compelled, AssessPurposeBody) and compelled.compelled is not None
    assert compelled.compelled.citation == "Typed before the answer changed"


def test_every_problem_the_api_names_at_a_field_names_a_field_of_a_task_body() -> None:
    """A 422 inconsistent-decision names each problem's field of the body (``errors``):
    the field must be one a task body has, or the problem is left to ``codes`` alone."""
    from api.problem_places import body_field
    from app import task_bodies
    from app.task_bodies import Action

    bodies = [
        model
        for model in vars(task_bodies).values()
        if isinstance(model, type) and issubclass(model, Action) and model is not Action
    ]
    fields = {name for model in bodies for name in model.model_fields}
    named = {code: body_field(code) for code in PLACES}
    assert {f for f in named.values() if f} <= fields, named
    assert named["no_reasons"] == "not_share_reasons" and named["consent_unresolved"] is None
