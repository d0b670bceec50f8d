"""The worker's and advisor's pages over real HTTP on the real stack: what each sees (each
showing recorded), forms that keep every typed value when refused, errors in the GOV.UK
pattern, dates as day / month / year, and the decision asked one question per page with a
check of the answers before it is recorded."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
from sqlalchemy import text

from app.task_bodies import RecordDecisionBody
from app.tasks import complete
from domain.decision import TaskKind
from domain.events.access import PersonalDataViewed, ViewKind
from domain.models import Actor
from domain.vocabulary import Role
from infra.db import create_engine
from tests.api.a11y import error_ids, problems
from tests.api.stack import Stack
from tests.conftest import TestDatabase
from tests.pages.walk import (
    answer_page,
    checked,
    csrf_of,
    field_value,
    open_request,
    recorded_decision,
    selected,
    signed_in,
    summary_links,
    up_to_the_decision,
)

TYPED = "Typed once, never lost: <b>Ada</b> & co"


async def views(stack: Stack, rid: str) -> list[PersonalDataViewed]:
    recorded = await stack.store.read_correlation(uuid.UUID(rid))
    return [r.event for r in recorded if isinstance(r.event, PersonalDataViewed)]


async def steps_taken(stack: Stack, rid: str) -> list[str]:
    recorded = await stack.store.read_correlation(uuid.UUID(rid))
    return [r.event_type for r in recorded if not r.event_type.startswith("access.")]


async def test_the_worker_sees_who_the_request_is_about_and_the_view_is_recorded(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(
        http,
        stack,
        subject={"name": "Ada Example", "date_of_birth": "2017-03-14", "address": "1 Mill Lane"},
    )
    task = await up_to_the_decision(http, stack, rid)
    before = len(await views(stack, rid))
    async with signed_in(stack, "worker") as worker:
        page = await worker.get(f"/tasks/{task}")
        assert page.status_code == 200, page.text
        for shown in (
            "Ada Example",
            "14 March 2017",
            "1 Mill Lane",
            "Who the request is about",
            "Request from Children&#39;s social care",  # agencies by name
        ):
            assert shown in page.text, shown
        assert "Decision due" in page.text and (" left" in page.text or "overdue" in page.text)
        assert "Items selected" in page.text and "Domestic abuse incident" in page.text
        assert "Your decision, step by step" in page.text
        for part in ("basis", "items", "decision"):
            assert f'href="/tasks/{task}/{part}"' in page.text
        assert problems(page.text) == []
    seen = (await views(stack, rid))[before:]
    assert [(v.what, v.viewer_id) for v in seen] == [
        (ViewKind.TASK, str(stack.people["worker"].user_id))
    ]
    async with signed_in(stack, "other_worker") as other:
        refused = await other.get(f"/tasks/{task}")
        assert refused.status_code == 403 and "Ada Example" not in refused.text
    assert len(await views(stack, rid)) == before + 1  # a refusal shows and records nothing


async def test_a_refused_step_keeps_every_typed_value_and_links_each_error(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    events = await steps_taken(stack, rid)
    async with signed_in(stack, "worker") as worker:
        page = await worker.get(f"/tasks/{task}")
        refused = await worker.post(
            f"/tasks/{task}",
            data={
                "csrf_token": csrf_of(page),
                "action": "assess_purpose",
                "purpose_clear": "true",
                "confidential": "false",
                "adult_at_risk": "true",
                "compelled_kind": "statutory_duty",
                "compelled_citation": "Children Act 1989 s.47",
                "note": TYPED,
            },
        )
        assert refused.status_code == 422, refused.text
        html = refused.text
        assert field_value(html, "note") == TYPED and "<b>Ada</b>" not in html
        assert field_value(html, "compelled_citation") == "Children Act 1989 s.47"
        assert selected(html, "compelled_kind") == "statutory_duty"
        assert checked(html, "purpose_clear") == {"true"}
        assert checked(html, "confidential") == {"false"}
        assert checked(html, "adult_at_risk") == {"true"}
        # GOV.UK: the summary first, each message linked to its field, in plain words.
        assert html.index("govuk-error-summary") < html.index("<h1")
        assert summary_links(html) == ["#identifiable", "#special_category"]
        assert error_ids(html) == {"identifiable-error", "special_category-error"}
        assert 'id="identifiable"' in html and 'id="special_category"' in html
        assert "Select yes if the information identifies a living person" in html
        assert "<title>Error: " in html
        assert problems(html) == []
    assert await steps_taken(stack, rid) == events  # nothing recorded but the showings


async def test_a_domain_refusal_is_shown_at_its_item_with_every_value_kept(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    task = await up_to_the_decision(http, stack, rid)
    tomorrow = date.today() + timedelta(days=1)
    async with signed_in(stack, "worker") as worker:
        page = await worker.get(f"/tasks/{task}")
        data = {
            "csrf_token": csrf_of(page),
            "action": "select_information",
            "item-0-description": "Call-out to the home",
            "item-0-content": TYPED,
            "item-0-source": "Control room log",
            "item-0-kind": "fact",
            "item-0-dated-day": "2",
            "item-0-dated-month": "1",
            "item-0-dated-year": "2026",
            "item-1-description": "Officer's view",
            "item-1-content": "Worried about the child",
            "item-1-source": "Notes",
            "item-1-kind": "opinion",
            "item-1-dated-day": str(tomorrow.day),
            "item-1-dated-month": str(tomorrow.month),
            "item-1-dated-year": str(tomorrow.year),
            "item-1-protect_identity": "true",
        }
        refused = await worker.post(f"/tasks/{task}", data=data)
        assert refused.status_code == 422, refused.text
        html = refused.text
        assert summary_links(html) == ["#item-1-dated"], html.split("error-summary__list")[1][:600]
        assert "Item 2: the date must be today or in the past" in html
        for name, value in data.items():
            if name in ("csrf_token", "action") or name.endswith(("kind", "identity")):
                continue
            assert field_value(html, name) == value, name
        assert checked(html, "item-1-kind") == {"opinion"}
        assert checked(html, "item-1-protect_identity") == {"true"}
        assert problems(html) == []
        # A row missing its date is refused at that item, before anything is sent.
        data["item-1-dated-year"] = ""
        incomplete = await worker.post(f"/tasks/{task}", data=data)
        assert summary_links(incomplete.text) == ["#item-1-dated"]
        assert "The date of item 2 must include a year" in incomplete.text


async def test_a_date_of_birth_in_the_future_or_before_1900_is_refused_in_words(
    stack: Stack,
) -> None:
    future = date.today() + timedelta(days=3)
    cases = [
        ((str(future.day), str(future.month), str(future.year)), "must be in the past"),
        (("1", "1", "1899"), "must be on or after 1 January 1900"),
        (("31", "2", "2015"), "must be a real date"),
        (("14", "", "2015"), "must include a month"),
    ]
    async with signed_in(stack, "coordinator") as page:
        form = await page.get("/requests/new")
        for (day, month, year), words in cases:
            data = {
                "csrf_token": csrf_of(form),
                "subject_name": "Ada Example",
                "subject_dob-day": day,
                "subject_dob-month": month,
                "subject_dob-year": year,
                "subject_address": TYPED,
                "subject_kind": "child",
                "requesting_agency": stack.requester,
                "holding_agencies": [stack.holder, stack.other],
                "purpose_category": "safeguarding_welfare",
                "purpose": "Strategy discussion",
                "information_sought": "Police contact",
                "rating": "red",
                "allegation_against_staff": "true",
            }
            refused = await page.post("/requests/new", data=data)
            assert refused.status_code == 422, refused.text
            html = refused.text
            assert f"Date of birth {words}" in html, words
            assert summary_links(html) == ["#subject_dob"]
            assert 'id="subject_dob"' in html and 'name="subject_dob-day"' in html
            assert field_value(html, "subject_address") == TYPED
            assert field_value(html, "subject_dob-month") == month
            assert checked(html, "holding_agencies") == {stack.holder, stack.other}
            assert checked(html, "rating") == {"red"}
            assert checked(html, "allegation_against_staff") == {"true"}
            assert selected(html, "requesting_agency") == stack.requester
            assert problems(html) == []
        # Refused by the API's own model (the requester asked of itself): at its field, kept.
        data.update({"subject_dob-day": "14", "subject_dob-month": "3", "subject_dob-year": "2017"})
        data["holding_agencies"] = [stack.requester]
        refused = await page.post("/requests/new", data=data)
        assert refused.status_code == 422
        assert summary_links(refused.text) == ["#holding_agencies"]
        assert checked(refused.text, "holding_agencies") == {stack.requester}


async def test_the_question_pages_and_the_check_record_what_the_api_would(
    http: httpx.AsyncClient, stack: Stack, database: TestDatabase
) -> None:
    by_page = await open_request(http, stack)
    by_api = await open_request(http, stack)
    task = await up_to_the_decision(http, stack, by_page)
    api_task = await up_to_the_decision(http, stack, by_api)
    review_on = date.today() + timedelta(days=30)
    base = f"/tasks/{task}/decision"
    async with signed_in(stack, "worker") as worker:
        start = await worker.get(base)
        assert start.headers["location"] == f"{base}/outcome"
        blank = await worker.post(
            f"{base}/outcome", data={"csrf_token": csrf_of(await worker.get(f"{base}/outcome"))}
        )
        assert blank.status_code == 422 and summary_links(blank.text) == ["#outcome"]
        assert "Select whether you will share the information" in blank.text
        answers: list[tuple[str, dict[str, object]]] = [
            ("outcome", {"outcome": "share"}),
            ("reasons", {"reasons": "Bears directly on the child's safety"}),
            ("necessity", {"necessity": "Only the one incident"}),
            ("inform", {"inform_will_inform": "false"}),
            (
                "not-told",  # asked only because the person will not be told
                {
                    "inform_reason_not": "would_prejudice_investigation",
                    "inform_review_on-day": str(review_on.day),
                    "inform_review_on-month": str(review_on.month),
                    "inform_review_on-year": str(review_on.year),
                },
            ),
            ("override", {"urgent_override": "The child is at home with the suspect tonight"}),
            ("position", {"position": "Detective sergeant"}),
        ]
        url = f"{base}/outcome"
        for slug, data in answers:
            assert url == f"{base}/{slug}"
            url = await answer_page(worker, url, data)
        assert url == f"{base}/check"
        check = await worker.get(url)
        assert check.status_code == 200 and problems(check.text) == []
        for shown in ("Only the one incident", "Detective sergeant", "Would prejudice"):
            assert shown in check.text, shown
        for slug, _ in answers:
            assert f'href="{base}/{slug}?change=true"' in check.text, slug
        # Change an answer: back to the question with the answer shown, then to the check.
        change = await worker.get(f"{base}/reasons?change=true")
        assert "Bears directly on the child&#39;s safety" in change.text
        again = await worker.post(
            f"{base}/reasons?change=true",
            data={"csrf_token": csrf_of(change), "reasons": "Bears on the child's safety now"},
        )
        assert again.headers["location"] == f"{base}/check"
        # The follow-up is asked only when it is relevant: told, there is no "why not".
        told = await worker.post(
            f"{base}/inform?change=true",
            data={"csrf_token": csrf_of(change), "inform_will_inform": "true"},
        )
        assert told.headers["location"] == f"{base}/check"
        check = await worker.get(f"{base}/check")
        assert f"{base}/not-told" not in check.text and "Would prejudice" not in check.text
        assert (await worker.get(f"{base}/not-told")).status_code == 404
        not_told = await worker.post(
            f"{base}/inform?change=true",
            data={"csrf_token": csrf_of(change), "inform_will_inform": "false"},
        )
        assert not_told.headers["location"] == f"{base}/check"  # its answers were kept
        assert "Would prejudice" in (await worker.get(f"{base}/check")).text
        # The draft is kept on the server, sealed: the typed text is not in the table.
        engine = create_engine(database.admin_url, pool_size=1)
        try:
            async with engine.connect() as conn:
                sealed = (
                    (
                        await conn.execute(
                            text("SELECT sealed::text FROM form_drafts WHERE user_id = :u"),
                            {"u": stack.people["worker"].user_id},
                        )
                    )
                    .scalars()
                    .all()
                )
            assert sealed and not any("Detective sergeant" in s for s in sealed)
            check = await worker.get(url)
            recorded = await worker.post(url, data={"csrf_token": csrf_of(check)})
            assert recorded.status_code == 303, recorded.text
            assert recorded.headers["location"] == f"/tasks/{task}/done?step=record_decision"
            done = await worker.get(recorded.headers["location"])
            assert "govuk-panel--confirmation" in done.text and "Decision recorded" in done.text
            late = await worker.get(f"{base}/outcome")  # recorded: no question is asked again
            assert late.status_code == 409 and "cannot be changed" in late.text
            async with engine.connect() as conn:
                left = (
                    await conn.execute(
                        text(
                            "SELECT count(*) FROM form_drafts WHERE user_id = :u AND form_key = :k"
                        ),
                        {
                            "u": stack.people["worker"].user_id,
                            "k": f"decision:{by_page}:{stack.holder}",
                        },
                    )
                ).scalar_one()
            assert left == 0  # the decision's draft went once it was recorded
        finally:
            await engine.dispose()

    worker_actor = Actor(
        user_id=str(stack.people["worker"].user_id), role=Role.AGENCY_WORKER, agency=stack.holder
    )
    body = RecordDecisionBody.model_validate(
        {
            "action": "record_decision",
            "outcome": "share",
            "reasons": "Bears on the child's safety now",
            "necessity": "Only the one incident",
            "inform": {
                "will_inform": False,
                "reason_not": "would_prejudice_investigation",
                "review_on": review_on.isoformat(),
            },
            "urgent_override": "The child is at home with the suspect tonight",
            "position": "Detective sergeant",
        }
    )
    await complete(stack.requests, worker_actor, api_task, body)
    page_record = (await recorded_decision(stack, by_page)).record
    api_record = (await recorded_decision(stack, by_api)).record
    same = ("outcome", "not_share_reasons", "inform", "decided_by", "decided_by_position")
    for name in same:
        assert getattr(page_record, name) == getattr(api_record, name), name
    keyring = stack.requests.keyring
    for name in ("reasons", "necessity", "urgent_override"):
        mine, theirs = getattr(page_record, name), getattr(api_record, name)
        assert await keyring.open(mine) == await keyring.open(theirs), name


async def test_a_refused_decision_comes_back_to_the_check_linked_to_its_question(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    task = await up_to_the_decision(http, stack, rid)
    base = f"/tasks/{task}/decision"
    async with signed_in(stack, "worker") as worker:
        url = await answer_page(worker, f"{base}/outcome", {"outcome": "not_share"})
        url = await answer_page(worker, url, {"reasons": "Not needed after all"})
        url = await answer_page(worker, url, {"not_share_reasons": ["respecting_refusal"]})
        url = await answer_page(worker, url, {"position": ""})
        check = await worker.get(url)
        refused = await worker.post(url, data={"csrf_token": csrf_of(check)})
        assert refused.status_code == 422, refused.text
        assert "Consent was not recorded as refused, so that reason does not fit" in refused.text
        assert summary_links(refused.text) == [f"{base}/not-share?change=true"]
        assert "Not needed after all" in refused.text  # the answers are still there
        page = await worker.get(f"{base}/not-share?change=true")
        assert checked(page.text, "not_share_reasons") == {"respecting_refusal"}


async def test_a_problem_put_right_on_another_page_is_linked_there(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    task = await up_to_the_decision(http, stack, rid, items=False)
    base = f"/tasks/{task}/decision"
    async with signed_in(stack, "worker") as worker:
        url = await answer_page(worker, f"{base}/outcome", {"outcome": "share"})
        url = await answer_page(worker, url, {"reasons": "Bears on the child's safety"})
        url = await answer_page(worker, url, {"necessity": "Only the one incident"})
        url = await answer_page(worker, url, {"inform_will_inform": "true"})
        assert url == f"{base}/override"  # told: no page asking why not
        url = await answer_page(worker, url, {"urgent_override": "At home with the suspect"})
        url = await answer_page(worker, url, {"position": ""})
        check = await worker.get(url)
        refused = await worker.post(url, data={"csrf_token": csrf_of(check)})
        assert refused.status_code == 422, refused.text
        assert "Select at least one item of information to share" in refused.text
        assert summary_links(refused.text) == [f"/tasks/{task}/items#items"]
        assert problems(refused.text) == []
        items = await worker.get(f"/tasks/{task}/items")
        assert 'id="items"' in items.text
